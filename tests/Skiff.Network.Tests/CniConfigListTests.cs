using System.Text.Json.Nodes;
using Skiff.Network.Cni;

namespace Skiff.Network.Tests;

public sealed class CniConfigListTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skcni-conf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Conflist = """
        {
          "cniVersion": "1.0.0",
          "name": "mynet",
          "disableCheck": "true",
          "plugins": [
            { "type": "bridge", "bridge": "cni0", "ipam": { "type": "host-local", "subnet": "10.1.0.0/24" } },
            { "type": "portmap", "capabilities": { "portMappings": true, "ips": false }, "snat": true }
          ]
        }
        """;

    [Fact]
    public void A_conflist_keeps_each_plugins_fields_as_written()
    {
        var list = CniConfigList.Parse(Conflist, "x.conflist");
        Assert.Equal("1.0.0", list.CniVersion);
        Assert.Equal("mynet", list.Name);
        Assert.True(list.DisableCheck);
        Assert.False(list.DisableGC);
        Assert.Equal(["bridge", "portmap"], list.Plugins.Select(p => p.Type));
        Assert.Empty(list.Plugins[0].Capabilities);
        Assert.Equal(["portMappings"], list.Plugins[1].Capabilities);
        var bridge = JsonNode.Parse(list.Plugins[0].ToJson())!;
        Assert.Equal("cni0", (string)bridge["bridge"]!);
        Assert.Equal("10.1.0.0/24", (string)bridge["ipam"]!["subnet"]!);
        Assert.Equal("x.conflist", list.Source);
    }

    [Fact]
    public void A_single_plugin_conf_becomes_a_list_of_that_plugin()
    {
        var list = CniConfigList.Parse("""{ "cniVersion": "0.4.0", "name": "one", "type": "bridge", "isGateway": true, "disableCheck": true }""");
        Assert.Equal("0.4.0", list.CniVersion);
        Assert.Equal("one", list.Name);
        Assert.True(list.DisableCheck);
        var plugin = Assert.Single(list.Plugins);
        Assert.Equal("bridge", plugin.Type);
        Assert.True((bool)JsonNode.Parse(plugin.ToJson())!["isGateway"]!);
        Assert.Equal("bridge", (string)JsonNode.Parse(list.ToJson())!["plugins"]![0]!["type"]!);
    }

    [Fact]
    public void The_highest_known_version_of_cniVersion_and_cniVersions_is_chosen()
    {
        var list = CniConfigList.Parse("""{ "cniVersion": "0.4.0", "cniVersions": ["1.0.0", "9.9.9", "0.3.1"], "name": "n", "plugins": [{ "type": "a" }] }""");
        Assert.Equal("1.0.0", list.CniVersion);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("""{ "cniVersion": "1.0.0", "cniVersion": "0.4.0", "name": "n", "plugins": [{ "type": "a" }] }""", "Duplicate property 'cniVersion'")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n" }""", "neither \"plugins\"")]
    [InlineData("""{ "name": "n", "plugins": [{ "type": "a" }] }""", "no \"cniVersion\"")]
    [InlineData("""{ "cniVersion": 1, "name": "n", "plugins": [{ "type": "a" }] }""", "\"cniVersion\" is not a string")]
    [InlineData("""{ "cniVersion": "2.0.0", "name": "n", "plugins": [{ "type": "a" }] }""", "cniVersion 2.0.0 is not a CNI version Skiff knows")]
    [InlineData("""{ "cniVersion": "1.0.0", "plugins": [{ "type": "a" }] }""", "no \"name\"")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "../etc", "plugins": [{ "type": "a" }] }""", "is not a network name")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "plugins": {} }""", "\"plugins\" is not a list")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "plugins": [] }""", "\"plugins\" is empty")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "plugins": [{ "type": "a" }, { "bridge": "x" }] }""", "plugin 2 has no \"type\"")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "plugins": [{ "type": "../../bin/sh" }] }""", "which is a path")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "plugins": [42] }""", "plugin 1 is not a JSON object")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "plugins": [{ "type": "a", "capabilities": { "x": "yes" } }] }""", "capability \"x\"")]
    [InlineData("""{ "cniVersion": "1.0.0", "name": "n", "disableCheck": "maybe", "plugins": [{ "type": "a" }] }""", "\"disableCheck\" is not true or false")]
    public void Invalid_configurations_are_refused_with_the_file_and_what_is_wrong(string json, string what)
    {
        var error = Assert.Throws<CniException>(() => CniConfigList.Parse(json, "/etc/cni/net.d/x.conflist"));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith("The CNI configuration /etc/cni/net.d/x.conflist is invalid: ", error.Message);
        Assert.Contains(what, error.Message);
        Assert.EndsWith(".", error.Message);
    }

    [Fact]
    public void Load_names_the_file_it_cannot_read()
    {
        string missing = Path.Combine(_dir, "missing.conflist");
        var error = Assert.Throws<CniException>(() => CniConfigList.Load(missing));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains(missing, error.Message);

        string bad = Path.Combine(_dir, "bad.conflist");
        File.WriteAllText(bad, "{}");
        Assert.Contains(bad, Assert.Throws<CniException>(() => CniConfigList.Load(bad)).Message);
    }

    [Fact]
    public void LoadDirectory_reads_conf_conflist_and_json_in_name_order_first_name_winning()
    {
        File.WriteAllText(Path.Combine(_dir, "20-a.conf"), """{ "cniVersion": "1.0.0", "name": "a", "type": "bridge" }""");
        File.WriteAllText(Path.Combine(_dir, "10-b.conflist"), """{ "cniVersion": "1.0.0", "name": "b", "plugins": [{ "type": "ptp" }] }""");
        File.WriteAllText(Path.Combine(_dir, "30-dup.json"), """{ "cniVersion": "1.0.0", "name": "b", "plugins": [{ "type": "macvlan" }] }""");
        File.WriteAllText(Path.Combine(_dir, "40-bad.conflist"), """{ "cniVersion": "1.0.0", "name": "c" }""");
        File.WriteAllText(Path.Combine(_dir, "50-notes.txt"), "not a configuration");
        var problems = new List<CniException>();

        var networks = CniConfigList.LoadDirectory(_dir, problems);

        Assert.Equal(["b", "a"], networks.Select(n => n.Name));
        Assert.Equal("ptp", networks[0].Plugins[0].Type);
        Assert.Equal(2, problems.Count);
        Assert.Contains("30-dup.json", problems[0].Message);
        Assert.Contains("10-b.conflist configures network b already", problems[0].Message);
        Assert.Contains("40-bad.conflist", problems[1].Message);
        Assert.Empty(CniConfigList.LoadDirectory(Path.Combine(_dir, "none")));
    }
}
