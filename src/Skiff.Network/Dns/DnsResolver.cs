using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Skiff.Network.Dns;

/// <summary>Settings of a <see cref="DnsResolver"/>; the defaults are the product's, tests change the port.</summary>
public sealed record DnsResolverOptions
{
    /// <summary>Port of every listener; 0 picks a free one per address (tests), the same for UDP and TCP.</summary>
    public int Port { get; init; } = 53;

    /// <summary>How long one upstream has to answer before the next is asked.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a TCP client may stay idle between queries before it is disconnected.</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The DNS server of user networks. It listens (UDP and TCP) only on the addresses the records give each network,
/// never on a wildcard, and answers a query from the containers of the network whose address it arrived on, so
/// networks stay isolated as in docker. A/AAAA for container names, aliases and short ids (and NAME.NETWORK), PTR for
/// container addresses, with docker's TTL of 600 s; every other question is forwarded to the upstreams as the
/// client's own bytes (EDNS untouched), and the upstream's answer relayed.
/// </summary>
public sealed class DnsResolver : IDisposable
{
    /// <summary>The TTL of local answers: libnetwork's resolver answers with 600 seconds.</summary>
    public const uint Ttl = 600;
    /// <summary>Queries being forwarded at once, and TCP clients at once: beyond them, new ones are dropped (bounded memory).</summary>
    public const int MaxInFlight = 256;
    public const int MaxTcpClients = 64;

    /// <summary>The zones by listen address, the upstreams, and every container address of every network.</summary>
    private sealed record Snapshot(IReadOnlyDictionary<IPAddress, DnsZone> Zones, IReadOnlyList<IPEndPoint> Upstreams, IReadOnlySet<IPAddress> Containers);

    private readonly DnsResolverOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Listener> _listeners = [];
    private readonly SemaphoreSlim _forwarding = new(MaxInFlight);
    private readonly SemaphoreSlim _tcpClients = new(MaxTcpClients);
    private volatile Snapshot _snapshot = new(new Dictionary<IPAddress, DnsZone>(), [], new HashSet<IPAddress>());
    private bool _disposed;

    public DnsResolver(DnsResolverOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    /// <summary>The endpoints listened on now (each serves UDP and TCP).</summary>
    public IReadOnlyList<IPEndPoint> Listening
    {
        get
        {
            lock (_lock)
                return [.. _listeners.Values.Select(l => l.Endpoint)];
        }
    }

    /// <summary>
    /// Serves <paramref name="records"/> from now on: answers change at once; listeners are opened for new addresses
    /// and closed for addresses gone. An address that cannot be bound is logged and tried again at the next call.
    /// </summary>
    /// <exception cref="DnsException">InvalidArgument: the records are not valid; the previous ones stay.</exception>
    public void Apply(DnsRecords records)
    {
        records.Validate();
        var zones = new Dictionary<IPAddress, DnsZone>();
        foreach (var network in records.Networks)
        {
            var zone = new DnsZone(network);
            foreach (var listen in network.Listen)
                zones[IPAddress.Parse(listen)] = zone;
        }
        _snapshot = new Snapshot(zones, records.UpstreamEndpoints(), zones.Values.SelectMany(z => z.Members).ToHashSet());
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (var gone in _listeners.Keys.Where(a => !zones.ContainsKey(a)).ToList())
            {
                _listeners[gone].Dispose();
                _listeners.Remove(gone);
            }
            foreach (var address in zones.Keys.Where(a => !_listeners.ContainsKey(a)))
            {
                try
                {
                    var listener = Listener.Open(address, _options.Port);
                    _listeners[address] = listener;
                    _ = ServeUdpAsync(listener);
                    _ = ServeTcpAsync(listener);
                }
                catch (SocketException e)
                {
                    _logger.LogWarning("cannot listen for DNS queries on {Address} port {Port}: {Error}; trying again at the next change of the records", address, _options.Port, e.Message);
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var listener in _listeners.Values)
                listener.Dispose();
            _listeners.Clear();
        }
    }

    /// <summary>
    /// The response to <paramref name="query"/> from <paramref name="client"/> that arrived on
    /// <paramref name="listenAddress"/>: a local answer, an upstream's, an error; null to drop it (a response, or bytes
    /// without a readable header). A container of other networks only, asking this network's address (its gateway is
    /// a host address, reachable unless the firewall says otherwise), is REFUSED: its names are not that container's
    /// to learn, as in docker, where each container's resolver knows only the container's networks.
    /// </summary>
    internal async ValueTask<byte[]?> AnswerAsync(byte[] query, IPAddress client, IPAddress listenAddress, bool overTcp, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        int maxSize = overTcp ? DnsMessage.MaxSize : 512;
        DnsMessage parsed;
        try
        {
            parsed = DnsMessage.Parse(query);
        }
        catch (DnsFormatException)
        {
            return DnsMessageWriter.FormatError(query);
        }
        if (parsed.IsResponse)
            return null;
        if (parsed.Opcode != 0)
            return DnsMessageWriter.Response(query, parsed, DnsResponseCode.NotImplemented, [], authoritative: false, maxSize);
        if (parsed.Questions.Count != 1)
            return DnsMessageWriter.Response(query, parsed, DnsResponseCode.FormatError, [], authoritative: false, maxSize);
        var question = parsed.Questions[0];
        if (snapshot.Containers.Contains(client) && !(snapshot.Zones.TryGetValue(listenAddress, out var own) && own.HasMember(client)))
            return DnsMessageWriter.Response(query, parsed, DnsResponseCode.Refused, [], authoritative: false, maxSize);
        if (question.Class == DnsType.ClassInternet && snapshot.Zones.TryGetValue(listenAddress, out var zone))
        {
            if (question.Type is DnsType.A or DnsType.Aaaa
                && zone.Addresses(question.Name, question.Type == DnsType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6) is { } addresses)
                return DnsMessageWriter.Response(query, parsed, DnsResponseCode.NoError, [.. addresses.Select(a => DnsAnswer.ForAddress(a, Ttl))], authoritative: true, maxSize);
            if (question.Type == DnsType.Ptr && zone.Pointer(question.Name) is { } target)
                return DnsMessageWriter.Response(query, parsed, DnsResponseCode.NoError, [DnsAnswer.ForPointer(target, Ttl)], authoritative: true, maxSize);
        }
        if (!_forwarding.Wait(0))
            return null;
        try
        {
            return await ForwardAsync(query, parsed, overTcp, snapshot.Upstreams, cancellationToken);
        }
        finally
        {
            _forwarding.Release();
        }
    }

    /// <summary>
    /// Asks each upstream in turn, each within the timeout: over UDP for a UDP client, again over TCP when the
    /// answer is truncated (relayed when it fits the client's UDP size, else the truncated one is, and the client
    /// retries over TCP), over TCP for a TCP client. An upstream's SERVFAIL or REFUSED moves on to the next, as
    /// docker's resolver does; when none answers otherwise, SERVFAIL.
    /// </summary>
    private async Task<byte[]> ForwardAsync(byte[] query, DnsMessage parsed, bool overTcp, IReadOnlyList<IPEndPoint> upstreams, CancellationToken cancellationToken)
    {
        foreach (var upstream in upstreams)
        {
            try
            {
                var answer = overTcp ? await ExchangeTcpAsync(upstream, query, cancellationToken) : await ExchangeUdpAsync(upstream, query, cancellationToken);
                if (!overTcp && (answer[2] & 0x02) != 0)
                {
                    try
                    {
                        var whole = await ExchangeTcpAsync(upstream, query, cancellationToken);
                        if (whole.Length <= parsed.UdpPayloadLimit)
                            answer = whole;
                    }
                    catch (Exception e) when (e is SocketException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
                    {
                        _logger.LogDebug("upstream {Upstream} over TCP: {Error}", upstream, e.Message);
                    }
                }
                if ((DnsResponseCode)(answer[3] & 0xF) is DnsResponseCode.ServerFailure or DnsResponseCode.Refused)
                {
                    _logger.LogDebug("upstream {Upstream} answered {Code}", upstream, (DnsResponseCode)(answer[3] & 0xF));
                    continue;
                }
                return answer;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
            {
                _logger.LogDebug("upstream {Upstream} did not answer: {Error}", upstream, e.Message);
            }
        }
        return DnsMessageWriter.Response(query, parsed, DnsResponseCode.ServerFailure, [], authoritative: false, overTcp ? DnsMessage.MaxSize : 512);
    }

    /// <summary>One UDP exchange from a fresh socket (a random source port per query); answers with another id are ignored.</summary>
    private async Task<byte[]> ExchangeUdpAsync(IPEndPoint upstream, byte[] query, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.UpstreamTimeout);
        using var socket = new Socket(upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(upstream, timeout.Token);
        await socket.SendAsync(query, SocketFlags.None, timeout.Token);
        var buffer = new byte[DnsMessage.MaxSize];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (IsAnswerTo(buffer.AsSpan(0, n), query))
                return buffer[..n];
        }
    }

    private async Task<byte[]> ExchangeTcpAsync(IPEndPoint upstream, byte[] query, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.UpstreamTimeout);
        using var socket = new Socket(upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(upstream, timeout.Token);
        await WriteFrameAsync(socket, query, timeout.Token);
        var answer = await ReadFrameAsync(socket, timeout.Token) ?? throw new IOException($"{upstream} closed the connection without answering");
        return IsAnswerTo(answer, query) ? answer : throw new IOException($"{upstream} answered another query");
    }

    private static bool IsAnswerTo(ReadOnlySpan<byte> answer, ReadOnlySpan<byte> query)
        => answer.Length >= DnsMessage.HeaderSize && answer[0] == query[0] && answer[1] == query[1] && (answer[2] & 0x80) != 0;

    private async Task ServeUdpAsync(Listener listener)
    {
        var buffer = new byte[DnsMessage.MaxSize];
        EndPoint any = new IPEndPoint(listener.Endpoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!listener.Stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await listener.Udp.ReceiveFromAsync(buffer, SocketFlags.None, any, listener.Stopping);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogDebug("DNS on {Endpoint}: {Error}", listener.Endpoint, e.Message);
                continue;
            }
            var query = buffer[..received.ReceivedBytes];
            var client = received.RemoteEndPoint;
            var pending = AnswerAsync(query, ((IPEndPoint)client).Address, listener.Endpoint.Address, overTcp: false, listener.Stopping);
            if (pending.IsCompletedSuccessfully)
                Reply(listener, pending.Result, client);
            else
                _ = ReplyLaterAsync(listener, pending, client);
        }
    }

    private async Task ReplyLaterAsync(Listener listener, ValueTask<byte[]?> pending, EndPoint client)
    {
        try
        {
            Reply(listener, await pending, client);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            _logger.LogWarning("DNS on {Endpoint}: a query from {Client} failed: {Error}", listener.Endpoint, client, e.Message);
        }
    }

    private void Reply(Listener listener, byte[]? response, EndPoint client)
    {
        if (response is null)
            return;
        try
        {
            listener.Udp.SendTo(response, SocketFlags.None, client);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _logger.LogDebug("DNS on {Endpoint}: cannot answer {Client}: {Error}", listener.Endpoint, client, e.Message);
        }
    }

    private async Task ServeTcpAsync(Listener listener)
    {
        while (!listener.Stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Tcp.AcceptAsync(listener.Stopping);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogDebug("DNS on {Endpoint}: {Error}", listener.Endpoint, e.Message);
                continue;
            }
            if (!_tcpClients.Wait(0))
            {
                client.Dispose();
                continue;
            }
            _ = ServeTcpClientAsync(listener, client);
        }
    }

    /// <summary>Queries of one TCP client, one after another (RFC 7766 allows pipelining; answering in order is enough).</summary>
    private async Task ServeTcpClientAsync(Listener listener, Socket client)
    {
        try
        {
            using (client)
            {
                while (true)
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(listener.Stopping);
                    idle.CancelAfter(_options.TcpIdleTimeout);
                    var query = await ReadFrameAsync(client, idle.Token);
                    if (query is null)
                        return;
                    var response = await AnswerAsync(query, ((IPEndPoint)client.RemoteEndPoint!).Address, listener.Endpoint.Address, overTcp: true, listener.Stopping);
                    if (response is null)
                        return;
                    await WriteFrameAsync(client, response, listener.Stopping);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            _tcpClients.Release();
        }
    }

    /// <summary>One length-prefixed message (RFC 1035 4.2.2); null at a clean end of stream.</summary>
    private static async Task<byte[]?> ReadFrameAsync(Socket socket, CancellationToken cancellationToken)
    {
        var prefix = new byte[2];
        if (!await ReceiveExactlyAsync(socket, prefix, cancellationToken, endAllowed: true))
            return null;
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await ReceiveExactlyAsync(socket, message, cancellationToken, endAllowed: false);
        return message;
    }

    private static async Task<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken, bool endAllowed)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken);
            if (n == 0)
                return read == 0 && endAllowed ? false : throw new IOException("the connection closed inside a DNS message");
            read += n;
        }
        return true;
    }

    private static async Task WriteFrameAsync(Socket socket, byte[] message, CancellationToken cancellationToken)
    {
        var frame = new byte[2 + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)message.Length);
        message.CopyTo(frame, 2);
        int sent = 0;
        while (sent < frame.Length)
            sent += await socket.SendAsync(frame.AsMemory(sent), SocketFlags.None, cancellationToken);
    }

    /// <summary>A UDP and a TCP socket on one address and port.</summary>
    private sealed class Listener : IDisposable
    {
        // IP_FREEBIND (IPPROTO_IP 15) and IPV6_FREEBIND (IPPROTO_IPV6 78), the same on every Linux architecture: bind
        // a gateway address that is not (yet) usable, an IPv6 one still in duplicate address detection among them.
        private const int IpFreeBind = 15;
        private const int Ipv6FreeBind = 78;

        private readonly CancellationTokenSource _stop = new();

        private Listener(Socket udp, Socket tcp)
        {
            Udp = udp;
            Tcp = tcp;
            Endpoint = (IPEndPoint)udp.LocalEndPoint!;
        }

        public Socket Udp { get; }
        public Socket Tcp { get; }
        public IPEndPoint Endpoint { get; }
        public CancellationToken Stopping => _stop.Token;

        public static Listener Open(IPAddress address, int port)
        {
            var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                foreach (var socket in new[] { udp, tcp })
                {
                    if (address.AddressFamily == AddressFamily.InterNetworkV6)
                        socket.SetRawSocketOption(41 /* IPPROTO_IPV6 */, Ipv6FreeBind, BitConverter.GetBytes(1));
                    else
                        socket.SetRawSocketOption(0 /* IPPROTO_IP */, IpFreeBind, BitConverter.GetBytes(1));
                }
                // A resolver restarted right after the previous one exited must not wait out its TIME_WAIT connections.
                tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                udp.Bind(new IPEndPoint(address, port));
                tcp.Bind(new IPEndPoint(address, ((IPEndPoint)udp.LocalEndPoint!).Port));
                tcp.Listen(128);
                return new Listener(udp, tcp);
            }
            catch
            {
                udp.Dispose();
                tcp.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            Udp.Dispose();
            Tcp.Dispose();
        }
    }
}
