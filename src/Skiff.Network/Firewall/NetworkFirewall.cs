using Skiff.Interop;

namespace Skiff.Network.Firewall;

/// <summary>
/// Packet filtering and NAT for Skiff's bridge networks, in one nftables table of Skiff's own (family inet) that holds
/// all of its state: docker's bridge-driver semantics (egress masquerade, isolation between networks, internal
/// networks, published ports from anywhere including the host's loopback). Acts in the calling thread's network
/// namespace. Safe for concurrent calls within a process; across processes, port mappings may be added and removed
/// concurrently, while AddNetwork and RemoveNetwork must be serialized by the caller (the last RemoveNetwork deletes
/// the table). See docs/networking.md, "Firewall".
/// </summary>
public sealed class NetworkFirewall
{
    private readonly Lock _lock = new();

    public NetworkFirewall(string table = "skiff")
    {
        FirewallRules.ValidateTableName(table);
        Table = table;
    }

    public string Table { get; }

    /// <summary>Adds the network's chain and elements (and the table, on first use); adding it again changes nothing.</summary>
    public void AddNetwork(FirewallNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var batch = FirewallRules.AddNetwork(Table, network);
        Apply(batch, $"Cannot set up the firewall of network {network.Id} (bridge {network.BridgeName})");
    }

    /// <summary>
    /// Removes everything of the network, its published ports (and their tracked connections) included; the table goes
    /// with the last network. Unknown ids are ignored.
    /// </summary>
    public void RemoveNetwork(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_lock)
        {
            var state = Read();
            if (!state.NetworkIds.Contains(id))
                return;
            var subnets = state.SubnetsOf(id).ToList();
            Apply(FirewallRules.RemoveNetwork(Table, state, id), $"Cannot remove the firewall of network {id}");
            ForgetConnections(state.Elements.Where(e => e.Target is { } t && subnets.Any(s => s.Contains(t.ContainerIp))), $"network {id}");
        }
    }

    /// <summary>Publishes the endpoint's ports, all or none. A host port another endpoint publishes is refused (AlreadyExists).</summary>
    public void AddPortMappings(string endpointId, IReadOnlyList<PortMapping> ports)
    {
        ArgumentNullException.ThrowIfNull(endpointId);
        ArgumentNullException.ThrowIfNull(ports);
        var batch = FirewallRules.AddPortMappings(Table, endpointId, ports);
        if (batch.Length > 0)
            Apply(batch, $"Cannot publish the ports of endpoint {endpointId}");
    }

    /// <summary>
    /// Unpublishes every port of the endpoint, then deletes the connections tracked through them (an established flow
    /// would otherwise keep reaching the container, and a UDP flow lives on while packets keep coming). Nothing to do
    /// when it has none.
    /// </summary>
    public void RemovePortMappings(string endpointId)
    {
        ArgumentNullException.ThrowIfNull(endpointId);
        lock (_lock)
        {
            // Another process may remove the same endpoint (crash recovery racing a normal rm) between our read and
            // our write; its elements are then gone and a second look finds nothing left to do.
            for (var attempt = 0; ; attempt++)
            {
                var state = ReadPorts();
                var batch = FirewallRules.RemovePortMappings(Table, state, endpointId);
                if (batch.Length == 0)
                    return;
                try
                {
                    Apply(batch, $"Cannot unpublish the ports of endpoint {endpointId}");
                }
                catch (NftablesException e) when (e.Kind == ErrorKind.NotFound && attempt == 0)
                {
                    continue;
                }
                ForgetConnections(state.Elements.Where(e => FirewallRules.DnatMaps.Contains(e.Set) && e.Comment == endpointId), $"endpoint {endpointId}");
                return;
            }
        }
    }

    /// <summary>The networks the table holds, for freeing what a crashed engine left.</summary>
    public IReadOnlyCollection<string> ListNetworkIds()
    {
        lock (_lock)
            return Read().NetworkIds.ToArray();
    }

    /// <summary>The endpoints with published ports in the table, for freeing what a crashed engine left.</summary>
    public IReadOnlyCollection<string> ListEndpointIds()
    {
        lock (_lock)
            return ReadPorts().EndpointIds.ToArray();
    }

    /// <summary>
    /// Lets DNAT to a container on <paramref name="bridgeName"/> serve connections to 127.0.0.1 (route_localnet: the
    /// kernel otherwise drops packets with a loopback source on a real interface), in the calling thread's network
    /// namespace. IPv6 has no such switch: ::1 cannot be forwarded to a container.
    /// </summary>
    public static void EnableLocalhostForwarding(string bridgeName)
    {
        ArgumentNullException.ThrowIfNull(bridgeName);
        if (bridgeName.Length is 0 or > 15 || bridgeName.Contains('/') || bridgeName is "." or "..")
            throw new FirewallException(ErrorKind.InvalidArgument, $"\"{bridgeName}\" is not a valid interface name: use up to 15 characters without '/'.");
        // /proc/sys/net answers for the network namespace of the thread that opens the file, as the nftables context does.
        var path = $"/proc/sys/net/ipv4/conf/{bridgeName}/route_localnet";
        try
        {
            File.WriteAllText(path, "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FirewallException(ErrorKinds.Of(e), $"Cannot let bridge {bridgeName} forward connections to 127.0.0.1 ({path}): {e.Message}", e);
        }
    }

    private static void ForgetConnections(IEnumerable<FirewallElement> unpublished, string owner)
    {
        var targets = unpublished.Select(e => e.Target!.Value).Distinct().ToList();
        try
        {
            Conntrack.DeleteDnatTo(targets);
        }
        catch (SyscallException e)
        {
            throw new FirewallException(e.Kind, $"The ports of {owner} are unpublished, but their tracked connections remain: {e.Message}", e);
        }
    }

    /// <summary>The whole table: what network operations need.</summary>
    private FirewallState Read() => Read([$"list table inet {Table}"]);

    /// <summary>
    /// The DNAT maps only, what port operations need: listing a map costs a fraction of a millisecond where the table
    /// costs a few (measured: docs/networking.md). One command a run, as libnftables 1.0.6 refuses several list
    /// commands in one JSON run.
    /// </summary>
    private FirewallState ReadPorts() => Read([.. FirewallRules.DnatMaps.Select(m => $"list map inet {Table} {m}")]);

    private FirewallState Read(string[] commands)
    {
        using var context = new NftablesContext(json: true);
        try
        {
            return FirewallState.Parse([.. commands.Select(context.Run)]);
        }
        catch (NftablesException e) when (e.Kind == ErrorKind.NotFound)
        {
            return FirewallState.Empty;
        }
        catch (NftablesException e)
        {
            throw e.WithContext($"Cannot read the firewall table inet {Table}");
        }
    }

    private static void Apply(string batch, string what)
    {
        using var context = new NftablesContext();
        try
        {
            context.Run(batch);
        }
        catch (NftablesException e)
        {
            throw e.WithContext(what);
        }
    }
}
