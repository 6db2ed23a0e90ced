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

    /// <summary>host-local's files: one per address, named by it, under the conflist's name.</summary>
    private string CniAllocations => Path.Combine(CniDataDir, "skcni-e2e");

    private static string Host(string program, params string[] args) => CniLeftovers.Run(program, args).Out;
}
