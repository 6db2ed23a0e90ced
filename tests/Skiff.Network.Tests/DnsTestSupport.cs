using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

/// <summary>A DNS client for tests: one query over UDP or TCP to an endpoint the test owns.</summary>
internal static class DnsTestClient
{
    private static int _id = Random.Shared.Next(ushort.MaxValue);

    public static async Task<DnsMessage> QueryAsync(IPEndPoint server, string name, ushort type, bool tcp = false, ushort? udpPayloadSize = null, IPAddress? source = null)
    {
        var query = DnsMessageWriter.Query((ushort)Interlocked.Increment(ref _id), name, type, udpPayloadSize);
        var answer = await ExchangeAsync(server, query, tcp, source);
        var message = DnsMessage.Parse(answer);
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(query), message.Id);
        return message;
    }

    public static async Task<byte[]> ExchangeAsync(IPEndPoint server, byte[] query, bool tcp, IPAddress? source = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        if (!tcp)
        {
            using var udp = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            if (source is not null)
                udp.Bind(new IPEndPoint(source, 0));
            await udp.ConnectAsync(server, timeout.Token);
            await udp.SendAsync(query, SocketFlags.None, timeout.Token);
            var buffer = new byte[65535];
            int n = await udp.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return buffer[..n];
        }
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (source is not null)
            socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(server, timeout.Token);
        var frame = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)query.Length);
        query.CopyTo(frame, 2);
        await socket.SendAsync(frame, SocketFlags.None, timeout.Token);
        var prefix = new byte[2];
        await ReceiveExactlyAsync(socket, prefix, timeout.Token);
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await ReceiveExactlyAsync(socket, message, timeout.Token);
        return message;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken token)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, token);
            if (n == 0)
                throw new IOException("closed");
            read += n;
        }
    }
}

/// <summary>
/// An upstream resolver the test runs on 127.31.4.2 (UDP and TCP, one random port): every A question is answered
/// with <see cref="Answer"/>; names starting with "big." are truncated over UDP and answered whole over TCP; names
/// starting with "fail." get SERVFAIL. It remembers what it was asked, and how.
/// </summary>
internal sealed class FakeUpstream : IDisposable
{
    public static readonly IPAddress Address = IPAddress.Parse("127.31.4.2");
    public static readonly IPAddress Answer = IPAddress.Parse("10.231.4.99");

    private readonly Socket _udp = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Socket _tcp = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();

    private readonly bool _refuseAll;

    /// <summary><paramref name="silent"/>: never answers; <paramref name="refuseAll"/>: answers REFUSED to everything.</summary>
    public FakeUpstream(bool silent = false, bool refuseAll = false)
    {
        _refuseAll = refuseAll;
        _udp.Bind(new IPEndPoint(Address, 0));
        Endpoint = (IPEndPoint)_udp.LocalEndPoint!;
        _tcp.Bind(Endpoint);
        _tcp.Listen(16);
        if (!silent)
        {
            _ = ServeUdpAsync();
            _ = ServeTcpAsync();
        }
    }

    public IPEndPoint Endpoint { get; }
    public ConcurrentQueue<(byte[] Query, bool Tcp)> Received { get; } = new();

    private byte[] Respond(byte[] query, bool tcp)
    {
        Received.Enqueue((query, tcp));
        var parsed = DnsMessage.Parse(query);
        var name = parsed.Questions[0].Name;
        if (_refuseAll)
            return DnsMessageWriter.Response(query, parsed, DnsResponseCode.Refused, [], false, 65535);
        if (name.StartsWith("fail.", StringComparison.Ordinal))
            return DnsMessageWriter.Response(query, parsed, DnsResponseCode.ServerFailure, [], false, 65535);
        if (name.StartsWith("big.", StringComparison.Ordinal))
        {
            // Over UDP: truncated (the answers left out); over TCP: 40 addresses, more than 512 bytes.
            var many = Enumerable.Range(1, 40).Select(i => DnsAnswer.ForAddress(IPAddress.Parse($"10.231.4.{i}"), 30)).ToList();
            return DnsMessageWriter.Response(query, parsed, DnsResponseCode.NoError, many, false, tcp ? 65535 : 100);
        }
        return DnsMessageWriter.Response(query, parsed, DnsResponseCode.NoError, [DnsAnswer.ForAddress(Answer, 30)], false, 65535);
    }

    private async Task ServeUdpAsync()
    {
        var buffer = new byte[65535];
        try
        {
            while (true)
            {
                var received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                await _udp.SendToAsync(Respond(buffer[..received.ReceivedBytes], tcp: false), SocketFlags.None, received.RemoteEndPoint, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeTcpAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _tcp.AcceptAsync(_stop.Token);
                var prefix = new byte[2];
                await client.ReceiveAsync(prefix, SocketFlags.None, _stop.Token);
                var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                for (int read = 0; read < query.Length;)
                    read += await client.ReceiveAsync(query.AsMemory(read), SocketFlags.None, _stop.Token);
                var answer = Respond(query, tcp: true);
                var frame = new byte[2 + answer.Length];
                BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)answer.Length);
                answer.CopyTo(frame, 2);
                await client.SendAsync(frame, SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Dispose();
    }
}
