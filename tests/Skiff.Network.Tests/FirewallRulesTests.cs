using System.Net;
using Skiff.Network.Firewall;

namespace Skiff.Network.Tests;

public sealed class FirewallRulesTests
{
    private static readonly FirewallNetwork Net = new("n1", "skbr-n1", [IPNetwork.Parse("10.231.2.0/26"), IPNetwork.Parse("fd31:2::/64")], Internal: false);

    [Fact]
    public void ANetworkGetsItsChainAndElementsMarkedWithItsId()
    {
        var batch = FirewallRules.AddNetwork("sk", Net);
        Assert.Contains("add chain inet sk net-n1\nflush chain inet sk net-n1\n", batch);
        Assert.Contains("add rule inet sk net-n1 iifname \"skbr-n1\" accept\n", batch);
        Assert.Contains("add rule inet sk net-n1 ct state established,related accept\n", batch);
        Assert.Contains("add rule inet sk net-n1 ct status dnat accept\n", batch);
        Assert.EndsWith("drop\n", batch.Split("add element")[0]);
        Assert.Contains("add element inet sk fwd_in { \"skbr-n1\" comment \"n1\" : jump net-n1 }\n", batch);
        Assert.Contains("add element inet sk fwd_out { \"skbr-n1\" comment \"n1\" : accept }\n", batch);
        Assert.Contains("add element inet sk bridges { \"skbr-n1\" comment \"n1\" }\n", batch);
        Assert.Contains("add element inet sk subnets4 { 10.231.2.0/26 comment \"n1\" }\n", batch);
        Assert.Contains("add element inet sk subnets6 { fd31:2::/64 comment \"n1\" }\n", batch);
    }

    [Fact]
    public void BaseChainsAreRefilledSoThatAddingAgainLeavesOneCopy()
    {
        var batch = FirewallRules.AddNetwork("sk", Net);
        foreach (var chain in new[] { "forward", "prerouting", "output", "published", "postrouting" })
        {
            var flush = batch.IndexOf($"flush chain inet sk {chain}\n", StringComparison.Ordinal);
            var firstRule = batch.IndexOf($"add rule inet sk {chain} ", StringComparison.Ordinal);
            Assert.True(flush >= 0 && flush < firstRule, chain);
        }
        Assert.Contains("add chain inet sk forward { type filter hook forward priority filter; policy accept; }\n", batch);
        Assert.Contains("add rule inet sk prerouting fib daddr type local jump published\n", batch);
        Assert.Contains("add rule inet sk output fib daddr type local jump published\n", batch);
        Assert.Contains("add rule inet sk postrouting oifname != @bridges ip saddr @subnets4 masquerade\n", batch);
        Assert.Contains("add rule inet sk postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade\n", batch);
    }

    [Fact]
    public void AnInternalNetworkAcceptsOnlyItsOwnBridge()
    {
        var batch = FirewallRules.AddNetwork("sk", Net with { Internal = true });
        Assert.Contains("add rule inet sk net-n1 iifname \"skbr-n1\" accept\nadd rule inet sk net-n1 drop\n", batch);
        Assert.DoesNotContain("ct status dnat accept", batch);
        Assert.Contains("add element inet sk fwd_out { \"skbr-n1\" comment \"n1\" : drop }\n", batch);
    }

    [Fact]
    public void PortsAreElementsOfTheMapOfTheirFamilyAndHostAddress()
    {
        var batch = FirewallRules.AddPortMappings("sk", "ep1",
        [
            new("tcp", IPAddress.Loopback, 8080, IPAddress.Parse("10.231.2.5"), 80, "skbr-n1"),
            new("UDP", null, 53, IPAddress.Parse("10.231.2.5"), 5353, "skbr-n1"),
            new("tcp", IPAddress.Any, 8081, IPAddress.Parse("10.231.2.5"), 81, "skbr-n1"),
            new("sctp", IPAddress.Parse("fd31:2::1"), 9, IPAddress.Parse("fd31:2::5"), 9, "skbr-n1"),
            new("tcp", null, 8080, IPAddress.Parse("fd31:2::5"), 80, "skbr-n1"),
        ]);
        Assert.Equal(
            "add element inet sk dnat4 { 127.0.0.1 . tcp . 8080 comment \"ep1\" : 10.231.2.5 . 80 }\n" +
            "add element inet sk dnat4_any { udp . 53 comment \"ep1\" : 10.231.2.5 . 5353 }\n" +
            "add element inet sk dnat4_any { tcp . 8081 comment \"ep1\" : 10.231.2.5 . 81 }\n" +
            "add element inet sk dnat6 { fd31:2::1 . sctp . 9 comment \"ep1\" : fd31:2::5 . 9 }\n" +
            "add element inet sk dnat6_any { tcp . 8080 comment \"ep1\" : fd31:2::5 . 80 }\n", batch);
    }

    [Theory]
    [InlineData("tcp", 0, 80, "outside 1-65535")]
    [InlineData("tcp", 80, 65536, "outside 1-65535")]
    [InlineData("icmp", 80, 80, "use tcp, udp or sctp")]
    public void BadPortsAreRefused(string protocol, int hostPort, int containerPort, string expected)
    {
        var error = Assert.Throws<FirewallException>(() => FirewallRules.AddPortMappings("sk", "ep1",
            [new(protocol, null, hostPort, IPAddress.Parse("10.231.2.5"), containerPort, "skbr-n1")]));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void MixedFamiliesDuplicatesAndBadNamesAreRefused()
    {
        var c = IPAddress.Parse("10.231.2.5");
        Assert.Contains("same family", Assert.Throws<FirewallException>(() => FirewallRules.AddPortMappings("sk", "ep1",
            [new("tcp", IPAddress.IPv6Loopback, 80, c, 80, "br")])).Message);
        Assert.Contains("twice", Assert.Throws<FirewallException>(() => FirewallRules.AddPortMappings("sk", "ep1",
            [new("tcp", null, 80, c, 80, "br"), new("tcp", null, 80, c, 81, "br")])).Message);
        Assert.Contains("endpoint id", Assert.Throws<FirewallException>(() => FirewallRules.AddPortMappings("sk", "ep\"; flush ruleset", [])).Message);
        Assert.Contains("interface name", Assert.Throws<FirewallException>(() => FirewallRules.AddNetwork("sk", Net with { BridgeName = "a\" accept" })).Message);
        Assert.Contains("network id", Assert.Throws<FirewallException>(() => FirewallRules.AddNetwork("sk", Net with { Id = new string('a', 65) })).Message);
        Assert.Contains("no subnet", Assert.Throws<FirewallException>(() => FirewallRules.AddNetwork("sk", Net with { Subnets = [] })).Message);
        Assert.Throws<FirewallException>(() => new NetworkFirewall("bad-name"));
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<FirewallException>(() => NetworkFirewall.EnableLocalhostForwarding("../all")).Kind);
    }

    // What libnftables 1.0.6 prints for `list table inet sk` (-j) holding two networks and two endpoints.
    private const string Listing = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "sk", "handle": 6}},
        {"set": {"family": "inet", "name": "subnets4", "table": "sk", "type": "ipv4_addr", "handle": 1, "flags": ["interval"], "elem": [{"elem": {"val": {"prefix": {"addr": "10.231.2.0", "len": 26}}, "comment": "n1"}}, {"elem": {"val": {"prefix": {"addr": "10.231.2.64", "len": 26}}, "comment": "n2"}}]}},
        {"set": {"family": "inet", "name": "bridges", "table": "sk", "type": "ifname", "handle": 2, "elem": [{"elem": {"val": "skbr-n1", "comment": "n1"}}, {"elem": {"val": "skbr-n2", "comment": "n2"}}]}},
        {"map": {"family": "inet", "name": "fwd_in", "table": "sk", "type": "ifname", "handle": 3, "map": "verdict", "elem": [[{"elem": {"val": "skbr-n1", "comment": "n1"}}, {"jump": {"target": "net-n1"}}], [{"elem": {"val": "skbr-n2", "comment": "n2"}}, {"jump": {"target": "net-n2"}}]]}},
        {"map": {"family": "inet", "name": "dnat4", "table": "sk", "type": ["ipv4_addr", "inet_proto", "inet_service"], "handle": 4, "map": "ipv4_addr . inet_service", "elem": [[{"elem": {"val": {"concat": ["127.0.0.1", "tcp", 8080]}, "comment": "ep1"}}, {"concat": ["10.231.2.5", 80]}]]}},
        {"map": {"family": "inet", "name": "dnat4_any", "table": "sk", "type": ["inet_proto", "inet_service"], "handle": 5, "map": "ipv4_addr . inet_service", "elem": [[{"elem": {"val": {"concat": ["udp", 53]}, "comment": "ep2"}}, {"concat": ["10.231.2.70", 53]}]]}},
        {"map": {"family": "inet", "name": "dnat6_any", "table": "sk", "type": ["inet_proto", "inet_service"], "handle": 5, "map": "ipv6_addr . inet_service", "elem": [[{"elem": {"val": {"concat": ["sctp", 53]}, "comment": "ep1"}}, {"concat": ["fd31:2::6", 5353]}]]}},
        {"chain": {"family": "inet", "table": "sk", "name": "net-n1", "handle": 6}},
        {"chain": {"family": "inet", "table": "sk", "name": "net-n2", "handle": 7}},
        {"chain": {"family": "inet", "table": "sk", "name": "forward", "handle": 8, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}]}
        """;

    [Fact]
    public void TheTableIsReadBackIntoNetworksEndpointsAndDeletableKeys()
    {
        var state = FirewallState.Parse(Listing);
        Assert.Equal(["n1", "n2"], state.NetworkIds);
        Assert.Equal(["ep1", "ep2"], state.EndpointIds.Order());
        Assert.Equal(
            "delete element inet sk dnat4 { 127.0.0.1 . tcp . 8080 }\ndelete element inet sk dnat6_any { sctp . 53 }\n",
            FirewallRules.RemovePortMappings("sk", state, "ep1"));
        Assert.Equal("", FirewallRules.RemovePortMappings("sk", state, "ep9"));
        Assert.Equal(
            [new Skiff.Interop.DnatTarget(6, 8080, IPAddress.Parse("10.231.2.5"), 80), new Skiff.Interop.DnatTarget(132, 53, IPAddress.Parse("fd31:2::6"), 5353)],
            state.Elements.Where(e => e.Comment == "ep1").Select(e => e.Target!.Value));
    }

    [Fact]
    public void RemovingANetworkDeletesItsElementsItsContainersPortsAndItsChain()
    {
        var state = FirewallState.Parse(Listing);
        Assert.Equal(
            "delete element inet sk subnets4 { 10.231.2.64/26 }\n" +
            "delete element inet sk bridges { \"skbr-n2\" }\n" +
            "delete element inet sk fwd_in { \"skbr-n2\" }\n" +
            "delete element inet sk dnat4_any { udp . 53 }\n" +
            "delete chain inet sk net-n2\n",
            FirewallRules.RemoveNetwork("sk", state, "n2"));
    }

    [Fact]
    public void RemovingTheLastNetworkDeletesTheTable()
    {
        var json = Listing.Replace("net-n2", "forward2");
        Assert.Equal("delete table inet sk\n", FirewallRules.RemoveNetwork("sk", FirewallState.Parse(json), "n1"));
    }

    private const string Alphabet = "{}[]\":,0123456789abcdefx. -/";

    [Fact]
    public void AMangledListingIsReadOrRefusedNeverCrashes()
    {
        // Listings are libnftables' and root's to change; a surprise in them must still end as the documented error.
        var random = new Random(13);
        var original = System.Text.Encoding.UTF8.GetBytes(Listing);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                bytes[random.Next(bytes.Length)] = (byte)Alphabet[random.Next(Alphabet.Length)];
            var text = System.Text.Encoding.UTF8.GetString(bytes, 0, random.Next(2) == 0 ? bytes.Length : random.Next(bytes.Length));
            try
            {
                var state = FirewallState.Parse(text);
                _ = FirewallRules.RemovePortMappings("sk", state, "ep1") + string.Join(",", state.EndpointIds);
            }
            catch (FirewallException)
            {
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("{\"nftables\": [{\"map\": {\"name\": \"dnat4\", \"type\": \"x\", \"elem\": [[{\"weird\": 1}, 2]]}}]}")]
    public void AListingItCannotReadIsAnInternalError(string json)
        => Assert.Equal(ErrorKind.Internal, Assert.Throws<FirewallException>(() => FirewallState.Parse(json)).Kind);
}
