using System.Diagnostics;
using System.Text.Json.Nodes;
using Skiff.Network.Cni;
using Xunit.Abstractions;
using static Skiff.Network.Tests.CniLeftovers;

namespace Skiff.Network.Tests;

/// <summary>Runs only as root with Debian's containernetworking-plugins in /usr/lib/cni.</summary>
public sealed class CniPluginsFactAttribute : FactAttribute
{
    public CniPluginsFactAttribute()
    {
        if (Environment.UserName != "root")
            Skip = "needs root";
        else if (!File.Exists("/usr/lib/cni/bridge") || !File.Exists("/usr/lib/cni/portmap") || !File.Exists("/usr/lib/cni/firewall"))
            Skip = "needs containernetworking-plugins in /usr/lib/cni";
    }
}

/// <summary>
/// The executor with the real plugins (bridge + host-local + tuning + portmap + firewall) on a network namespace the
/// test makes. Only the bridge skcni0, the subnet 10.231.3.0/24 and names starting with skcni are used; the netns, the
/// bridge and the iptables chains the plugins left that were not there before are removed even when the test fails.
/// </summary>
public sealed class CniPluginIntegrationTests(ITestOutputHelper output) : IDisposable
{
    private const string Bridge = "skcni0";
    private const string Subnet = "10.231.3.";
    private readonly string _netns = "skcni-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _dir = Directory.CreateTempSubdirectory("skcni-it-").FullName;
    private readonly CniLeftovers _leftovers = new(Bridge, Subnet, output.WriteLine);

    public void Dispose()
    {
        Run("ip", "netns", "del", _netns);
        _leftovers.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The test's network: bridge skcni0 with host-local on 10.231.3.0/24, then <paramref name="chained"/>.</summary>
    private CniConfigList Network(params string[] chained) => CniConfigList.Parse($$"""
        {
          "cniVersion": "1.0.0",
          "name": "skcni-test",
          "plugins": [
            { "type": "bridge", "bridge": "{{Bridge}}", "isGateway": true, "ipMasq": false,
              "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{Subnet}}0/24" }]], "dataDir": "{{_dir}}/ipam" } }
            {{string.Concat(chained.Select(plugin => ", " + plugin))}}
          ]
        }
        """);

    private const string Tuning = """{ "type": "tuning", "mtu": 1400 }""";
    private const string Portmap = """{ "type": "portmap", "capabilities": { "portMappings": true } }""";
    private const string Firewall = """{ "type": "firewall", "backend": "iptables" }""";

    [CniPluginsFact]
    public async Task Add_Check_and_Delete_with_Debians_plugins_leave_nothing_behind()
    {
        Assert.Equal(0, Run("ip", "netns", "add", _netns).Exit);
        var runner = new CniRunner(Path.Combine(_dir, "cache"));
        var capabilities = new CniCapabilities { PortMappings = [new(18231, 80)] };
        var adds = new List<double>();
        var deletes = new List<double>();
        // Several cycles: each must release what the last made, or the next would find its address or chain taken.
        for (int cycle = 0; cycle < 5; cycle++)
        {
            var attachment = new CniAttachment($"skcni{cycle}", $"/run/netns/{_netns}", "eth0", Network(Tuning, Portmap, Firewall), capabilities);
            var clock = Stopwatch.StartNew();
            var result = await runner.AddAsync(attachment, CancellationToken.None);
            adds.Add(clock.Elapsed.TotalMilliseconds);

            var ip = Assert.Single(result.Ips);
            string address = ip.Address.Address.ToString();
            Assert.StartsWith(Subnet, address);
            Assert.Equal(24, ip.Address.PrefixLength);
            Assert.Equal(Subnet + "1", ip.Gateway!.ToString());
            var inside = result.Interfaces[ip.Interface!.Value];
            Assert.Equal("eth0", inside.Name);
            Assert.Equal($"/run/netns/{_netns}", inside.Sandbox);
            string veth = Assert.Single(result.Interfaces, i => string.IsNullOrEmpty(i.Sandbox) && i.Name != Bridge).Name;

            Assert.Contains($"inet {address}/24", Run("ip", "-n", _netns, "-o", "addr", "show", "dev", "eth0").Out);
            Assert.Contains("mtu 1400", Run("ip", "-n", _netns, "link", "show", "eth0").Out);
            Assert.Equal(0, Run("ip", "link", "show", veth).Exit);
            var ping = Run("ip", "netns", "exec", _netns, "busybox", "ping", "-c", "1", "-W", "2", Subnet + "1");
            Assert.True(ping.Exit == 0, ping.Out + ping.Err);
            Assert.True(File.Exists(Path.Combine(_dir, "ipam", "skcni-test", address)), "host-local recorded no allocation");
            // portmap and firewall made rules for this container: what DEL must take away again.
            Assert.Contains(IptablesLines(), line => line.Contains("--dport 18231") && line.Contains($"--to-destination {address}:80"));
            Assert.Contains(IptablesLines(), line => line.StartsWith("*filter -A CNI-FORWARD") && line.Contains($"-d {address}/32"));

            // Debian's portmap 1.1.1 checks ip6tables rules it never made for a container without IPv6
            // (containernetworking/plugins#819, fixed in 1.2.0); every other plugin's CHECK must pass, and
            // Check_passes_and_fails_once_the_interface_is_gone runs CHECK without portmap.
            if (await Record.ExceptionAsync(() => runner.CheckAsync(attachment, CancellationToken.None)) is { } check)
                Assert.StartsWith("CNI plugin portmap failed CHECK for network skcni-test: could not check ipv6 dnat: chain CNI-DN-", check.Message);

            clock.Restart();
            await runner.DeleteAsync(attachment, CancellationToken.None);
            deletes.Add(clock.Elapsed.TotalMilliseconds);

            Assert.NotEqual(0, Run("ip", "-n", _netns, "link", "show", "eth0").Exit);
            Assert.NotEqual(0, Run("ip", "link", "show", veth).Exit);
            Assert.False(File.Exists(Path.Combine(_dir, "ipam", "skcni-test", address)), "host-local kept the allocation");
            Assert.DoesNotContain(IptablesLines(), line => line.Contains(address) || line.Contains($"skcni{cycle}"));
            Assert.DoesNotContain(address, Run("nft", "list", "ruleset").Out);
            // What may stay are the plugins' shared chains and their jumps, made once per host as libcni's users see.
            // (Lines of other programs, which may change iptables meanwhile, are not this test's business.)
            Assert.All(IptablesLines().Except(_leftovers.IptablesBefore).Where(line => line.Contains("CNI-") || line.Contains(Subnet)), line => Assert.Matches(SharedChain, line));

            // DEL again: the spec's idempotence, without a cached result.
            await runner.DeleteAsync(attachment, CancellationToken.None);
        }
        output.WriteLine($"ADD ms: {string.Join(", ", adds.Select(ms => ms.ToString("0")))}; DEL ms: {string.Join(", ", deletes.Select(ms => ms.ToString("0")))}");
    }

    [CniPluginsFact]
    public async Task Check_passes_and_fails_once_the_interface_is_gone()
    {
        Assert.Equal(0, Run("ip", "netns", "add", _netns).Exit);
        var network = Network(Tuning, Firewall);
        var attachment = new CniAttachment("skcnicheck", $"/run/netns/{_netns}", "eth0", network, null);
        var runner = new CniRunner(Path.Combine(_dir, "cache"));
        await runner.AddAsync(attachment, CancellationToken.None);
        try
        {
            await new CniRunner(Path.Combine(_dir, "cache")).CheckAsync(attachment, CancellationToken.None);

            Assert.Equal(0, Run("ip", "-n", _netns, "link", "del", "eth0").Exit);
            var error = await Assert.ThrowsAsync<CniException>(() => runner.CheckAsync(attachment, CancellationToken.None));
            output.WriteLine(error.Message);
            Assert.StartsWith("CNI plugin bridge failed CHECK for network skcni-test: ", error.Message);
        }
        finally
        {
            await runner.DeleteAsync(attachment, CancellationToken.None);
        }
        Assert.DoesNotContain(IptablesLines(), line => line.Contains(Subnet));
    }

    [CniPluginsFact]
    public async Task A_failing_plugin_in_the_middle_leaves_no_veth_address_or_rule()
    {
        Assert.Equal(0, Run("ip", "netns", "add", _netns).Exit);
        // tuning refuses a sysctl that does not exist, after bridge and host-local have done their part.
        var network = Network(Portmap, """{ "type": "tuning", "sysctl": { "net.skcni.nonexistent": "1" } }""");
        var attachment = new CniAttachment("skcnifail", $"/run/netns/{_netns}", "eth0", network, new CniCapabilities { PortMappings = [new(18232, 80)] });
        var runner = new CniRunner(Path.Combine(_dir, "cache"));

        var error = await Assert.ThrowsAsync<CniException>(() => runner.AddAsync(attachment, CancellationToken.None));

        output.WriteLine(error.Message);
        Assert.StartsWith("CNI plugin tuning failed ADD for network skcni-test: ", error.Message);
        Assert.NotEqual(0, Run("ip", "-n", _netns, "link", "show", "eth0").Exit);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_dir, "ipam", "skcni-test")), file => Path.GetFileName(file).StartsWith(Subnet));
        Assert.DoesNotContain(IptablesLines(), line => line.Contains(Subnet) || line.Contains("skcnifail"));
        Assert.Null(runner.GetCachedResult(attachment));
        Assert.DoesNotContain("veth", Run("ip", "-o", "link", "show", "master", Bridge).Out);
    }

    private static readonly System.Text.RegularExpressions.Regex SharedChain = new(
        "^(\\*\\w+ )?(:CNI-(FORWARD|ADMIN|HOSTPORT-(DNAT|SNAT|MASQ|SETMARK)) |-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING|CNI-FORWARD|CNI-HOSTPORT-\\w+) .*-j (CNI-(FORWARD|ADMIN|HOSTPORT-\\w+)|MARK|MASQUERADE)\\b)");
}
