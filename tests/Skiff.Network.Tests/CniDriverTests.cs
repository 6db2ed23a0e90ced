using System.Net;
using System.Text.Json.Nodes;
using Skiff.Network.Cni;

namespace Skiff.Network.Tests;

/// <summary>The engine's side of CNI (STATUS before ADD, the ips and mac capabilities, CHECK) against fake plugins.</summary>
public sealed class CniDriverTests : IDisposable
{
    private const string Result = """{"cniVersion":"1.1.0","interfaces":[{"name":"veth1","mac":"0a:00:00:00:00:01"},{"name":"eth0","mac":"0a:00:00:00:00:02","sandbox":"/run/netns/fake"}],"ips":[{"address":"10.231.91.7/24","interface":1}]}""";

    private readonly string _root = Directory.CreateTempSubdirectory("skcni-driver-").FullName;
    private string Plugins => Path.Combine(_root, "bin");
    private string Log => Path.Combine(_root, "log");

    public CniDriverTests()
    {
        Directory.CreateDirectory(Plugins);
        Directory.CreateDirectory(Log);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A plugin that logs its command, stdin and CNI_ARGS, answers STATUS as <paramref name="status"/> says and ADD with <see cref="Result"/>.</summary>
    private void Plugin(string name, string status = "exit 0")
    {
        string path = Path.Combine(Plugins, name);
        File.WriteAllText(path, $$"""
            #!/bin/sh
            echo "$CNI_COMMAND {{name}}" >> {{Log}}/order
            cat > {{Log}}/$CNI_COMMAND.{{name}}.stdin
            echo "$CNI_ARGS" > {{Log}}/$CNI_COMMAND.{{name}}.args
            if [ "$CNI_COMMAND" = STATUS ]; then {{status}}; fi
            if [ "$CNI_COMMAND" = ADD ]; then printf '%s' '{{Result}}'; fi
            exit 0
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private string[] Order() => File.Exists(Path.Combine(Log, "order")) ? File.ReadAllLines(Path.Combine(Log, "order")) : [];

    private static NetworkDefinition Network(string version, string plugin, string extra = "") => new()
    {
        Id = new string('c', 64),
        Name = "skcnidrv",
        Driver = NetworkDrivers.Cni,
        Created = DateTimeOffset.UnixEpoch,
        CniConfig = $$"""{ "cniVersion": "{{version}}", "name": "skcni-drv", {{extra}} "plugins": [{{plugin}}] }""",
    };

    private static Endpoint Reserved => new()
    {
        ContainerId = new string('a', 64),
        ContainerName = "skcniweb",
        NetworkId = new string('c', 64),
        EndpointId = new string('e', 64),
        InterfaceName = "eth0",
        HostInterface = "",
        MacAddress = "",
    };

    private CniDriver Driver() => new(Path.Combine(_root, "cache"), [Plugins]);

    [Fact]
    public void A_network_whose_STATUS_fails_gets_no_ADD_and_the_error_is_Unavailable()
    {
        Plugin("fake", """echo '{"cniVersion":"1.1.0","code":50,"msg":"the daemon is down"}'; exit 1""");
        var network = Network("1.1.0", """{ "type": "fake" }""");
        var error = Assert.Throws<CniException>(() => Driver().Add(network, Reserved, "/run/netns/fake", new NetworkJoin(network, [])));
        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Equal("network skcnidrv is not ready for containers (its plugins' STATUS): CNI plugin fake failed STATUS for network skcni-drv: the daemon is down (code 50); try again when it is, or use another network", error.Message);
        Assert.Equal(["STATUS fake"], Order());
        Assert.False(Directory.Exists(Path.Combine(_root, "cache", "results")) && Directory.EnumerateFiles(Path.Combine(_root, "cache", "results")).Any());
    }

    [Fact]
    public void STATUS_runs_before_ADD_from_1_1_0_only_and_the_result_fills_the_endpoint()
    {
        Plugin("fake");
        var ready = Network("1.1.0", """{ "type": "fake" }""");
        var endpoint = Driver().Add(ready, Reserved, "/run/netns/fake", new NetworkJoin(ready, []));
        Assert.Equal(["STATUS fake", "ADD fake"], Order());
        Assert.Equal(IPAddress.Parse("10.231.91.7"), endpoint.IPv4);
        Assert.Equal("0a:00:00:00:00:02", endpoint.MacAddress);
        Assert.Equal("veth1", endpoint.HostInterface);

        File.Delete(Path.Combine(Log, "order"));
        var older = Network("1.0.0", """{ "type": "fake" }""");
        Driver().Add(older, Reserved with { ContainerId = new string('b', 64) }, "/run/netns/fake", new NetworkJoin(older, []));
        Assert.Equal(["ADD fake"], Order());
    }

    [Fact]
    public void Addresses_and_a_MAC_address_are_refused_unless_a_plugin_declares_the_capability()
    {
        var bare = Network("1.0.0", """{ "type": "bridge" }, { "type": "tuning" }""");
        var ip = Assert.Throws<NetworkException>(() => CniDriver.CheckJoin(new NetworkJoin(bare, [], IPv4: IPAddress.Parse("10.231.91.9"))));
        Assert.Equal(ErrorKind.InvalidArgument, ip.Kind);
        Assert.Contains("network skcnidrv cannot give the container an address of its choosing: none of its CNI plugins declares the \"ips\" capability", ip.Message);
        Assert.Contains("\"ips\" capability", Assert.Throws<NetworkException>(() => CniDriver.CheckJoin(new NetworkJoin(bare, [], IPv6: IPAddress.Parse("fd31:90::9")))).Message);
        var mac = Assert.Throws<NetworkException>(() => CniDriver.CheckJoin(new NetworkJoin(bare, [], MacAddress: "0a:31:90:00:00:09")));
        Assert.Contains("network skcnidrv cannot give the container a MAC address of its choosing: none of its CNI plugins declares the \"mac\" capability", mac.Message);
        CniDriver.CheckJoin(new NetworkJoin(bare, []));

        var capable = Network("1.0.0", """{ "type": "bridge", "capabilities": { "ips": true } }, { "type": "tuning", "capabilities": { "mac": true } }""");
        CniDriver.CheckJoin(new NetworkJoin(capable, [], IPAddress.Parse("10.231.91.9"), IPAddress.Parse("fd31:90::9"), "0a:31:90:00:00:09"));
    }

    [Fact]
    public void Chosen_addresses_and_MAC_reach_the_plugins_that_declare_ips_and_mac()
    {
        Plugin("ipam");
        Plugin("tune");
        var network = Network("1.0.0", """{ "type": "ipam", "capabilities": { "ips": true } }, { "type": "tune", "capabilities": { "mac": true } }""");
        Driver().Add(network, Reserved, "/run/netns/fake", new NetworkJoin(network, [], IPAddress.Parse("10.231.91.9"), null, "0a:31:90:00:00:09"));
        var ipam = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Log, "ADD.ipam.stdin")))!;
        var tune = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Log, "ADD.tune.stdin")))!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["10.231.91.9"]"""), ipam["runtimeConfig"]!["ips"]));
        Assert.Null(ipam["runtimeConfig"]!["mac"]);
        Assert.Equal("0a:31:90:00:00:09", (string?)tune["runtimeConfig"]!["mac"]);
        Assert.Null(tune["runtimeConfig"]!["ips"]);
        // As podman gives a single address, for plugins older than the capability.
        Assert.Equal("IgnoreUnknown=1;IP=10.231.91.9", File.ReadAllText(Path.Combine(Log, "ADD.ipam.args")).Trim());
    }

    [Fact]
    public void Check_runs_CHECK_unless_the_network_disables_it()
    {
        Plugin("fake");
        var network = Network("1.0.0", """{ "type": "fake" }""");
        var driver = Driver();
        var endpoint = driver.Add(network, Reserved, "/run/netns/fake", new NetworkJoin(network, []));
        Assert.True(driver.Check(network, endpoint, "/run/netns/fake"));
        Assert.Equal(["ADD fake", "CHECK fake"], Order());

        var disabled = Network("1.0.0", """{ "type": "fake" }""", "\"disableCheck\": true,");
        Assert.False(driver.Check(disabled, endpoint, "/run/netns/fake"));
        Assert.Equal(["ADD fake", "CHECK fake"], Order());
    }
}
