using System.Text.Json;
using Skiff.Network.Tests;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// CNI networks through bin/skiff with Debian's plugins (bridge + host-local + portmap + firewall + tuning). Only the
/// bridge skcni1, the subnet 10.231.70.0/24 and names starting with skcni are used; what the plugins left (the bridge,
/// iptables rules and chains) is removed even when a test fails (<see cref="CniLeftovers"/>).
/// </summary>
public sealed partial class EngineCliTests
{
    private const string CniBridge = "skcni1";
    private const string CniSubnet = "10.231.70.";

    /// <summary>A conflist file for network skcni-e2e with <paramref name="chained"/> after the bridge plugin.</summary>
    private string CniConfigFile(params string[] chained)
    {
        var file = Path.Combine(_temp.Path, $"skcni-{Guid.NewGuid():N}.conflist");
        File.WriteAllText(file, $$"""
            {
              "cniVersion": "1.0.0",
              "name": "skcni-e2e",
              "plugins": [
                { "type": "bridge", "bridge": "{{CniBridge}}", "isGateway": true, "ipMasq": false,
                  "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{CniSubnet}}0/24" }]], "dataDir": "{{CniDataDir}}" } }
                {{string.Concat(chained.Select(plugin => ", " + plugin))}}
              ]
            }
            """);
        return file;
    }

    private string CniDataDir => Path.Combine(_temp.Path, "cni-ipam");

    [Fact]
    public async Task ACniNetworkGivesAddressesPublishesPortsThroughPortmapAndLeavesNothingAtRemoval()
    {
        using var cleanup = new CniLeftovers(CniBridge, CniSubnet);
        try
        {
            var bad = Path.Combine(_temp.Path, "skcni-bad.conflist");
            File.WriteAllText(bad, """{ "cniVersion": "1.0.0", "name": "skcni-bad" }""");
            var refused = await FailsOnOneLine(1, "network", "create", "-d", "cni", "--cni-config", bad, "skcnibad");
            Assert.Contains($"The CNI configuration {bad} is invalid", refused.Stderr);
            Assert.DoesNotContain("skcnibad", (await Ok("network", "ls", "--format", "{{.Name}}")).Stdout);

            await Ok("network", "create", "-d", "cni", "--cni-config", CniConfigFile(
                """{ "type": "portmap", "capabilities": { "portMappings": true } }""",
                """{ "type": "firewall", "backend": "iptables" }""",
                """{ "type": "tuning", "mtu": 1400 }"""), "skcnin");
            Assert.Equal("cni", (await Ok("network", "inspect", "-f", "{{.Driver}}", "skcnin")).Stdout.Trim());

            var once = (await Ok("run", "--rm", "--network", "skcnin", Image, "busybox", "ip", "-o", "-4", "addr", "show", "eth0")).Stdout;
            Assert.Contains($"inet {CniSubnet}", once);
            Assert.DoesNotContain(Directory.GetFiles(CniAllocations), f => Path.GetFileName(f).StartsWith(CniSubnet, StringComparison.Ordinal));

            int port = FreePort();
            var id = await StartWebServer("skcniweb", "--network", "skcnin", "-p", $"127.0.0.1:{port}:80");
            var settings = JsonDocument.Parse((await Ok("inspect", "skcniweb")).Stdout).RootElement[0].GetProperty("NetworkSettings");
            var endpoint = settings.GetProperty("Networks").GetProperty("skcnin");
            var address = endpoint.GetProperty("IPAddress").GetString()!;
            Assert.StartsWith(CniSubnet, address);
            var mac = endpoint.GetProperty("MacAddress").GetString()!;
            Assert.Contains(mac, (await Ok("exec", "skcniweb", "busybox", "ip", "-o", "link", "show", "eth0")).Stdout);
            Assert.Contains("mtu 1400", (await Ok("exec", "skcniweb", "busybox", "ip", "-o", "link", "show", "eth0")).Stdout);
            Assert.Contains($"127.0.0.1:{port}->80/tcp", (await Ok("ps", "--format", "{{.Ports}}")).Stdout);
            Assert.True(File.Exists(Path.Combine(CniAllocations, address)));
            Assert.Contains("veth", Host("ip", "-o", "link", "show", "master", CniBridge));

            // portmap's DNAT, from the host to its loopback address.
            Assert.Equal("hello from skcniweb\n", await Fetch($"http://127.0.0.1:{port}/"));

            await Ok("rm", "-f", "skcniweb");
            Assert.DoesNotContain("veth", Host("ip", "-o", "link", "show", "master", CniBridge));
            Assert.False(File.Exists(Path.Combine(CniAllocations, address)));
            Assert.DoesNotContain(CniLeftovers.IptablesLines(), line => line.Contains(address + "/") || line.Contains(address + ":"));
            Assert.False(File.Exists(Path.Combine(Skiff.RunRootOf(Root), "netns", id)));
            await Ok("network", "rm", "skcnin");
            Assert.DoesNotContain("skcnin", (await Ok("network", "ls", "--format", "{{.Name}}")).Stdout);
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "skcniweb");
            await Skiff.RunAsync(Root, "network", "rm", "skcnin");
        }
    }

    [Fact]
    public async Task ACniPluginThatIsMissingOrFailsStopsRunAndLeavesNothing()
    {
        using var cleanup = new CniLeftovers(CniBridge, CniSubnet);
        try
        {
            await Ok("network", "create", "-d", "cni", "--cni-config", CniConfigFile("""{ "type": "skcninope" }"""), "skcnimissing");
            var missing = await FailsOnOneLine("run", "--network", "skcnimissing", Image, "true");
            Assert.Contains("skcninope", missing.Stderr);
            Assert.Contains("/usr/lib/cni", missing.Stderr);

            // tuning fails after bridge made the veth and host-local gave the address: both are undone.
            await Ok("network", "create", "-d", "cni", "--cni-config", CniConfigFile("""{ "type": "tuning", "sysctl": { "net.skcni.nonexistent": "1" } }"""), "skcnifails");
            var failing = await Skiff.RunAsync(Root, "run", "--network", "skcnifails", Image, "true");
            Assert.Equal(125, failing.ExitCode);
            Assert.Contains("CNI plugin tuning failed ADD for network skcni-e2e", failing.Stderr);

            // The containers stay created, as docker leaves a container whose start failed; nothing of their networks stays.
            Assert.Equal(["created", "created"], (await Ok("ps", "-a", "--format", "{{.State}}")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            using (var store = global::Skiff.Network.NetworkStore.Open(Path.Combine(Root, "networks.db")))
                Assert.Empty(store.AllEndpoints());
            var netns = Path.Combine(Skiff.RunRootOf(Root), "netns");
            Assert.Empty(Directory.Exists(netns) ? Directory.GetFileSystemEntries(netns) : []);
            Assert.DoesNotContain("veth", Host("ip", "-o", "link", "show", "master", CniBridge));
            Assert.DoesNotContain(Directory.Exists(CniAllocations) ? Directory.GetFiles(CniAllocations) : [], f => Path.GetFileName(f).StartsWith(CniSubnet, StringComparison.Ordinal));
            Assert.DoesNotContain(CniLeftovers.IptablesLines(), line => line.Contains(CniSubnet));
            // No endpoint row stayed: the networks go.
            await Ok("network", "rm", "skcnimissing", "skcnifails");
        }
        finally
        {
            foreach (var id in (await Skiff.RunAsync(Root, "ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await Skiff.RunAsync(Root, "rm", "-f", id);
            await Skiff.RunAsync(Root, "network", "rm", "skcnimissing", "skcnifails");
        }
    }

    [Fact]
    public async Task ACniNetworkConnectsAndDisconnectsARunningContainer()
    {
        using var cleanup = new CniLeftovers(CniBridge, CniSubnet);
        var config = CniConfigFile();
        try
        {
            await Ok("network", "create", "-d", "cni", "--cni-config", config, "skcnione");
            await Ok("network", "create", "-d", "cni", "--cni-config", config, "skcnitwo");
            await Ok("run", "-d", "--name", "skcniroamer", "--network", "skcnione", Image, "sleep", "60");
            await Ok("network", "connect", "skcnitwo", "skcniroamer");
            var address = (await Ok("inspect", "-f", "{{(index .NetworkSettings.Networks \"skcnitwo\").IPAddress}}", "skcniroamer")).Stdout.Trim();
            Assert.StartsWith(CniSubnet, address);
            Assert.Contains($"inet {address}/24", (await Ok("exec", "skcniroamer", "busybox", "ip", "-o", "-4", "addr", "show", "eth1")).Stdout);
            Assert.True(File.Exists(Path.Combine(CniAllocations, address)));

            await Ok("network", "disconnect", "skcnitwo", "skcniroamer");
            Assert.DoesNotContain(address, (await Ok("exec", "skcniroamer", "busybox", "ip", "-o", "-4", "addr")).Stdout);
            Assert.False(File.Exists(Path.Combine(CniAllocations, address)));
            Assert.Single(Host("ip", "-o", "link", "show", "master", CniBridge).Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.Contains("veth"));
            await Ok("network", "rm", "skcnitwo");
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "skcniroamer");
            await Skiff.RunAsync(Root, "network", "rm", "skcnione", "skcnitwo");
        }
    }

    /// <summary>skiff with an engine configuration whose CNI directory is <paramref name="directory"/> (never /etc/cni/net.d).</summary>
    private async Task<Skiff.Result> WithCniDirectory(string directory, params string[] args)
    {
        var config = Path.Combine(_temp.Path, "skcni-engine.json");
        File.WriteAllText(config, $$"""{ "cni-config-dir": "{{directory}}" }""");
        return await Skiff.RunWithEnvironmentAsync(Root, new Dictionary<string, string> { ["SKIFF_CONFIG"] = config }, args);
    }

    [Fact]
    public async Task NetworksOfTheCniConfigDirectoryAreListedRunChosenAddressesAndAreCheckedByVerboseInspect()
    {
        const string bridge = "skcni91";
        const string subnet = "10.231.91.";
        using var cleanup = new CniLeftovers(bridge, subnet);
        var directory = Path.Combine(_temp.Path, "skcni-net.d");
        Directory.CreateDirectory(directory);
        var dataDir = Path.Combine(_temp.Path, "skcni-ipam91");
        // bridge declares ips (it hands its runtimeConfig to host-local), tuning mac.
        File.WriteAllText(Path.Combine(directory, "10-skcnidir.conflist"), $$"""
            { "cniVersion": "1.0.0", "name": "skcnidir", "plugins": [
              { "type": "bridge", "bridge": "{{bridge}}", "isGateway": true, "capabilities": { "ips": true },
                "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{subnet}}0/24" }]], "dataDir": "{{dataDir}}" } },
              { "type": "tuning", "capabilities": { "mac": true } } ] }
            """);
        File.WriteAllText(Path.Combine(directory, "20-skcnidir.conflist"), """{ "cniVersion": "1.0.0", "name": "skcnidir", "plugins": [{ "type": "macvlan" }] }""");
        File.WriteAllText(Path.Combine(directory, "30-skcnione.conf"), """{ "cniVersion": "1.0.0", "name": "skcnione", "type": "bridge", "bridge": "skcni92" }""");
        File.WriteAllText(Path.Combine(directory, "40-skcnibroken.conflist"), """{ "cniVersion": "1.0.0", "name": "skcnibroken" }""");
        var allocations = Path.Combine(dataDir, "skcnidir");
        try
        {
            var listed = await WithCniDirectory(directory, "network", "ls", "--format", "{{.Name}} {{.Driver}}");
            Assert.Equal(0, listed.ExitCode);
            Assert.Contains("skcnidir cni\n", listed.Stdout);
            Assert.Contains("skcnione cni\n", listed.Stdout);
            Assert.DoesNotContain("skcnibroken", listed.Stdout);
            Assert.Contains($"skiff: warning: The CNI configuration {directory}/20-skcnidir.conflist is ignored: {directory}/10-skcnidir.conflist configures network skcnidir already.", listed.Stderr);
            Assert.Contains($"skiff: warning: The CNI configuration {directory}/40-skcnibroken.conflist is invalid", listed.Stderr);
            // The tests' default configuration reads no directory: nothing of this one shows there.
            Assert.DoesNotContain("skcni", (await Ok("network", "ls")).Stdout);
            Assert.Equal($"cni {directory}/10-skcnidir.conflist",
                (await WithCniDirectory(directory, "network", "inspect", "-f", "{{.Driver}} {{index .Options \"skiff.cni.config_file\"}}", "skcnidir")).Stdout.Trim());

            // --ip and --mac-address reach host-local and tuning as the ips and mac capabilities.
            var chosen = await WithCniDirectory(directory, "run", "--rm", "--network", "skcnidir", "--ip", subnet + "50", "--mac-address", "0a:31:91:00:00:50",
                Image, "sh", "-c", "ip -o -4 addr show eth0; ip -o link show eth0");
            Assert.True(chosen.ExitCode == 0, chosen.Stderr);
            Assert.Contains($"inet {subnet}50/24", chosen.Stdout);
            Assert.Contains("link/ether 0a:31:91:00:00:50", chosen.Stdout);
            Assert.False(File.Exists(Path.Combine(allocations, subnet + "50")));

            // A network none of whose plugins declares ips or mac refuses them, and nothing is made.
            var before = (await Ok("ps", "-aq")).Stdout;
            var noIps = await WithCniDirectory(directory, "run", "--network", "skcnione", "--ip", "10.231.92.5", Image, "true");
            Assert.Equal(125, noIps.ExitCode);
            Assert.Equal("skiff: network skcnione cannot give the container an address of its choosing: none of its CNI plugins declares the \"ips\" capability; remove the option, or declare the capability in the network's configuration (\"capabilities\": {\"ips\": true})", noIps.Stderr.Split('\n').Last(l => l.Length > 0));
            var noMac = await WithCniDirectory(directory, "create", "--network", "skcnione", "--mac-address", "0a:31:92:00:00:05", Image, "true");
            Assert.Equal(125, noMac.ExitCode);
            Assert.Contains("declares the \"mac\" capability", noMac.Stderr);
            Assert.Equal(before, (await Ok("ps", "-aq")).Stdout);
            Assert.Empty(Host("ip", "-o", "link", "show", "skcni92").Trim());

            // network inspect --verbose runs CHECK for each container on the network.
            var run = await WithCniDirectory(directory, "run", "-d", "--name", "skcnidirweb", "--network", "skcnidir", Image, "sleep", "60");
            Assert.True(run.ExitCode == 0, run.Stderr);
            var id = run.Stdout.Trim();
            async Task<string> Check()
            {
                var inspected = await WithCniDirectory(directory, "network", "inspect", "--verbose", "skcnidir");
                Assert.True(inspected.ExitCode == 0, inspected.Stderr);
                return JsonDocument.Parse(inspected.Stdout).RootElement[0].GetProperty("Containers").GetProperty(id).GetProperty("CniCheck").GetString()!;
            }
            Assert.Equal("passed", await Check());
            Assert.DoesNotContain("CniCheck", (await WithCniDirectory(directory, "network", "inspect", "skcnidir")).Stdout);
            // The container's address taken away behind the plugins' back: bridge's CHECK finds it missing.
            CniLeftovers.Run("nsenter", $"--net={Path.Combine(Skiff.RunRootOf(Root), "netns", id)}", "ip", "addr", "flush", "dev", "eth0");
            Assert.StartsWith("failed: CNI plugin bridge failed CHECK for network skcnidir", await Check());

            // The file is the administrator's: skiff neither removes it nor lets the store shadow it.
            var rm = await WithCniDirectory(directory, "network", "rm", "skcnidir");
            Assert.Equal(1, rm.ExitCode);
            Assert.Contains($"network skcnidir is configured by {directory}/10-skcnidir.conflist in the CNI configuration directory: remove or move that file to remove the network", rm.Stderr);
            Assert.True(File.Exists(Path.Combine(directory, "10-skcnidir.conflist")));
            var pruned = await WithCniDirectory(directory, "network", "prune", "-f");
            Assert.True(pruned.ExitCode == 0, pruned.Stderr);
            Assert.DoesNotContain("skcnione", pruned.Stdout);
            Assert.Contains("skcnione", (await WithCniDirectory(directory, "network", "ls")).Stdout);
            var clash = await WithCniDirectory(directory, "network", "create", "-d", "cni", "--cni-config", Path.Combine(directory, "30-skcnione.conf"), "skcnione");
            Assert.NotEqual(0, clash.ExitCode);
            Assert.Contains("a network named skcnione already exists", clash.Stderr);

            await Ok("rm", "-f", "skcnidirweb");
            Assert.DoesNotContain("veth", Host("ip", "-o", "link", "show", "master", bridge));
            Assert.DoesNotContain(Directory.GetFiles(allocations), f => Path.GetFileName(f).StartsWith(subnet, StringComparison.Ordinal));
            // Its file gone, the next file of that name configures it; with none left, the network goes.
            File.Delete(Path.Combine(directory, "10-skcnidir.conflist"));
            Assert.Equal($"{directory}/20-skcnidir.conflist",
                (await WithCniDirectory(directory, "network", "inspect", "-f", "{{index .Options \"skiff.cni.config_file\"}}", "skcnidir")).Stdout.Trim());
            File.Delete(Path.Combine(directory, "20-skcnidir.conflist"));
            Assert.DoesNotContain("skcnidir", (await WithCniDirectory(directory, "network", "ls")).Stdout);
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "skcnidirweb");
        }
    }

    /// <summary>host-local's files: one per address, named by it, under the conflist's name.</summary>
    private string CniAllocations => Path.Combine(CniDataDir, "skcni-e2e");

    private static string Host(string program, params string[] args) => CniLeftovers.Run(program, args).Out;
}
