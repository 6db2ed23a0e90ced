using System.Net;
using Skiff.Network;

namespace Skiff.Network.Tests;

public sealed class NetworkStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-netstore-").FullName;
    private string DatabasePath => Path.Combine(_directory, "networks.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static NetworkDefinition Network(string name, string subnet, string? range = null) => new()
    {
        Id = Convert.ToHexStringLower(Skiff.Interop.SecureRandom.Bytes(32)),
        Name = name,
        Driver = NetworkDrivers.Bridge,
        BridgeName = "skt-" + name,
        Ipam = [new IpamConfig(IPNetwork.Parse(subnet), AddressPools.FirstHost(IPNetwork.Parse(subnet)), range is null ? null : IPNetwork.Parse(range))],
        Created = DateTimeOffset.UnixEpoch,
        Labels = new Dictionary<string, string> { ["a"] = "b" },
    };

    private static EndpointRequest For(string container, IPAddress? ip = null)
        => new() { ContainerId = container.PadRight(64, '0'), ContainerName = container, InterfaceName = "eth0", HostInterface = "vsk" + container, IPv4 = ip };

    [Fact]
    public void NetworksRoundTripAndAreFoundByNameIdAndPrefix()
    {
        using var store = NetworkStore.Open(DatabasePath);
        var network = Network("n1", "10.231.9.0/24", "10.231.9.128/25");
        store.Create(network);
        var found = store.Find("n1")!;
        Assert.Equal(network.Ipam, found.Ipam);
        Assert.Equal(network with { Ipam = found.Ipam, Options = found.Options, Labels = found.Labels }, found);
        Assert.Equal("b", store.Find(network.Id)!.Labels["a"]);
        Assert.Equal(network.Id, store.Find(network.Id[..5])!.Id);
        Assert.Null(store.Find("nothere"));
        var again = Assert.Throws<NetworkException>(() => store.Create(Network("n1", "10.231.8.0/24")));
        Assert.Equal(ErrorKind.AlreadyExists, again.Kind);
        Assert.Single(store.List());
    }

    [Fact]
    public void AddressesSkipTheGatewayAndAreNotReusedAtOnce()
    {
        using var store = NetworkStore.Open(DatabasePath);
        var network = Network("n", "10.231.9.0/29");
        store.Create(network);
        var a = store.Allocate(network, For("a"));
        var b = store.Allocate(network, For("b"));
        Assert.Equal(IPAddress.Parse("10.231.9.2"), a.IPv4);
        Assert.Equal(IPAddress.Parse("10.231.9.3"), b.IPv4);
        Assert.Equal("02:42:0a:e7:09:02", a.MacAddress);
        store.Release(a.ContainerId, network.Id);
        // .2 was released: the next is .4, not .2 again.
        Assert.Equal(IPAddress.Parse("10.231.9.4"), store.Allocate(network, For("c")).IPv4);
        Assert.Equal(IPAddress.Parse("10.231.9.5"), store.Allocate(network, For("d")).IPv4);
        Assert.Equal(IPAddress.Parse("10.231.9.6"), store.Allocate(network, For("e")).IPv4);
        // Wraps around to the released one; then the /29 is full (.7 is its broadcast).
        Assert.Equal(IPAddress.Parse("10.231.9.2"), store.Allocate(network, For("f")).IPv4);
        var full = Assert.Throws<NetworkException>(() => store.Allocate(network, For("g")));
        Assert.Equal(ErrorKind.ResourceExhausted, full.Kind);
        Assert.Equal(5, store.EndpointsIn(network.Id).Count);
    }

    [Fact]
    public void RequestedAddressesAreChecked()
    {
        using var store = NetworkStore.Open(DatabasePath);
        var network = Network("n", "10.231.9.0/24");
        store.Create(network);
        Assert.Equal(IPAddress.Parse("10.231.9.50"), store.Allocate(network, For("a", IPAddress.Parse("10.231.9.50"))).IPv4);
        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<NetworkException>(() => store.Allocate(network, For("b", IPAddress.Parse("10.231.9.50")))).Kind);
        Assert.Contains("outside network n's subnet", Assert.Throws<NetworkException>(() => store.Allocate(network, For("b", IPAddress.Parse("10.231.10.5")))).Message);
        Assert.Contains("reserved", Assert.Throws<NetworkException>(() => store.Allocate(network, For("b", IPAddress.Parse("10.231.9.1")))).Message);
        Assert.Contains("no IPv6 subnet", Assert.Throws<NetworkException>(() => store.Allocate(network, For("b") with { IPv6 = IPAddress.Parse("fd31::5") })).Message);
        Assert.Contains("already connected", Assert.Throws<NetworkException>(() => store.Allocate(network, For("a"))).Message);
    }

    [Fact]
    public void ANetworkWithEndpointsIsNotDeleted()
    {
        using var store = NetworkStore.Open(DatabasePath);
        var network = Network("n", "10.231.9.0/24");
        store.Create(network);
        var endpoint = store.Allocate(network, For("a"));
        Assert.False(store.Delete(network.Id));
        store.Release(endpoint.ContainerId, network.Id);
        Assert.True(store.Delete(network.Id));
        Assert.Null(store.Find("n"));
    }

    [Fact]
    public void ConcurrentAllocationsFromSeveralConnectionsNeverShareAnAddress()
    {
        var network = Network("n", "10.231.9.0/24");
        using (var store = NetworkStore.Open(DatabasePath))
            store.Create(network);
        var addresses = new System.Collections.Concurrent.ConcurrentBag<IPAddress>();
        Parallel.For(0, 4, worker =>
        {
            using var store = NetworkStore.Open(DatabasePath);
            for (int i = 0; i < 25; i++)
                addresses.Add(store.Allocate(network, For($"w{worker}-{i}-")).IPv4!);
        });
        Assert.Equal(100, addresses.Distinct().Count());
    }
}
