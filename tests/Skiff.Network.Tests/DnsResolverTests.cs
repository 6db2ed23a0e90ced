using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

/// <summary>The resolver in-process on 127.31.4.1 and .3 (random ports), its upstream a fake one on 127.31.4.2.</summary>
public sealed class DnsResolverTests : IDisposable
{
    private static readonly IPAddress First = IPAddress.Parse("127.31.4.1");
    private static readonly IPAddress Second = IPAddress.Parse("127.31.4.3");

    private readonly FakeUpstream _upstream = new();
    private readonly DnsResolver _resolver = new(new DnsResolverOptions { Port = 0, UpstreamTimeout = TimeSpan.FromMilliseconds(500) }, NullLogger.Instance);

    public void Dispose()
    {
        _resolver.Dispose();
        _upstream.Dispose();
    }

    private DnsRecords TwoNetworks(params string[] upstreams) => new()
    {
        Networks =
        [
            new DnsNetworkRecords
            {
                Id = "n1", Name = "skdnsone", Listen = [First.ToString()],
                Containers =
                [
                    new DnsContainerRecords { Names = ["web", "www", "0123456789ab"], IPv4 = ["10.231.4.2"], IPv6 = ["fd31:4::2"] },
                    new DnsContainerRecords { Names = ["db", "www"], IPv4 = ["10.231.4.3"] },
                ],
            },
            new DnsNetworkRecords
            {
                Id = "n2", Name = "skdnstwo", Listen = [Second.ToString()],
                Containers =
                [
                    new DnsContainerRecords { Names = ["other"], IPv4 = ["10.231.4.130"] },
                    // A container of this network only, whose address the test can send from (loopback).
                    new DnsContainerRecords { Names = ["prober"], IPv4 = ["127.31.4.5"] },
                ],
            },
        ],
        Upstreams = upstreams.Length == 0 ? [_upstream.Endpoint.ToString()] : upstreams,
    };

    private IPEndPoint On(IPAddress address) => _resolver.Listening.Single(e => e.Address.Equals(address));

    [Fact]
    public async Task AnswersContainerNamesAliasesAndShortIds()
    {
        _resolver.Apply(TwoNetworks());
        var server = On(First);
        foreach (var name in new[] { "web", "WEB.", "www.skdnsone", "0123456789AB", "web.SKDNSONE." })
        {
            var answer = await DnsTestClient.QueryAsync(server, name, DnsType.A);
            Assert.Equal(DnsResponseCode.NoError, answer.ResponseCode);
            Assert.True(answer.Authoritative);
            Assert.Contains(answer.Answers, a => a.Address!.Equals(IPAddress.Parse("10.231.4.2")));
            Assert.All(answer.Answers, a => Assert.Equal(DnsResolver.Ttl, a.Ttl));
            Assert.Equal(name, answer.Questions[0].Name.TrimEnd('.') + (name.EndsWith('.') ? "." : ""));
        }
        // An alias two containers share resolves to both.
        var shared = await DnsTestClient.QueryAsync(server, "www", DnsType.A);
        Assert.Equal(["10.231.4.2", "10.231.4.3"], shared.Answers.Select(a => a.Address!.ToString()).Order());
        var v6 = await DnsTestClient.QueryAsync(server, "web", DnsType.Aaaa);
        Assert.Equal(IPAddress.Parse("fd31:4::2"), Assert.Single(v6.Answers).Address);
        // A name with only IPv4: AAAA is NODATA, not forwarded.
        var noData = await DnsTestClient.QueryAsync(server, "db", DnsType.Aaaa);
        Assert.Equal(DnsResponseCode.NoError, noData.ResponseCode);
        Assert.Empty(noData.Answers);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task AnswersPointersForContainerAddresses()
    {
        _resolver.Apply(TwoNetworks());
        var server = On(First);
        var v4 = await DnsTestClient.QueryAsync(server, DnsZone.ReverseName(IPAddress.Parse("10.231.4.2")), DnsType.Ptr);
        Assert.Equal("web.skdnsone", Assert.Single(v4.Answers).Target);
        var v6 = await DnsTestClient.QueryAsync(server, DnsZone.ReverseName(IPAddress.Parse("fd31:4::2")), DnsType.Ptr, tcp: true);
        Assert.Equal("web.skdnsone", Assert.Single(v6.Answers).Target);
        // Another network's address is not this network's to answer: forwarded.
        var other = await DnsTestClient.QueryAsync(server, DnsZone.ReverseName(IPAddress.Parse("10.231.4.130")), DnsType.Ptr);
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task NetworksAreIsolated()
    {
        _resolver.Apply(TwoNetworks());
        var other = await DnsTestClient.QueryAsync(On(Second), "other", DnsType.A);
        Assert.Equal(IPAddress.Parse("10.231.4.130"), Assert.Single(other.Answers).Address);
        // "web" is not on the second network: the question goes upstream, whose answer is not the container's.
        var web = await DnsTestClient.QueryAsync(On(Second), "web", DnsType.A);
        Assert.Equal(FakeUpstream.Answer, Assert.Single(web.Answers).Address);
        Assert.False(web.Authoritative);
        var fromFirst = await DnsTestClient.QueryAsync(On(First), "other", DnsType.A);
        Assert.Equal(FakeUpstream.Answer, Assert.Single(fromFirst.Answers).Address);
        Assert.Equal(2, _upstream.Received.Count);
        // A container of the second network asking the first network's address is refused, over UDP and TCP.
        var prober = IPAddress.Parse("127.31.4.5");
        Assert.Equal(DnsResponseCode.Refused, (await DnsTestClient.QueryAsync(On(First), "web", DnsType.A, source: prober)).ResponseCode);
        Assert.Equal(DnsResponseCode.Refused, (await DnsTestClient.QueryAsync(On(First), "example.skdns.test", DnsType.A, tcp: true, source: prober)).ResponseCode);
        Assert.Equal(2, _upstream.Received.Count);
        Assert.Equal(IPAddress.Parse("10.231.4.130"), Assert.Single((await DnsTestClient.QueryAsync(On(Second), "other", DnsType.A, source: prober)).Answers).Address);
    }

    [Fact]
    public async Task ForwardsOtherNamesAsTheClientsBytes()
    {
        _resolver.Apply(TwoNetworks());
        var query = DnsMessageWriter.Query(0x4231, "example.skdns.test", DnsType.A, udpPayloadSize: 1232);
        var answer = DnsMessage.Parse(await DnsTestClient.ExchangeAsync(On(First), query, tcp: false));
        Assert.Equal(FakeUpstream.Answer, Assert.Single(answer.Answers).Address);
        Assert.Equal(query, Assert.Single(_upstream.Received).Query);
        Assert.False(_upstream.Received.Single().Tcp);
        // Over TCP, forwarded over TCP.
        var overTcp = await DnsTestClient.QueryAsync(On(First), "example.skdns.test", DnsType.Aaaa, tcp: true);
        Assert.Equal(FakeUpstream.Answer, Assert.Single(overTcp.Answers).Address);
        Assert.True(_upstream.Received.Last().Tcp);
    }

    [Fact]
    public async Task RetriesOverTcpWhenTheUpstreamTruncates()
    {
        _resolver.Apply(TwoNetworks());
        // A client that takes 4096 bytes over UDP gets the whole answer the resolver fetched over TCP.
        var whole = await DnsTestClient.QueryAsync(On(First), "big.skdns.test", DnsType.A, udpPayloadSize: 4096);
        Assert.False(whole.Truncated);
        Assert.Equal(40, whole.Answers.Count);
        Assert.Equal([false, true], _upstream.Received.Select(r => r.Tcp));
        // A client limited to 512 gets the truncated answer, and asks over TCP itself.
        var truncated = await DnsTestClient.QueryAsync(On(First), "big.skdns.test", DnsType.A);
        Assert.True(truncated.Truncated);
        var overTcp = await DnsTestClient.QueryAsync(On(First), "big.skdns.test", DnsType.A, tcp: true);
        Assert.Equal(40, overTcp.Answers.Count);
    }

    [Fact]
    public async Task ServerFailureWhenEveryUpstreamFails()
    {
        using var silent = new FakeUpstream(silent: true);
        // Nothing listens on .4's port: refused at once; the silent one times out; then SERVFAIL.
        _resolver.Apply(TwoNetworks($"127.31.4.4:{silent.Endpoint.Port}", silent.Endpoint.ToString()));
        var watch = Stopwatch.StartNew();
        var answer = await DnsTestClient.QueryAsync(On(First), "example.skdns.test", DnsType.A);
        Assert.Equal(DnsResponseCode.ServerFailure, answer.ResponseCode);
        Assert.Equal("example.skdns.test", answer.Questions[0].Name);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        // An upstream's SERVFAIL moves on to the next one.
        _resolver.Apply(TwoNetworks(_upstream.Endpoint.ToString(), _upstream.Endpoint.ToString()));
        var failed = await DnsTestClient.QueryAsync(On(First), "fail.skdns.test", DnsType.A);
        Assert.Equal(DnsResponseCode.ServerFailure, failed.ResponseCode);
        Assert.Equal(2, _upstream.Received.Count);
        // A REFUSED moves on too, and the next upstream's answer is relayed.
        using var refusing = new FakeUpstream(refuseAll: true);
        _resolver.Apply(TwoNetworks(refusing.Endpoint.ToString(), _upstream.Endpoint.ToString()));
        var next = await DnsTestClient.QueryAsync(On(First), "example.skdns.test", DnsType.A);
        Assert.Equal(FakeUpstream.Answer, Assert.Single(next.Answers).Address);
        Assert.Single(refusing.Received);
        // No upstream at all: SERVFAIL too, but container names still resolve.
        _resolver.Apply(TwoNetworks() with { Upstreams = [] });
        Assert.Equal(DnsResponseCode.ServerFailure, (await DnsTestClient.QueryAsync(On(First), "example.skdns.test", DnsType.A)).ResponseCode);
        Assert.Single((await DnsTestClient.QueryAsync(On(First), "db", DnsType.A)).Answers);
    }

    [Fact]
    public async Task MalformedQueriesGetFormatErrorOrNothing()
    {
        _resolver.Apply(TwoNetworks());
        var formatError = DnsMessage.Parse(await DnsTestClient.ExchangeAsync(On(First), [0x42, 0x31, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0], tcp: false));
        Assert.Equal((0x4231, DnsResponseCode.FormatError), (formatError.Id, formatError.ResponseCode));
        // Two questions: FORMERR; a notify (opcode 4): NOTIMP.
        var two = DnsMessageWriter.Query(9, "web", DnsType.A);
        two[5] = 2;
        two = [.. two, .. two[12..]];
        Assert.Equal(DnsResponseCode.FormatError, DnsMessage.Parse(await DnsTestClient.ExchangeAsync(On(First), two, tcp: true)).ResponseCode);
        var notify = DnsMessageWriter.Query(9, "web", DnsType.A);
        notify[2] |= 4 << 3;
        Assert.Equal(DnsResponseCode.NotImplemented, DnsMessage.Parse(await DnsTestClient.ExchangeAsync(On(First), notify, tcp: false)).ResponseCode);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task ListenersFollowTheNetworks()
    {
        var records = TwoNetworks();
        _resolver.Apply(records with { Networks = [records.Networks[0]] });
        Assert.Equal([First], _resolver.Listening.Select(e => e.Address));
        var firstPort = On(First);
        _resolver.Apply(records);
        Assert.Equal(2, _resolver.Listening.Count);
        Assert.Equal(firstPort, On(First));
        _resolver.Apply(records with { Networks = [records.Networks[1]] });
        Assert.Equal([Second], _resolver.Listening.Select(e => e.Address));
        // The first address's port is closed: nothing answers there any more.
        await Assert.ThrowsAnyAsync<Exception>(() => DnsTestClient.QueryAsync(firstPort, "web", DnsType.A, tcp: true));
        // Invalid records change nothing.
        Assert.Throws<DnsException>(() => _resolver.Apply(records with { Upstreams = ["nowhere"] }));
        Assert.Single((await DnsTestClient.QueryAsync(On(Second), "other", DnsType.A)).Answers);
    }

    /// <summary>Query latency: the figures in docs/networking.md, "DNS" (run with the output shown).</summary>
    [Fact]
    public async Task Latency()
    {
        _resolver.Apply(TwoNetworks());
        var server = On(First);
        async Task<double> Median(string name)
        {
            for (int i = 0; i < 200; i++)
                await DnsTestClient.QueryAsync(server, name, DnsType.A);
            var samples = new List<double>();
            for (int i = 0; i < 2000; i++)
            {
                var watch = Stopwatch.StartNew();
                await DnsTestClient.QueryAsync(server, name, DnsType.A);
                samples.Add(watch.Elapsed.TotalMicroseconds);
            }
            samples.Sort();
            Console.WriteLine($"DNS latency {name}: median {samples[samples.Count / 2]:F0} us, p99 {samples[samples.Count * 99 / 100]:F0} us");
            return samples[samples.Count / 2];
        }
        var local = await Median("web");
        var forwarded = await Median("example.skdns.test");
        Assert.True(local < 5000 && forwarded < 10000, $"local {local} us, forwarded {forwarded} us");
    }
}
