using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Networking through bin/skiff (issue 13): the default bridge, published ports, user networks with name
/// resolution, isolation, live connect/disconnect, the modes without networks of their own, and bad input. Every
/// address used is one these tests made (subnets 10.231.60-69.0/24, or the default network's own), or loopback.
/// </summary>
public sealed partial class EngineCliTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string[] HostLinks()
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", "-o link show") { RedirectStandardOutput = true })!;
        var text = ip.StandardOutput.ReadToEnd();
        ip.WaitForExit();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(':')[1].Trim().Split('@')[0])];
    }

    private static async Task<string> Fetch(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await client.GetStringAsync(url);
            }
            catch (HttpRequestException) when (attempt < 30)
            {
                await Task.Delay(100); // httpd still starting
            }
        }
    }

    /// <summary>A busybox httpd serving "hello from NAME" on port 80.</summary>
    private async Task<string> StartWebServer(string name, params string[] flags)
    {
        var www = Path.Combine(_temp.Path, "www-" + name);
        Directory.CreateDirectory(www);
        File.WriteAllText(Path.Combine(www, "index.html"), $"hello from {name}\n");
        return (await Ok(["run", "-d", "--name", name, "-v", $"{www}:/www:ro", .. flags, Image, "busybox", "httpd", "-f", "-p", "80", "-h", "/www"])).Stdout.Trim();
    }

    [Fact]
    public async Task TheDefaultNetworkGivesAnAddressARouteAndAHostsEntryAndLeavesNothingAtRemoval()
    {
        var id = (await Ok("run", "-d", "--name", "plain", Image, "sleep", "60")).Stdout.Trim();
        var inspect = JsonDocument.Parse((await Ok("inspect", "plain")).Stdout).RootElement[0];
        Assert.Equal("bridge", inspect.GetProperty("HostConfig").GetProperty("NetworkMode").GetString());
        var settings = inspect.GetProperty("NetworkSettings");
        var address = settings.GetProperty("IPAddress").GetString()!;
        var gateway = settings.GetProperty("Gateway").GetString()!;
        Assert.True(IPAddress.TryParse(address, out _), address);
        Assert.Equal(address, settings.GetProperty("Networks").GetProperty("bridge").GetProperty("IPAddress").GetString());
        Assert.StartsWith("02:42:", settings.GetProperty("MacAddress").GetString());

        var inside = (await Ok("exec", "plain", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")).Stdout;
        Assert.Contains($"inet {address}/", inside);
        Assert.Contains($"default via {gateway} dev eth0", (await Ok("exec", "plain", "busybox", "ip", "route")).Stdout);
        Assert.Contains($"{address}\t{id[..12]}", (await Ok("exec", "plain", "cat", "/etc/hosts")).Stdout);
        Assert.Contains($"{gateway}\tgw", (await Ok("run", "--rm", "--add-host", "gw:host-gateway", Image, "cat", "/etc/hosts")).Stdout);
        // The container and the host reach each other on the bridge.
        Assert.Equal(0, (await Skiff.RunAsync(Root, "exec", "plain", "busybox", "ping", "-c", "1", "-W", "2", gateway)).ExitCode);

        var hostEnd = $"vsk{id[..6]}";
        Assert.Contains(HostLinks(), link => link.StartsWith(hostEnd, StringComparison.Ordinal));
        var netns = Path.Combine(Skiff.RunRootOf(Root), "netns", id);
        Assert.True(File.Exists(netns));
        await Ok("rm", "-f", "plain");
        Assert.False(File.Exists(netns));
        for (int attempt = 0; attempt < 50 && HostLinks().Any(link => link.StartsWith(hostEnd, StringComparison.Ordinal)); attempt++)
            await Task.Delay(20); // the kernel removes the pair with its namespace, shortly after
        Assert.DoesNotContain(HostLinks(), link => link.StartsWith(hostEnd, StringComparison.Ordinal));
        await Ok("network", "prune", "-f");
    }

    [Fact]
    public async Task PublishedPortsAreServedOnLoopbackAndTheHostsAddressesAndListedByPortAndPs()
    {
        int port = FreePort();
        await StartWebServer("web", "-p", $"127.0.0.1:{port}:80");
        Assert.Equal("hello from web\n", await Fetch($"http://127.0.0.1:{port}/"));
        Assert.Equal($"80/tcp -> 127.0.0.1:{port}\n", (await Ok("port", "web")).Stdout);
        Assert.Contains($"127.0.0.1:{port}->80/tcp", (await Ok("ps", "--format", "{{.Names}} {{.Ports}}")).Stdout);

        await StartWebServer("any", "-P", "--expose", "80");
        var published = (await Ok("port", "any", "80")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, published.Length); // 0.0.0.0:P and [::]:P
        int random = int.Parse(published[0].Split(':')[^1]);
        Assert.Equal("hello from any\n", await Fetch($"http://127.0.0.1:{random}/"));
        // The host's own address (its eth0's here), and from another container through it.
        var hostAddress = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up && i.Name.StartsWith("eth", StringComparison.Ordinal))
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        Assert.NotNull(hostAddress);
        Assert.Equal("hello from any\n", await Fetch($"http://{hostAddress}:{random}/"));
        var throughHost = await Ok("run", "--rm", Image, "sh", "-c", $"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {hostAddress} {random}");
        Assert.Contains("hello from any", throughHost.Stdout);
        var missing = await Skiff.RunAsync(Root, "port", "any", "81");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No public port '81/tcp' published for any", missing.Stderr);

        // A host port that is taken is refused at create, and nothing is made.
        var taken = await Skiff.RunAsync(Root, "run", "-d", "--name", "clash", "-p", $"127.0.0.1:{port}:80", Image, "sleep", "5");
        Assert.Equal(125, taken.ExitCode);
        Assert.Contains($"port {port}/tcp on 127.0.0.1 is already in use by another container", taken.Stderr);
        Assert.DoesNotContain("clash", (await Ok("ps", "-a", "--format", "{{.Names}}")).Stdout);

        await Ok("rm", "-f", "web", "any");
        await Assert.ThrowsAsync<HttpRequestException>(() => new HttpClient { Timeout = TimeSpan.FromSeconds(2) }.GetStringAsync($"http://127.0.0.1:{port}/"));
        await Ok("network", "prune", "-f");
    }

    [Fact]
    public async Task ContainersOfAUserNetworkFindEachOtherByNameAliasAndShortIdAndOtherNetworksAreIsolated()
    {
        await Ok("network", "create", "--subnet", "10.231.61.0/24", "--label", "purpose=test", "front");
        await Ok("network", "create", "--subnet", "10.231.62.0/24", "back");
        try
        {
            var db = (await Ok("run", "-d", "--name", "db", "--network", "front", "--network-alias", "database", Image, "sleep", "60")).Stdout.Trim();
            await Ok("run", "-d", "--name", "other", "--network", "back", "--ip", "10.231.62.50", Image, "sleep", "60");

            var resolv = (await Ok("run", "--rm", "--network", "front", Image, "cat", "/etc/resolv.conf")).Stdout;
            Assert.Contains("nameserver 10.231.61.1", resolv);
            foreach (var name in new[] { "db", "database", db[..12], "DB.front" })
            {
                var lookup = await Skiff.RunAsync(Root, "run", "--rm", "--network", "front", Image, "busybox", "nslookup", name);
                Assert.True(lookup.ExitCode == 0 && lookup.Stdout.Contains("10.231.61.2"), $"{name}: {lookup.Stdout}{lookup.Stderr}");
            }
            Assert.Equal(0, (await Skiff.RunAsync(Root, "run", "--rm", "--network", "front", Image, "busybox", "ping", "-c", "1", "-W", "2", "database")).ExitCode);
            // back's container is neither answered for to front's containers nor reachable from front. Asked of
            // front's resolver, a name it does not know would go to the host's upstream resolver, off this machine:
            // asked of back's resolver instead, which refuses other networks' containers without forwarding.
            var refused = await Skiff.RunAsync(Root, "run", "--rm", "--network", "front", Image, "busybox", "nslookup", "other", "10.231.62.1");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("REFUSED", refused.Stdout + refused.Stderr);
            Assert.NotEqual(0, (await Skiff.RunAsync(Root, "run", "--rm", "--network", "front", Image, "busybox", "ping", "-c", "1", "-W", "1", "10.231.62.50")).ExitCode);

            var inspect = JsonDocument.Parse((await Ok("network", "inspect", "front")).Stdout).RootElement[0];
            Assert.Equal("10.231.61.0/24", inspect.GetProperty("IPAM").GetProperty("Config")[0].GetProperty("Subnet").GetString());
            Assert.Equal("10.231.61.1", inspect.GetProperty("IPAM").GetProperty("Config")[0].GetProperty("Gateway").GetString());
            Assert.Equal("test", inspect.GetProperty("Labels").GetProperty("purpose").GetString());
            Assert.Equal("10.231.61.2/24", inspect.GetProperty("Containers").GetProperty(db).GetProperty("IPv4Address").GetString());
            Assert.Equal("db", (await Ok("ps", "--filter", "network=front", "--format", "{{.Names}}")).Stdout.Trim());
            Assert.Equal("10.231.62.50", (await Ok("inspect", "-f", "{{(index .NetworkSettings.Networks \"back\").IPAddress}}", "other")).Stdout.Trim());

            var inUse = await Skiff.RunAsync(Root, "network", "rm", "front");
            Assert.Equal(1, inUse.ExitCode);
            Assert.Contains("network front has active endpoints (db)", inUse.Stderr);
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "db", "other");
            await Skiff.RunAsync(Root, "network", "rm", "front", "back");
        }
        Assert.DoesNotContain("front", (await Ok("network", "ls", "--format", "{{.Name}}")).Stdout);
    }

    [Fact]
    public async Task NetworkConnectAndDisconnectWorkOnARunningContainer()
    {
        await Ok("network", "create", "--subnet", "10.231.63.0/24", "one");
        await Ok("network", "create", "--subnet", "10.231.64.0/24", "two");
        try
        {
            await Ok("run", "-d", "--name", "roamer", "--network", "one", Image, "sleep", "60");
            await Ok("network", "connect", "--ip", "10.231.64.9", "--alias", "wanderer", "two", "roamer");
            Assert.Contains("inet 10.231.64.9/24", (await Ok("exec", "roamer", "busybox", "ip", "-o", "-4", "addr", "show", "eth1")).Stdout);
            var lookup = await Ok("run", "--rm", "--network", "two", Image, "busybox", "nslookup", "wanderer");
            Assert.Contains("10.231.64.9", lookup.Stdout);
            var again = await Skiff.RunAsync(Root, "network", "connect", "two", "roamer");
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("already connected to network two", again.Stderr);

            await Ok("network", "disconnect", "two", "roamer");
            Assert.DoesNotContain("10.231.64.9", (await Ok("exec", "roamer", "busybox", "ip", "-o", "-4", "addr")).Stdout);
            Assert.Equal("one", (await Ok("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", "roamer")).Stdout.Trim());
            Assert.Equal(1, (await Skiff.RunAsync(Root, "network", "disconnect", "two", "roamer")).ExitCode);
            Assert.Equal(0, (await Skiff.RunAsync(Root, "network", "disconnect", "-f", "two", "roamer")).ExitCode);
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "roamer");
            await Skiff.RunAsync(Root, "network", "rm", "one", "two");
        }
    }

    [Fact]
    public async Task NoneHasOnlyLoopbackAndContainerModeSharesTheOthersNamespace()
    {
        var links = (await Ok("run", "--rm", "--network", "none", Image, "busybox", "ip", "-o", "link")).Stdout;
        Assert.Single(links.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(": lo:", links);

        await Ok("run", "-d", "--name", "owner", Image, "sleep", "60");
        var address = (await Ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "owner")).Stdout.Trim();
        Assert.Contains($"inet {address}/", (await Ok("run", "--rm", "--network", "container:owner", Image, "busybox", "ip", "-o", "-4", "addr")).Stdout);
        await Ok("rm", "-f", "owner");
        await Ok("network", "prune", "-f");
    }

    [Theory]
    [InlineData("run", "--rm", "--network", "nowhere", Image, "true", "network nowhere not found")]
    [InlineData("run", "--rm", "--ip", "172.17.0.50", Image, "true", "supported on user-defined networks only")]
    [InlineData("run", "--rm", "-p", "0:80", Image, "true", "\"0\" is not a number from 1 to 65535")]
    [InlineData("run", "--rm", "-p", "80/icmp", Image, "true", "is not tcp, udp or sctp")]
    [InlineData("run", "--rm", "-p", "8000-8001:80-82", Image, "true", "must be the same size")]
    [InlineData("run", "--rm", "--network", "host", "-p", "80:80", Image, "true", "its ports are the host's own already")]
    [InlineData("run", "--rm", "--network", "none", "--network", "host", Image, "true", "cannot be combined with other networks")]
    [InlineData("run", "--rm", "--network", "none", "--add-host", "gw:host-gateway", Image, "true", "host-gateway is the host's address on the container's network")]
    [InlineData("run", "--rm", "--link", "db:alias", Image, "true", "legacy container links (db:alias) are not supported")]
    [InlineData("run", "--rm", "--link-local-ip", "169.254.1.1", Image, "true", "link-local addresses (169.254.1.1) are not supported")]
    public async Task BadNetworkSettingsAreRefusedAtCreateWithNothingMade(params string[] argsAndMessage)
    {
        // Host ends of this store's default network: other test projects make and remove links meanwhile.
        var suffix = (await Ok("network", "inspect", "-f", "{{.Id}}", "bridge")).Stdout.Trim()[..6];
        string[] Ours() => [.. HostLinks().Where(l => l.StartsWith("vsk", StringComparison.Ordinal) && l.EndsWith(suffix, StringComparison.Ordinal))];
        var before = Ours();
        var result = await Skiff.RunAsync(Root, argsAndMessage[..^1]);
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(argsAndMessage[^1], result.Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
        Assert.Equal(before, Ours());
    }

    [Theory]
    [InlineData("the subnet 10.231.65.0/25 overlaps 10.231.65.0/24", "--subnet", "10.231.65.0/25", "bad")]
    [InlineData("is in none of the network's subnets", "--subnet", "10.231.66.0/24", "--gateway", "10.231.67.1", "bad")]
    [InlineData("has host bits set: use 10.231.66.0/24 instead", "--subnet", "10.231.66.7/24", "bad")]
    [InlineData("a network named taken already exists", "--subnet", "10.231.68.0/24", "taken")]
    [InlineData("bridge is a pre-defined network", "bridge")]
    public async Task BadNetworksAreRefusedWithNothingMade(string message, params string[] args)
    {
        await Ok("network", "create", "--subnet", "10.231.65.0/24", "taken");
        try
        {
            // User networks' bridges only: other test projects make and remove other links meanwhile.
            string[] Bridges() => [.. HostLinks().Where(l => l.StartsWith("skbr-", StringComparison.Ordinal))];
            var bridges = Bridges();
            var result = await Skiff.RunAsync(Root, ["network", "create", .. args]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains(message, result.Stderr);
            Assert.Equal(bridges, Bridges());
            Assert.Equal(["bridge", "host", "none", "taken"], (await Ok("network", "ls", "--format", "{{.Name}}")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        }
        finally
        {
            await Ok("network", "rm", "taken");
        }
    }

    [Fact]
    public async Task ParallelRunsOnOneNetworkGetDistinctAddressesAndLeakNothing()
    {
        var network = (await Ok("network", "create", "--subnet", "10.231.69.0/24", "busy")).Stdout.Trim();
        // Host ends on this network only: other test projects make and remove links meanwhile.
        int Ours() => HostLinks().Count(l => l.StartsWith("vsk", StringComparison.Ordinal) && l.EndsWith(network[..6], StringComparison.Ordinal));
        try
        {
            var runs = Enumerable.Range(0, 20).Select(_ => Skiff.RunAsync(Root, "run", "--rm", "--network", "busy", Image, "busybox", "ip", "-o", "-4", "addr", "show", "eth0")).ToList();
            var results = await Task.WhenAll(runs);
            Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Stderr));
            var addresses = results.Select(r => r.Stdout.Split("inet ")[1].Split('/')[0]).ToList();
            Assert.Equal(20, addresses.Distinct().Count());
            Assert.Empty(JsonDocument.Parse((await Ok("network", "inspect", "busy")).Stdout).RootElement[0].GetProperty("Containers").EnumerateObject());
            Assert.Empty(Directory.Exists(Path.Combine(Skiff.RunRootOf(Root), "netns")) ? Directory.GetFiles(Path.Combine(Skiff.RunRootOf(Root), "netns")) : []);
            for (int attempt = 0; attempt < 100 && Ours() > 0; attempt++)
                await Task.Delay(20); // the kernel removes the pairs with their namespaces, shortly after
            Assert.Equal(0, Ours());
        }
        finally
        {
            await Skiff.RunAsync(Root, "network", "rm", "busy");
        }
    }

    [Fact]
    public async Task ANetworkLeftByAKilledMonitorIsFreedByTheNextCommandThatFindsIt()
    {
        await Ok("network", "create", "--subnet", "10.231.67.0/24", "crashy");
        try
        {
            var id = (await Ok("run", "-d", "--name", "victim", "--network", "crashy", Image, "sleep", "60")).Stdout.Trim();
            int pid = int.Parse((await Ok("inspect", "-f", "{{.State.Pid}}", "victim")).Stdout.Trim());
            // The monitor is the container process's parent (it reaps it as a subreaper).
            int monitor = int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            Process.GetProcessById(monitor).Kill();
            Process.GetProcessById(pid).Kill();
            for (int attempt = 0; attempt < 50 && File.Exists($"/proc/{pid}/stat"); attempt++)
                await Task.Delay(20);

            // network inspect finds the dead container's endpoint and frees it: address, namespace, veth.
            Assert.Empty(JsonDocument.Parse((await Ok("network", "inspect", "crashy")).Stdout).RootElement[0].GetProperty("Containers").EnumerateObject());
            Assert.False(File.Exists(Path.Combine(Skiff.RunRootOf(Root), "netns", id)));
            Assert.Equal("exited", (await Ok("inspect", "-f", "{{.State.Status}}", "victim")).Stdout.Trim());
            // Started again, it gets the network back.
            await Ok("start", "victim");
            Assert.Contains("inet 10.231.67.", (await Ok("exec", "victim", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")).Stdout);
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "victim");
            await Skiff.RunAsync(Root, "network", "rm", "crashy");
        }
    }

    [Fact]
    public async Task OutputToAFileLeavesTheFilesOffsetAfterIt()
    {
        var file = Path.Combine(_temp.Path, "out.txt");
        // One open file shared by the shell and skiff: skiff's writes must move its offset, or the shell's next write lands on them.
        using var shell = Process.Start("sh", ["-c", $"(echo before; '{Skiff.Binary}' --root '{Root}' --runroot '{Skiff.RunRootOf(Root)}' run --rm {Image} echo inside; echo after) > '{file}'"])!;
        await shell.WaitForExitAsync();
        Assert.Equal("before\ninside\nafter\n", File.ReadAllText(file));
    }
}
