using System.Net;
using Skiff.Network;

namespace Skiff.Network.Tests;

public class NetworkPlannerTests
{
    private static readonly string Id = new('a', 64);

    private static NetworkDefinition Plan(NetworkCreateRequest request, params string[] taken)
        => NetworkPlanner.Plan(request, Id, [.. taken.Select(IPNetwork.Parse)], AddressPools.Default, _ => false, DateTimeOffset.UnixEpoch);

    [Fact]
    public void WithoutASubnetTheFirstFreePoolSubnetIsTaken()
    {
        var network = Plan(new NetworkCreateRequest { Name = "n" }, "172.17.0.0/16", "172.18.5.0/24");
        var ipam = Assert.Single(network.Ipam);
        Assert.Equal(IPNetwork.Parse("172.19.0.0/16"), ipam.Subnet);
        Assert.Equal(IPAddress.Parse("172.19.0.1"), ipam.Gateway);
        Assert.Equal("skbr-aaaaaaaaaa", network.BridgeName);
    }

    [Fact]
    public void SubnetGatewayRangeAndIPv6()
    {
        var network = Plan(new NetworkCreateRequest
        {
            Name = "n", Subnets = ["10.231.9.0/24", "fd31:9::/64"], Gateways = ["10.231.9.254"], IpRanges = ["10.231.9.128/25"], EnableIPv6 = true,
            Options = new Dictionary<string, string> { ["com.docker.network.bridge.name"] = "skmine", ["mtu"] = "1400" },
        });
        Assert.Equal([new IpamConfig(IPNetwork.Parse("10.231.9.0/24"), IPAddress.Parse("10.231.9.254"), IPNetwork.Parse("10.231.9.128/25")),
            new IpamConfig(IPNetwork.Parse("fd31:9::/64"), IPAddress.Parse("fd31:9::1"))], network.Ipam);
        Assert.Equal("skmine", network.BridgeName);
        Assert.Equal(1400, network.Mtu);
        Assert.True(network.EnableIPv6);
    }

    [Fact]
    public void IPv6WithoutASubnetGetsAUniqueLocalOne()
    {
        var network = Plan(new NetworkCreateRequest { Name = "n", EnableIPv6 = true });
        var v6 = network.Ipam.Single(c => c.Subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        Assert.Equal(64, v6.Subnet.PrefixLength);
        Assert.Equal(0xfd, v6.Subnet.BaseAddress.GetAddressBytes()[0]);
    }

    [Theory]
    [InlineData("10.231.9.0/24", "10.231.10.1", null, "is in none of the network's subnets")]
    [InlineData("10.231.9.0/24", null, "10.231.10.0/25", "is not inside any of the network's subnets")]
    [InlineData("10.231.9.1/24", null, null, "has host bits set: use 10.231.9.0/24 instead")]
    [InlineData("10.231.9.0/33", null, null, "is not a CIDR")]
    [InlineData("10.231.9.0/24", "10.231.9.0", null, "the subnet's own or broadcast address")]
    [InlineData("10.231.9.0/31", null, null, "too small")]
    public void BadIpamIsRefused(string subnet, string? gateway, string? range, string reason)
    {
        var error = Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest
        {
            Name = "n", Subnets = [subnet], Gateways = gateway is null ? [] : [gateway], IpRanges = range is null ? [] : [range],
        }));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void AnOverlappingSubnetIsRefused()
    {
        var error = Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Subnets = ["10.231.9.0/24"] }, "10.231.0.0/16"));
        Assert.Contains("the subnet 10.231.9.0/24 overlaps 10.231.0.0/16", error.Message);
        var twice = Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Subnets = ["10.231.9.0/24", "10.231.9.128/25"] }));
        Assert.Contains("overlap", twice.Message);
    }

    [Theory]
    [InlineData("bridge", "pre-defined")]
    [InlineData("-x", "not a valid network name")]
    [InlineData("a b", "not a valid network name")]
    public void BadNamesAreRefused(string name, string reason)
        => Assert.Contains(reason, Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = name })).Message);

    [Fact]
    public void UnknownDriversOptionsAndBridgeNamesAreRefused()
    {
        Assert.Contains("driver \"overlay\" is not available", Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Driver = "overlay" })).Message);
        Assert.Contains("has no option foo", Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Options = new Dictionary<string, string> { ["foo"] = "1" } })).Message);
        Assert.Contains("not a number from 68", Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Options = new Dictionary<string, string> { ["mtu"] = "9" } })).Message);
        Assert.Contains("not a valid interface name", Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Options = new Dictionary<string, string> { [NetworkPlanner.BridgeNameOption] = "much-too-long-name" } })).Message);
        var exists = Assert.Throws<NetworkException>(() => NetworkPlanner.Plan(new NetworkCreateRequest { Name = "n" }, Id, [], AddressPools.Default, _ => true, DateTimeOffset.UnixEpoch));
        Assert.Equal(ErrorKind.AlreadyExists, exists.Kind);
    }

    [Fact]
    public void ACniNetworksConflistIsCheckedAtCreateAndKeptAsWritten()
    {
        const string conflist = """{ "cniVersion": "1.0.0", "name": "other-name", "plugins": [ { "type": "bridge" } ] }""";
        var network = Plan(new NetworkCreateRequest { Name = "n", Driver = NetworkDrivers.Cni, CniConfig = conflist, CniConfigSource = "/x/n.conflist" });
        Assert.Equal(("n", NetworkDrivers.Cni, conflist), (network.Name, network.Driver, network.CniConfig));
        Assert.Empty(network.Ipam);

        var bad = Assert.Throws<Cni.CniException>(() => Plan(new NetworkCreateRequest { Name = "n", Driver = NetworkDrivers.Cni, CniConfig = """{ "cniVersion": "1.0.0", "name": "x" }""", CniConfigSource = "/x/n.conflist" }));
        Assert.Equal(ErrorKind.InvalidArgument, bad.Kind);
        Assert.StartsWith("The CNI configuration /x/n.conflist is invalid: ", bad.Message);
        Assert.Contains("needs a CNI configuration list", Assert.Throws<NetworkException>(() => Plan(new NetworkCreateRequest { Name = "n", Driver = NetworkDrivers.Cni })).Message);
    }
}
