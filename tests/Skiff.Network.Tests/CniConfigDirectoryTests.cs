using Microsoft.Extensions.Logging;

namespace Skiff.Network.Tests;

/// <summary>The networks of a CNI configuration directory offered as the store's, as podman offers them.</summary>
public sealed class CniConfigDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("skcni-dir-").FullName;
    private readonly ListLogger _logger = new();
    private string ConfigDirectory => Path.Combine(_root, "net.d");

    public CniConfigDirectoryTests() => Directory.CreateDirectory(ConfigDirectory);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A new service, as each command opens one: the directory is read once per service.</summary>
    private NetworkService Open(string? directory = "") => NetworkService.Open(new NetworkServiceOptions
    {
        DatabasePath = Path.Combine(_root, "networks.db"),
        RunRoot = Path.Combine(_root, "run"),
        DefaultBridgeName = "skcni9",
        CniConfigDirectory = directory == "" ? ConfigDirectory : directory,
        Logger = _logger,
    });

    private void Write(string file, string name, string type = "bridge")
        => File.WriteAllText(Path.Combine(ConfigDirectory, file), $$"""{ "cniVersion": "1.0.0", "name": "{{name}}", "plugins": [{ "type": "{{type}}" }] }""");

    private static string[] CniNames(NetworkService service) => [.. service.List().Where(n => n.Driver == NetworkDrivers.Cni).Select(n => n.Name).Order()];

    [Fact]
    public void Conflists_and_single_plugin_confs_become_networks_named_by_their_name_the_first_file_of_a_name_winning()
    {
        Write("10-skcnia.conflist", "skcnia", "bridge");
        Write("20-skcnia.conflist", "skcnia", "macvlan");
        File.WriteAllText(Path.Combine(ConfigDirectory, "30-single.conf"), """{ "cniVersion": "1.0.0", "name": "skcnib", "type": "ptp" }""");
        File.WriteAllText(Path.Combine(ConfigDirectory, "40-broken.conflist"), "{ not json");
        File.WriteAllText(Path.Combine(ConfigDirectory, "README"), "not a configuration");

        using var service = Open();
        Assert.Equal(["skcnia", "skcnib"], CniNames(service));
        var a = service.Get("skcnia");
        Assert.Equal(Path.Combine(ConfigDirectory, "10-skcnia.conflist"), a.CniConfigFile);
        Assert.Contains("\"bridge\"", a.CniConfig);
        Assert.Contains("\"plugins\":[{\"cniVersion\":\"1.0.0\",\"name\":\"skcnib\",\"type\":\"ptp\"}]", service.Get("skcnib").CniConfig);
        Assert.Contains(_logger.Lines, l => l.StartsWith("Warning: ") && l.Contains("20-skcnia.conflist is ignored") && l.Contains("10-skcnia.conflist configures network skcnia already"));
        Assert.Contains(_logger.Lines, l => l.StartsWith("Warning: ") && l.Contains("40-broken.conflist is invalid"));
        Assert.Equal(2, _logger.Lines.Count);
        // The bad files fail nothing, and the rows are the same at the next command.
        string id = a.Id;
        using var again = Open();
        Assert.Equal(id, again.Get("skcnia").Id);
    }

    [Fact]
    public void A_changed_file_is_read_again_and_a_removed_one_takes_its_network_unless_a_container_is_on_it()
    {
        Write("10-skcnia.conflist", "skcnia", "bridge");
        Write("20-skcnib.conflist", "skcnib", "bridge");
        using (var first = Open())
            Assert.Equal(["skcnia", "skcnib"], CniNames(first));

        Write("10-skcnia.conflist", "skcnia", "ipvlan");
        using (var second = Open())
        {
            Assert.Contains("\"ipvlan\"", second.Get("skcnia").CniConfig);
            second.Store.Allocate(second.Get("skcnib"), new EndpointRequest { ContainerId = new string('a', 64), ContainerName = "skcniweb", InterfaceName = "eth0", HostInterface = "" });
        }
        File.Delete(Path.Combine(ConfigDirectory, "10-skcnia.conflist"));
        File.Delete(Path.Combine(ConfigDirectory, "20-skcnib.conflist"));
        using (var third = Open())
        {
            Assert.Equal(["skcnib"], CniNames(third));
            third.Store.Release(new string('a', 64), third.Get("skcnib").Id);
        }
        using (var fourth = Open())
            Assert.Empty(CniNames(fourth));
    }

    [Fact]
    public void A_network_of_the_store_keeps_its_name_and_a_directory_network_is_not_removed_by_skiff()
    {
        using (var store = NetworkStore.Open(Path.Combine(_root, "networks.db")))
            store.Create(new NetworkDefinition { Id = new string('d', 64), Name = "skcnia", Driver = NetworkDrivers.Cni, Created = DateTimeOffset.UnixEpoch, CniConfig = "{}" });
        Write("10-skcnia.conflist", "skcnia", "macvlan");
        Write("20-skcnib.conflist", "skcnib");

        using var service = Open();
        var kept = service.Get("skcnia");
        Assert.Equal(new string('d', 64), kept.Id);
        Assert.Null(kept.CniConfigFile);

        var refused = Assert.Throws<NetworkException>(() => service.Remove(service.Get("skcnib")));
        Assert.Equal(ErrorKind.FailedPrecondition, refused.Kind);
        Assert.Equal($"network skcnib is configured by {Path.Combine(ConfigDirectory, "20-skcnib.conflist")} in the CNI configuration directory: remove or move that file to remove the network", refused.Message);
        Assert.NotNull(service.Store.Find("skcnib"));
        Assert.Equal(new string('d', 64), service.List().Single(n => n.Name == "skcnia").Id);
        Assert.Contains(_logger.Lines, l => l == $"Warning: The CNI configuration {Path.Combine(ConfigDirectory, "10-skcnia.conflist")} is ignored: network skcnia of this store has that name already; rename one of them.");
    }

    [Fact]
    public void Looking_up_a_network_the_store_made_reads_no_directory()
    {
        Write("10-skcnia.conflist", "skcnia");
        using (var service = Open())
        {
            Assert.Equal("bridge", service.Get("bridge").Name);
            Assert.Null(service.Store.Find("skcnia"));
            Assert.Equal("skcnia", service.Get("skcnia").Name);
        }
    }

    [Fact]
    public void Without_a_directory_or_with_a_missing_one_there_are_no_such_networks()
    {
        Write("10-skcnia.conflist", "skcnia");
        using (var none = Open(directory: null))
            Assert.Empty(CniNames(none));
        using (var missing = Open(Path.Combine(_root, "nowhere")))
            Assert.Empty(CniNames(missing));
        Assert.Empty(_logger.Lines);
    }
}
