using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Skiff.Network.Firewall;

/// <summary>
/// The nft batches of Skiff's table, as text: pure functions of their input, so the rules are unit-tested without
/// a kernel. docs/networking.md ("Firewall") explains each rule.
/// </summary>
internal static class FirewallRules
{
    public const string Bridges = "bridges", Subnets4 = "subnets4", Subnets6 = "subnets6";
    public const string ForwardIn = "fwd_in", ForwardOut = "fwd_out";
    public const string Dnat4 = "dnat4", Dnat4Any = "dnat4_any", Dnat6 = "dnat6", Dnat6Any = "dnat6_any";
    public const string NetworkChainPrefix = "net-";

    public static readonly string[] DnatMaps = [Dnat4, Dnat4Any, Dnat6, Dnat6Any];

    public static string NetworkChain(string id) => NetworkChainPrefix + id;

    /// <summary>The table, its sets, maps and base chains, and one network's chain and elements; every command idempotent.</summary>
    public static string AddNetwork(string table, FirewallNetwork network)
    {
        Validate(network);
        var t = $"inet {table}";
        var b = new StringBuilder();
        b.Append($"add table {t}\n");
        b.Append($"add set {t} {Bridges} {{ type ifname; }}\n");
        b.Append($"add set {t} {Subnets4} {{ type ipv4_addr; flags interval; }}\n");
        b.Append($"add set {t} {Subnets6} {{ type ipv6_addr; flags interval; }}\n");
        b.Append($"add map {t} {ForwardIn} {{ type ifname : verdict; }}\n");
        b.Append($"add map {t} {ForwardOut} {{ type ifname : verdict; }}\n");
        b.Append($"add map {t} {Dnat4} {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}\n");
        b.Append($"add map {t} {Dnat4Any} {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}\n");
        b.Append($"add map {t} {Dnat6} {{ type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }}\n");
        b.Append($"add map {t} {Dnat6Any} {{ type inet_proto . inet_service : ipv6_addr . inet_service; }}\n");

        // Base chains are flushed and refilled so that adding a second network (or the same one again) leaves one copy.
        BaseChain(b, t, "forward", "type filter hook forward priority filter; policy accept;",
            $"oifname vmap @{ForwardIn}",
            $"iifname vmap @{ForwardOut}");
        // Before the chains that jump to it: a jump must name a chain that exists at that point of the batch.
        BaseChain(b, t, "published", null,
            $"dnat ip to ip daddr . meta l4proto . th dport map @{Dnat4}",
            $"meta nfproto ipv4 dnat ip to meta l4proto . th dport map @{Dnat4Any}",
            $"dnat ip6 to ip6 daddr . meta l4proto . th dport map @{Dnat6}",
            $"meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @{Dnat6Any}");
        BaseChain(b, t, "prerouting", "type nat hook prerouting priority dstnat; policy accept;",
            "fib daddr type local jump published");
        BaseChain(b, t, "output", "type nat hook output priority -100; policy accept;",
            "fib daddr type local jump published");
        BaseChain(b, t, "postrouting", "type nat hook postrouting priority srcnat; policy accept;",
            $"oifname @{Bridges} ct status dnat ip saddr @{Subnets4} masquerade",
            $"oifname @{Bridges} ct status dnat ip6 saddr @{Subnets6} masquerade",
            $"oifname @{Bridges} ip saddr 127.0.0.0/8 masquerade",
            $"oifname != @{Bridges} ip saddr @{Subnets4} masquerade",
            $"oifname != @{Bridges} ip6 saddr @{Subnets6} masquerade");

        var chain = NetworkChain(network.Id);
        var bridge = Quote(network.BridgeName);
        var comment = $"comment {Quote(network.Id)}";
        b.Append($"add chain {t} {chain}\n");
        b.Append($"flush chain {t} {chain}\n");
        b.Append($"add rule {t} {chain} iifname {bridge} accept\n");
        if (!network.Internal)
        {
            b.Append($"add rule {t} {chain} ct state established,related accept\n");
            b.Append($"add rule {t} {chain} ct status dnat accept\n");
        }
        b.Append($"add rule {t} {chain} drop\n");
        b.Append($"add element {t} {Bridges} {{ {bridge} {comment} }}\n");
        b.Append($"add element {t} {ForwardIn} {{ {bridge} {comment} : jump {chain} }}\n");
        b.Append($"add element {t} {ForwardOut} {{ {bridge} {comment} : {(network.Internal ? "drop" : "accept")} }}\n");
        foreach (var subnet in network.Subnets)
        {
            var set = subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? Subnets4 : Subnets6;
            b.Append($"add element {t} {set} {{ {subnet} {comment} }}\n");
        }
        return b.ToString();
    }

    /// <summary>Everything of one network, as found in the table by <see cref="FirewallState"/>.</summary>
    public static string RemoveNetwork(string table, FirewallState state, string id)
    {
        var t = $"inet {table}";
        if (state.NetworkIds.All(n => n == id))
            return $"delete table {t}\n";
        // The network's own elements carry its id; the DNAT elements of its containers carry their endpoints' ids, and
        // are found by their container address instead, in case the caller left some.
        var subnets = state.SubnetsOf(id).ToList();
        var b = new StringBuilder();
        foreach (var element in state.Elements.Where(e => DnatMaps.Contains(e.Set)
                     ? subnets.Any(s => s.Contains(e.Target!.Value.ContainerIp))
                     : e.Comment == id))
            b.Append($"delete element {t} {element.Set} {{ {element.Key} }}\n");
        b.Append($"delete chain {t} {NetworkChain(id)}\n");
        return b.ToString();
    }

    /// <summary>One element of a DNAT map per mapping, marked with the endpoint's id.</summary>
    public static string AddPortMappings(string table, string endpointId, IReadOnlyList<PortMapping> ports)
    {
        ValidateId(endpointId, "endpoint");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var b = new StringBuilder();
        foreach (var port in ports)
        {
            Validate(endpointId, port);
            var v4 = port.ContainerIp.AddressFamily == AddressFamily.InterNetwork;
            var hostIp = port.HostIp is { } ip && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any) ? ip : null;
            var map = (v4, hostIp is null) switch { (true, false) => Dnat4, (true, true) => Dnat4Any, (false, false) => Dnat6, (false, true) => Dnat6Any };
            var protocol = port.Protocol.ToLowerInvariant();
            var key = hostIp is null ? $"{protocol} . {port.HostPort}" : $"{hostIp} . {protocol} . {port.HostPort}";
            if (!keys.Add($"{map} {key}"))
                throw new FirewallException(ErrorKind.InvalidArgument,
                    $"Endpoint {endpointId} publishes {hostIp?.ToString() ?? "every address"}:{port.HostPort}/{protocol} twice: publish each host port once.");
            b.Append($"add element inet {table} {map} {{ {key} comment {Quote(endpointId)} : {port.ContainerIp} . {port.ContainerPort} }}\n");
        }
        return b.ToString();
    }

    /// <summary>Every DNAT element marked with the endpoint's id; empty when it has none.</summary>
    public static string RemovePortMappings(string table, FirewallState state, string endpointId)
    {
        var b = new StringBuilder();
        foreach (var element in state.Elements.Where(e => DnatMaps.Contains(e.Set) && e.Comment == endpointId))
            b.Append($"delete element inet {table} {element.Set} {{ {element.Key} }}\n");
        return b.ToString();
    }

    public static void ValidateTableName(string table)
    {
        if (table.Length is 0 or > 64 || !table.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || !char.IsAsciiLetter(table[0]))
            throw new FirewallException(ErrorKind.InvalidArgument,
                $"The nftables table name \"{table}\" is not valid: use up to 64 letters, digits and '_', starting with a letter.");
    }

    private static void BaseChain(StringBuilder b, string t, string name, string? hook, params string[] rules)
    {
        b.Append(hook is null ? $"add chain {t} {name}\n" : $"add chain {t} {name} {{ {hook} }}\n");
        b.Append($"flush chain {t} {name}\n");
        foreach (var rule in rules)
            b.Append($"add rule {t} {name} {rule}\n");
    }

    private static void Validate(FirewallNetwork network)
    {
        ValidateId(network.Id, "network");
        ValidateInterface(network.BridgeName, $"Network {network.Id}");
        if (network.Subnets.Count == 0)
            throw new FirewallException(ErrorKind.InvalidArgument, $"Network {network.Id} has no subnet: give it at least one.");
    }

    private static void Validate(string endpointId, PortMapping port)
    {
        var what = $"Endpoint {endpointId}'s port mapping {port.HostPort}:{port.ContainerPort}/{port.Protocol}";
        if (port.Protocol.ToLowerInvariant() is not ("tcp" or "udp" or "sctp"))
            throw new FirewallException(ErrorKind.InvalidArgument, $"{what} has protocol \"{port.Protocol}\": use tcp, udp or sctp.");
        if (port.HostPort is < 1 or > 65535 || port.ContainerPort is < 1 or > 65535)
            throw new FirewallException(ErrorKind.InvalidArgument, $"{what} has a port outside 1-65535: use ports from 1 to 65535.");
        if (port.ContainerIp.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new FirewallException(ErrorKind.InvalidArgument, $"{what} has container address {port.ContainerIp}: give an IPv4 or IPv6 address.");
        if (port.HostIp is { } host && host.AddressFamily != port.ContainerIp.AddressFamily)
            throw new FirewallException(ErrorKind.InvalidArgument,
                $"{what} publishes host address {host} on container address {port.ContainerIp}: give addresses of the same family.");
        if (port.HostIp is { AddressFamily: AddressFamily.InterNetworkV6 } v6 && (v6.IsIPv6LinkLocal || v6.ScopeId != 0))
            throw new FirewallException(ErrorKind.InvalidArgument, $"{what} publishes on a link-local address {port.HostIp}: use a global or loopback address.");
        ValidateInterface(port.BridgeName, what);
    }

    private static void ValidateId(string id, string what)
    {
        // The id is a chain name and an element comment; anything else would need quoting inside nft's syntax.
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            throw new FirewallException(ErrorKind.InvalidArgument,
                $"The {what} id \"{id}\" is not valid for the firewall: use up to 64 letters, digits, '_', '.' and '-'.");
    }

    private static void ValidateInterface(string name, string owner)
    {
        if (name.Length is 0 or > 15 || !name.All(c => c > ' ' && c < 0x7f && c is not ('"' or '/' or '\\' or ':')))
            throw new FirewallException(ErrorKind.InvalidArgument,
                $"{owner} names bridge \"{name}\", which is not a valid interface name: use up to 15 printable characters without '/', ':', quotes or spaces.");
    }

    private static string Quote(string name) => $"\"{name}\"";
}
