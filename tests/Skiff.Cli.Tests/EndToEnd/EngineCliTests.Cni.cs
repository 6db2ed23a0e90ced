using System.Diagnostics;
using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// CNI networks through bin/skiff with Debian's plugins (bridge + host-local + portmap + firewall + tuning). Only the
/// bridge skcni1, the subnet 10.231.70.0/24 and names starting with skcni are used; the bridge and the iptables rules
/// and chains of that subnet the plugins left are removed even when a test fails (the plugins' shared chains, made
/// once per host, stay, as with every libcni user).
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
        using var cleanup = new CniLeftovers();
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
        using var cleanup = new CniLeftovers();
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
        using var cleanup = new CniLeftovers();
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

    private static string Host(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = stderr.Result;
        return stdout;
    }

    /// <summary>
    /// Removes, at the end of a test, the bridge skcni1 and the iptables rules the plugins added for 10.231.70.0/24
    /// with the per-container chains they jump to: what a failing test may leave, and never anything else.
    /// </summary>
    private sealed class CniLeftovers : IDisposable
    {
        private readonly HashSet<string> _before = [.. IptablesLines()];
        private readonly string[] _tablesBefore = NftTables();

        public void Dispose()
        {
            Host("ip", "link", "del", CniBridge);
            var added = IptablesLines().Where(line => !_before.Contains(line)).ToList();
            var chains = added.Where(line => line.Contains(CniSubnet) && line.Contains(" -A CNI-DN-"))
                .Select(line => line.Split(' ')[2]).ToHashSet();
            foreach (var line in added.Where(line => line.Contains(" -A ") && (line.Contains(CniSubnet) || chains.Any(line.Contains))))
            {
                var (table, rule) = (line.Split(' ', 2)[0][1..], line.Split(' ', 2)[1]);
                Host("sh", "-c", $"iptables -t {table} -D {rule[3..]}");
            }
            foreach (var line in added.Where(line => line.Contains(" :") && chains.Contains(line.Split(' ')[1][1..])))
                Host("iptables", "-t", line.Split(' ')[0][1..], "-X", line.Split(' ')[1][1..]);
            // iptables-nft makes a table when a plugin first looks at it (portmap at ip6 nat, without IPv6): one that
            // this test's run made and that holds no rule goes; no other table is touched.
            foreach (var table in NftTables().Except(_tablesBefore).Select(t => t.Split(' ')))
                if (table.Length == 3 && table[1] is "ip" or "ip6" && table[2] is "nat" or "filter" && !Host("nft", "-j", "list", "table", table[1], table[2]).Contains("\"rule\":"))
                    Host("nft", "delete", "table", table[1], table[2]);
        }

        private static string[] NftTables() => Host("nft", "list", "tables").Split('\n', StringSplitOptions.RemoveEmptyEntries);

        /// <summary>iptables-save's chains and rules, each prefixed with its table (*nat), without counters.</summary>
        public static List<string> IptablesLines()
        {
            var lines = new List<string>();
            var table = "";
            foreach (var line in Host("iptables-save").Split('\n'))
            {
                if (line.StartsWith('*'))
                    table = line;
                else if (line.StartsWith(':'))
                    lines.Add($"{table} {line[..line.LastIndexOf(' ')]} ");
                else if (line.StartsWith("-A"))
                    lines.Add($"{table} {line}");
            }
            return lines;
        }
    }
}
