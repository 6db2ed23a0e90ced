using System.Diagnostics;
using System.Net;
using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

/// <summary>
/// The resolver as a container sees it: a bridge skdns0 (10.231.4.1/24, fd31:4::1/64), a network namespace the test
/// makes with 10.231.4.2 and fd31:4::2 on a veth into it, and busybox's nslookup in that namespace asking the gateway
/// addresses on port 53. The test makes the links with `ip` (the product never does) and removes them in every case.
/// Needs root.
/// </summary>
public sealed class DnsNamespaceTests : IDisposable
{
    private const string Bridge = "skdns0";
    private readonly string _netns = $"skdns-{Environment.ProcessId}";
    private readonly string _runRoot = Directory.CreateTempSubdirectory("skdns-netns-").FullName;
    private readonly FakeUpstream _upstream = new();

    public DnsNamespaceTests()
    {
        try
        {
            Ip($"netns add {_netns}");
            Ip($"link add {Bridge} type bridge");
            Ip($"addr add 10.231.4.1/24 dev {Bridge}");
            // With duplicate address detection, as the engine's bridges have it: the resolver binds it while tentative.
            Ip($"addr add fd31:4::1/64 dev {Bridge}");
            Ip($"link set {Bridge} up");
            Ip($"link add skdnsh{Environment.ProcessId % 10000} type veth peer name skdnsc netns {_netns}");
            Ip($"link set skdnsh{Environment.ProcessId % 10000} master {Bridge} up");
            Ip($"-n {_netns} addr add 10.231.4.2/24 dev skdnsc");
            Ip($"-n {_netns} addr add fd31:4::2/64 dev skdnsc nodad");
            Ip($"-n {_netns} link set skdnsc up");
            Ip($"-n {_netns} link set lo up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Run("ip", $"netns del {_netns}", check: false);
        Run("ip", $"link del {Bridge}", check: false);
        _upstream.Dispose();
        Directory.Delete(_runRoot, recursive: true);
    }

    private static void Ip(string arguments) => Run("ip", arguments);

    private static string Run(string program, string arguments, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException($"{program} {arguments} did not finish");
        }
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {arguments}: exit {process.ExitCode}: {error.Result}{output.Result}");
        return output.Result + error.Result;
    }

    [Fact]
    public async Task AContainerResolvesItsNetworkByNameAndTheRestUpstream()
    {
        DnsRecordsFile.Write(DnsRecordsFile.PathIn(_runRoot), new DnsRecords
        {
            Networks =
            [
                new DnsNetworkRecords
                {
                    Id = "n1", Name = "skdnsnet", Listen = ["10.231.4.1", "fd31:4::1"],
                    Containers = [new DnsContainerRecords { Names = ["web", "www", "0123456789ab"], IPv4 = ["10.231.4.2"], IPv6 = ["fd31:4::2"] }],
                },
            ],
            Upstreams = [_upstream.Endpoint.ToString()],
        });
        using var stop = new CancellationTokenSource();
        var logger = new ListLogger();
        var resolver = Task.Run(() => DnsResolverHost.Run(_runRoot, new DnsResolverHostOptions { GracePeriod = TimeSpan.FromMinutes(1) }, logger, stop.Token));
        try
        {
            var server = new IPEndPoint(IPAddress.Parse("10.231.4.1"), 53);
            await DnsResolverHostTests.Eventually(async () => await DnsResolverHostTests.ResolveAsync(server, "web") is not null, "the resolver listening on 10.231.4.1:53");
            foreach (var name in new[] { "web", "www.skdnsnet", "0123456789ab" })
            {
                var output = Run("nsenter", $"--net=/run/netns/{_netns} /bin/busybox nslookup {name} 10.231.4.1");
                Assert.Contains("Address: 10.231.4.2", output);
            }
            // Over IPv6 to the gateway's IPv6 address (once its duplicate address detection is over).
            await DnsResolverHostTests.Eventually(() => Task.FromResult(Run("nsenter", $"--net=/run/netns/{_netns} /bin/busybox nslookup web fd31:4::1", check: false).Contains("Address: fd31:4::2")), "web's AAAA over IPv6");
            var reverse = Run("nsenter", $"--net=/run/netns/{_netns} /bin/busybox nslookup 10.231.4.2 10.231.4.1");
            Assert.Contains("web.skdnsnet", reverse);
            var forwarded = Run("nsenter", $"--net=/run/netns/{_netns} /bin/busybox nslookup example.skdns.test 10.231.4.1");
            Assert.Contains($"Address: {FakeUpstream.Answer}", forwarded);
            Assert.Contains(_upstream.Received, r => DnsMessage.Parse(r.Query).Questions[0].Name == "example.skdns.test");
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await resolver.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.DoesNotContain(logger.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal));
    }
}
