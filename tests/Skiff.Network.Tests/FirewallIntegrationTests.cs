using System.Net;
using Skiff.Network.Firewall;

namespace Skiff.Network.Tests;

/// <summary>
/// The firewall in the host's network namespace (where Skiff's bridges live), each test with its own table and its own
/// namespaces: 10.231.2.0/26, .64/26 and .128/26 (internal) are three networks, 10.231.12.0/24 the outside world,
/// 10.231.22.0/24 a client host.
/// </summary>
[Collection("firewall")] // the tests share the host's forwarding path; one at a time keeps their packets apart
public sealed class FirewallIntegrationTests
{
    private static FirewallNetwork Network(string id, string bridge, string subnet, bool @internal = false)
        => new(id, bridge, [IPNetwork.Parse(subnet)], @internal);

    private static int RandomPort() => Random.Shared.Next(47000, 48000);

    [FirewallFact]
    public void TrafficLeavingANetworkIsMasqueradedAndAnInternalNetworkHasNoEgress()
    {
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        var b1 = lab.Bridge(1, "10.231.2.1", 26);
        var b3 = lab.Bridge(3, "10.231.2.129", 26);
        var c1 = lab.Container("c1", b1, "10.231.2.2", 26, "10.231.2.1");
        var c4 = lab.Container("c4", b3, "10.231.2.130", 26, "10.231.2.129");
        var outside = lab.Routed("out", "10.231.12");
        lab.Httpd(outside, 8000);

        // The outside has no route back to the containers: only masquerade lets an answer reach them.
        Assert.Null(lab.Fetch(c1, "10.231.12.2", 8000));
        firewall.AddNetwork(Network("n1", b1, "10.231.2.0/26"));
        firewall.AddNetwork(Network("n3", b3, "10.231.2.128/26", @internal: true));

        Assert.Equal("10.231.12.1", lab.Fetch(c1, "10.231.12.2", 8000));
        FirewallLab.Sh($"ip -n {outside} route add 10.231.2.128/26 via 10.231.12.1");
        Assert.Null(lab.Fetch(c4, "10.231.12.2", 8000));
        Assert.False(lab.Ping(c4, "10.231.12.2"));
    }

    [FirewallFact]
    public void ContainersOfOneNetworkReachEachOtherAndNoOtherNetwork()
    {
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        var b1 = lab.Bridge(1, "10.231.2.1", 26);
        var b2 = lab.Bridge(2, "10.231.2.65", 26);
        var b3 = lab.Bridge(3, "10.231.2.129", 26);
        var c1 = lab.Container("c1", b1, "10.231.2.2", 26, "10.231.2.1");
        var c2 = lab.Container("c2", b1, "10.231.2.3", 26, "10.231.2.1");
        var c3 = lab.Container("c3", b2, "10.231.2.66", 26, "10.231.2.65");
        var c4 = lab.Container("c4", b3, "10.231.2.130", 26, "10.231.2.129");
        var c5 = lab.Container("c5", b3, "10.231.2.131", 26, "10.231.2.129");

        Assert.True(lab.Ping(c1, "10.231.2.66")); // routed between bridges until the firewall isolates them
        firewall.AddNetwork(Network("n1", b1, "10.231.2.0/26"));
        firewall.AddNetwork(Network("n2", b2, "10.231.2.64/26"));
        firewall.AddNetwork(Network("n3", b3, "10.231.2.128/26", @internal: true));

        Assert.True(lab.Ping(c1, "10.231.2.3"));
        Assert.True(lab.Ping(c2, "10.231.2.2"));
        Assert.True(lab.Ping(c4, "10.231.2.131"));
        Assert.True(lab.Ping(c5, "10.231.2.130"));
        Assert.False(lab.Ping(c1, "10.231.2.66"));
        Assert.False(lab.Ping(c3, "10.231.2.2"));
        Assert.False(lab.Ping(c4, "10.231.2.2"));
        Assert.False(lab.Ping(c1, "10.231.2.130"));
    }

    [FirewallFact]
    public void APublishedPortIsReachedFromLoopbackTheHostItsNetworkOtherNetworksAndAnotherHost()
    {
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        var b1 = lab.Bridge(1, "10.231.2.1", 26);
        var b2 = lab.Bridge(2, "10.231.2.65", 26);
        var c1 = lab.Container("c1", b1, "10.231.2.2", 26, "10.231.2.1");
        var c2 = lab.Container("c2", b1, "10.231.2.3", 26, "10.231.2.1");
        var c3 = lab.Container("c3", b2, "10.231.2.66", 26, "10.231.2.65");
        var client = lab.Routed("cli", "10.231.22");
        FirewallLab.Sh($"ip -n {client} route add 10.231.2.0/24 via 10.231.22.1");
        lab.Httpd(c1, 80);
        firewall.AddNetwork(Network("n1", b1, "10.231.2.0/26"));
        firewall.AddNetwork(Network("n2", b2, "10.231.2.64/26"));
        var withoutPorts = lab.ListTable();
        var port = RandomPort();

        Assert.Null(lab.Fetch(client, "10.231.22.1", port));
        firewall.AddPortMappings("ep1", [new("tcp", null, port, IPAddress.Parse("10.231.2.2"), 80, b1)]);
        Assert.Null(lab.Fetch(null, "127.0.0.1", port)); // the kernel drops a loopback source on the bridge...
        NetworkFirewall.EnableLocalhostForwarding(b1);
        Assert.Equal("1", File.ReadAllText($"/proc/sys/net/ipv4/conf/{b1}/route_localnet").Trim());

        Assert.Equal("10.231.2.1", lab.Fetch(null, "127.0.0.1", port)); // ...until route_localnet lets it out
        Assert.Equal("10.231.2.1", lab.Fetch(null, "10.231.2.1", port));
        Assert.Equal("10.231.22.2", lab.Fetch(client, "10.231.22.1", port));
        Assert.Equal("10.231.2.1", lab.Fetch(c2, "10.231.22.1", port)); // another container of its network, through the host's address
        Assert.Equal("10.231.2.1", lab.Fetch(c1, "10.231.22.1", port)); // hairpin: the container itself
        Assert.NotNull(lab.Fetch(c3, "10.231.22.1", port)); // a container of another network
        Assert.Null(lab.Fetch(client, "10.231.2.2", 80)); // only published ports come in
        Assert.Equal(["ep1"], firewall.ListEndpointIds());

        Assert.True(FirewallLab.TrackedTo(port, "10.231.2.2") > 0);
        firewall.RemovePortMappings("ep1");
        Assert.Equal(0, FirewallLab.TrackedTo(port, "10.231.2.2"));
        Assert.Null(lab.Fetch(client, "10.231.22.1", port));
        Assert.Null(lab.Fetch(null, "127.0.0.1", port));
        Assert.Empty(firewall.ListEndpointIds());
        Assert.Equal(withoutPorts, lab.ListTable());
        firewall.RemovePortMappings("ep1"); // again: nothing left to do
    }

    [FirewallFact]
    public void AUdpFlowIsForgottenWhenItsPortIsUnpublished()
    {
        // Without this, a client that keeps sending keeps its conntrack entry, and with it the old DNAT, forever.
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        var b1 = lab.Bridge(1, "10.231.2.1", 26);
        lab.Container("c1", b1, "10.231.2.2", 26, "10.231.2.1");
        var client = lab.Routed("cli", "10.231.22");
        firewall.AddNetwork(Network("n1", b1, "10.231.2.0/26"));
        var port = RandomPort();
        firewall.AddPortMappings("ep1", [new("udp", null, port, IPAddress.Parse("10.231.2.2"), 5353, b1)]);

        FirewallLab.Sh($"ip netns exec {client} bash -c 'echo x > /dev/udp/10.231.22.1/{port}'");
        // The datagram crosses the veth in a softirq that may run after the sender returns.
        for (var i = 0; i < 50 && FirewallLab.TrackedTo(port, "10.231.2.2", 5353) == 0; i++)
            Thread.Sleep(20);
        Assert.Equal(1, FirewallLab.TrackedTo(port, "10.231.2.2", 5353));
        firewall.RemovePortMappings("ep1");
        Assert.Equal(0, FirewallLab.TrackedTo(port, "10.231.2.2", 5353));
    }

    [FirewallFact]
    public void APortOnOneHostAddressAnswersThereOnly()
    {
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        var b1 = lab.Bridge(1, "10.231.2.1", 26);
        var c1 = lab.Container("c1", b1, "10.231.2.2", 26, "10.231.2.1");
        var client = lab.Routed("cli", "10.231.22");
        lab.Httpd(c1, 80);
        firewall.AddNetwork(Network("n1", b1, "10.231.2.0/26"));
        NetworkFirewall.EnableLocalhostForwarding(b1);
        var port = RandomPort();
        firewall.AddPortMappings("ep1", [new("tcp", IPAddress.Loopback, port, IPAddress.Parse("10.231.2.2"), 80, b1)]);

        Assert.Equal("10.231.2.1", lab.Fetch(null, "127.0.0.1", port));
        Assert.Null(lab.Fetch(client, "10.231.22.1", port));
    }

    [FirewallFact]
    public void AnIPv6PortIsPublishedToTheContainersIPv6Address()
    {
        // Host-originated only: the host's IPv6 forwarding is off and is not the tests' to turn on.
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        var b1 = lab.Bridge(1, "10.231.2.1", 26, "fd31:2::1");
        var c1 = lab.Container("c1", b1, "10.231.2.2", 26, "10.231.2.1", "fd31:2::2");
        lab.Httpd(c1, 80);
        firewall.AddNetwork(new("n1", b1, [IPNetwork.Parse("10.231.2.0/26"), IPNetwork.Parse("fd31:2::/64")], Internal: false));
        var port = RandomPort();
        Assert.Null(lab.Fetch(null, "fd31:2::1", port));

        firewall.AddPortMappings("ep1", [new("tcp", null, port, IPAddress.Parse("10.231.2.2"), 80, b1), new("tcp", null, port, IPAddress.Parse("fd31:2::2"), 80, b1)]);
        Assert.Equal("fd31:2::1", lab.Fetch(null, "fd31:2::1", port));
        Assert.Equal("10.231.2.1", lab.Fetch(null, "10.231.2.1", port));

        firewall.RemovePortMappings("ep1");
        Assert.Null(lab.Fetch(null, "fd31:2::1", port));
        firewall.RemoveNetwork("n1");
        Assert.Null(lab.ListTable());
    }

    [FirewallFact]
    public void RemovingNetworksLeavesNothingOfThemAndTheLastTakesTheTable()
    {
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        firewall.AddNetwork(Network("n1", "sknftx1", "10.231.2.0/26"));
        var one = lab.ListTable();
        firewall.AddNetwork(Network("n1", "sknftx1", "10.231.2.0/26"));
        Assert.Equal(one, lab.ListTable()); // idempotent

        firewall.AddNetwork(Network("n2", "sknftx2", "10.231.2.64/26", @internal: true) with
            { Subnets = [IPNetwork.Parse("10.231.2.64/26"), IPNetwork.Parse("fd31:2::/64")] });
        firewall.AddPortMappings("ep2", [new("udp", null, RandomPort(), IPAddress.Parse("10.231.2.70"), 53, "sknftx2"),
            new("tcp", null, RandomPort(), IPAddress.Parse("fd31:2::70"), 80, "sknftx2")]);
        Assert.Equal(["n1", "n2"], firewall.ListNetworkIds().Order());
        Assert.Equal(["ep2"], firewall.ListEndpointIds());

        firewall.RemoveNetwork("n2"); // its endpoint's ports go with it
        Assert.Equal(one, lab.ListTable());
        Assert.Equal(["n1"], firewall.ListNetworkIds());
        Assert.Empty(firewall.ListEndpointIds());
        firewall.RemoveNetwork("n2");
        firewall.RemoveNetwork("n1");
        Assert.Null(lab.ListTable());
        Assert.Empty(firewall.ListNetworkIds());
        firewall.RemoveNetwork("n1");
    }

    [FirewallFact]
    public void BadInputAndConflictsChangeNothing()
    {
        using var lab = new FirewallLab();
        var firewall = new NetworkFirewall(lab.Table);
        Assert.Throws<FirewallException>(() => firewall.AddNetwork(Network("n1", "sknft/x", "10.231.2.0/26")));
        Assert.Null(lab.ListTable());

        firewall.AddNetwork(Network("n1", "sknftx1", "10.231.2.0/26"));
        var port = RandomPort();
        firewall.AddPortMappings("ep1", [new("tcp", null, port, IPAddress.Parse("10.231.2.2"), 80, "sknftx1")]);
        var before = lab.ListTable();
        var c = IPAddress.Parse("10.231.2.3");

        var zero = Assert.Throws<FirewallException>(() => firewall.AddPortMappings("ep2", [new("tcp", null, port + 1, c, 80, "sknftx1"), new("tcp", null, 0, c, 81, "sknftx1")]));
        Assert.Equal(ErrorKind.InvalidArgument, zero.Kind);
        // The kernel refuses the second element (ep1 publishes that port): the first of the batch is not applied either.
        var taken = Assert.Throws<Skiff.Interop.NftablesException>(() => firewall.AddPortMappings("ep2", [new("tcp", null, port + 1, c, 80, "sknftx1"), new("tcp", null, port, c, 81, "sknftx1")]));
        Assert.Equal(ErrorKind.AlreadyExists, taken.Kind);
        Assert.StartsWith("Cannot publish the ports of endpoint ep2: nftables refused the change: Could not process rule: File exists", taken.Message);
        Assert.Contains("overlaps", Assert.Throws<Skiff.Interop.NftablesException>(() => firewall.AddNetwork(Network("n2", "sknftx2", "10.231.2.0/25"))).Message);
        Assert.Equal(before, lab.ListTable());
    }
}
