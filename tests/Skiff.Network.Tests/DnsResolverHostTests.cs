using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

/// <summary>The resolver process's loop, run in-process on 127.31.4.1 and .3 with a port the test picked.</summary>
public sealed class DnsResolverHostTests : IDisposable
{
    private readonly string _runRoot = Directory.CreateTempSubdirectory("skdns-host-").FullName;
    private readonly FakeUpstream _upstream = new();

    public void Dispose()
    {
        _upstream.Dispose();
        Directory.Delete(_runRoot, recursive: true);
    }

    /// <summary>A port free on 127.31.4.1 and .3 for UDP and TCP now (the test's own addresses, so only its own tests race for it).</summary>
    internal static int FreePort()
    {
        while (true)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            probe.Bind(new IPEndPoint(IPAddress.Parse("127.31.4.1"), 0));
            int port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            try
            {
                foreach (var address in new[] { "127.31.4.1", "127.31.4.3" })
                {
                    using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    tcp.Bind(new IPEndPoint(IPAddress.Parse(address), port));
                }
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    internal static DnsRecords Records(IPEndPoint upstream, string webAddress, bool secondNetwork = false)
    {
        var networks = new List<DnsNetworkRecords>
        {
            new() { Id = "n1", Name = "skdnsone", Listen = ["127.31.4.1"], Containers = [new DnsContainerRecords { Names = ["web"], IPv4 = [webAddress] }] },
        };
        if (secondNetwork)
            networks.Add(new DnsNetworkRecords { Id = "n2", Name = "skdnstwo", Listen = ["127.31.4.3"], Containers = [new DnsContainerRecords { Names = ["other"], IPv4 = ["10.231.4.130"] }] });
        return new DnsRecords { Networks = networks, Upstreams = [upstream.ToString()] };
    }

    internal static async Task<IPAddress?> ResolveAsync(IPEndPoint server, string name)
    {
        try
        {
            var answer = await DnsTestClient.QueryAsync(server, name, DnsType.A, tcp: true);
            return answer.Answers.FirstOrDefault()?.Address;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    internal static async Task Eventually(Func<Task<bool>> condition, string what, double seconds = 10)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(seconds), $"not within {seconds} s: {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ReloadsWhenTheRecordsChangeAndKeepsTheLastGoodOnes()
    {
        int port = FreePort();
        var first = new IPEndPoint(IPAddress.Parse("127.31.4.1"), port);
        var second = new IPEndPoint(IPAddress.Parse("127.31.4.3"), port);
        var path = DnsRecordsFile.PathIn(_runRoot);
        DnsRecordsFile.Write(path, Records(_upstream.Endpoint, "10.231.4.2"));
        var logger = new ListLogger();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => DnsResolverHost.Run(_runRoot, new DnsResolverHostOptions { Port = port, GracePeriod = TimeSpan.FromMinutes(1) }, logger, stop.Token));
        try
        {
            await Eventually(async () => Equals(await ResolveAsync(first, "web"), IPAddress.Parse("10.231.4.2")), "web answered");
            Assert.Equal(Environment.ProcessId, DnsResolverProcess.RunningPid(_runRoot));

            DnsRecordsFile.Write(path, Records(_upstream.Endpoint, "10.231.4.5", secondNetwork: true));
            await Eventually(async () => Equals(await ResolveAsync(first, "web"), IPAddress.Parse("10.231.4.5")), "web's new address answered");
            await Eventually(async () => Equals(await ResolveAsync(second, "other"), IPAddress.Parse("10.231.4.130")), "the new network answered");

            // A broken file, put in place as the engine does (rename): the last good records stay, and why is logged.
            var broken = path + ".broken";
            File.WriteAllText(broken, "{\"Networks\": [");
            File.Move(broken, path, overwrite: true);
            await Eventually(() => Task.FromResult(logger.Lines.Any(l => l.Contains("is not valid") && l.Contains(path))), "the broken file logged");
            Assert.Equal(IPAddress.Parse("10.231.4.5"), await ResolveAsync(first, "web"));
            Assert.Equal(IPAddress.Parse("10.231.4.130"), await ResolveAsync(second, "other"));

            // The network goes: its listener closes.
            DnsRecordsFile.Write(path, Records(_upstream.Endpoint, "10.231.4.5"));
            await Eventually(async () => await ResolveAsync(second, "other") is null, "the second network's listener closed");
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.False(File.Exists(Path.Combine(DnsRecordsFile.DirectoryIn(_runRoot), "resolver.pid")));
        Assert.Null(DnsResolverProcess.RunningPid(_runRoot));
    }

    [Fact]
    public async Task ExitsAfterTheGracePeriodWithoutContainers()
    {
        var path = DnsRecordsFile.PathIn(_runRoot);
        DnsRecordsFile.Write(path, Records(_upstream.Endpoint, "10.231.4.2"));
        var watch = Stopwatch.StartNew();
        var run = Task.Run(() => DnsResolverHost.Run(_runRoot, new DnsResolverHostOptions { Port = FreePort(), GracePeriod = TimeSpan.FromMilliseconds(300) }, new ListLogger(), CancellationToken.None));
        await Task.Delay(800);
        Assert.False(run.IsCompleted, "the resolver exited while a container had records");
        DnsRecordsFile.Write(path, new DnsRecords { Networks = [Records(_upstream.Endpoint, "10.231.4.2").Networks[0] with { Containers = [] }] });
        var removedAt = watch.Elapsed;
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.InRange(watch.Elapsed - removedAt, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.Null(DnsResolverProcess.RunningPid(_runRoot));
    }

    [Fact]
    public async Task ExitsWhenTheRunRootIsRemoved()
    {
        var runRoot = Directory.CreateTempSubdirectory("skdns-gone-").FullName;
        DnsRecordsFile.Write(DnsRecordsFile.PathIn(runRoot), Records(_upstream.Endpoint, "10.231.4.2"));
        var run = Task.Run(() => DnsResolverHost.Run(runRoot, new DnsResolverHostOptions { Port = FreePort(), GracePeriod = TimeSpan.FromMilliseconds(200) }, new ListLogger(), CancellationToken.None));
        await Task.Delay(300);
        Directory.Delete(runRoot, recursive: true);
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
