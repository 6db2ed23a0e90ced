using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Skiff.Interop.Netlink;

namespace Skiff.Network;

/// <summary>
/// The links of docker's bridge driver, through rtnetlink: a network's bridge with its gateway addresses, and per
/// container a veth pair whose container end is made inside the container's namespace (never visible on the host).
/// </summary>
internal static class BridgeDriver
{
    /// <summary>
    /// Makes the bridge of <paramref name="network"/> with its gateways, up, unless <paramref name="existing"/> (the
    /// host's link of its name, looked up by the caller) is there: then it is left as it is.
    /// </summary>
    /// <param name="index">The bridge's ifindex, which its ports are enslaved by.</param>
    /// <returns>Whether it made the bridge.</returns>
    public static bool EnsureBridge(RtNetlink host, NetworkDefinition network, LinkInfo? existing, out int index)
    {
        if (existing is not null)
        {
            if (existing.Kind != "bridge")
                throw new NetworkException(ErrorKind.AlreadyExists,
                    $"the host has an interface named {network.BridgeName} that is not a bridge, which network {network.Name} needs: remove it, or give the network another bridge name");
            index = existing.Index;
            return false;
        }
        index = host.CreateBridge(network.BridgeName, network.Mtu > 0 ? network.Mtu : null);
        try
        {
            foreach (var config in network.Ipam)
                host.AddAddress(network.BridgeName, config.Gateway, config.Subnet.PrefixLength);
            host.SetLinkUp(network.BridgeName);
        }
        catch
        {
            host.DeleteLink(network.BridgeName);
            throw;
        }
        if (!network.Internal)
            EnableForwarding(network);
        Firewall.NetworkFirewall.EnableLocalhostForwarding(network.BridgeName);
        return true;
    }

    /// <summary>
    /// Containers' traffic is routed through the host, which needs forwarding on (docker turns it on as well). Only
    /// ever turned on: another program's containers may depend on it.
    /// </summary>
    private static void EnableForwarding(NetworkDefinition network)
    {
        WriteIfDifferent("/proc/sys/net/ipv4/ip_forward", "1");
        if (network.Ipam.Any(c => c.Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6))
            WriteIfDifferent("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    }

    private static void WriteIfDifferent(string path, string value)
    {
        if (File.Exists(path) && File.ReadAllText(path).Trim() != value)
            File.WriteAllText(path, value);
    }

    /// <summary>
    /// A veth pair: <paramref name="endpoint"/>'s host end on the bridge (<paramref name="bridgeIndex"/>), its container
    /// end (its interface name, MAC and addresses) inside <paramref name="sandbox"/>; with <paramref name="defaultRoute"/>
    /// the container's default routes go through the network's gateways. The host end is made enslaved and up in the
    /// request that makes the pair, and the container end is looked up once for its addresses and routes: a
    /// container's start waits for each request (docs/networking.md, "Set-up cost").
    /// </summary>
    public static void AddEndpoint(RtNetlink host, RtNetlink inside, NetworkNamespace sandbox, NetworkDefinition network, int bridgeIndex, Endpoint endpoint, bool defaultRoute)
    {
        int? mtu = network.Mtu > 0 ? network.Mtu : null;
        host.CreateVethPair(endpoint.HostInterface, endpoint.InterfaceName, sandbox, mtu, PhysicalAddress.Parse(endpoint.MacAddress.Replace(':', '-').ToUpperInvariant()),
            masterIndex: bridgeIndex, up: true);
        try
        {
            // A container reaching its own published port through the host's address comes back on the port it left
            // by; the bridge drops that unless the port is in hairpin mode (docker sets it too).
            File.WriteAllText($"/sys/class/net/{endpoint.HostInterface}/brport/hairpin_mode", "1");
            var link = inside.GetLink(endpoint.InterfaceName)
                ?? throw new NetworkException(ErrorKind.Internal, $"the interface {endpoint.InterfaceName} of container {endpoint.ContainerName} vanished while it was set up: start the container again");
            foreach (var (address, config) in Addresses(network, endpoint))
                inside.AddAddress(link, address, config.Subnet.PrefixLength);
            inside.SetLinkUp(endpoint.InterfaceName);
            if (defaultRoute && !network.Internal)
                foreach (var (_, config) in Addresses(network, endpoint))
                {
                    var any = config.Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
                    inside.AddRoute(new IPNetwork(any, 0), config.Gateway, link);
                }
        }
        catch
        {
            host.DeleteLink(endpoint.HostInterface);
            throw;
        }
    }

    private static IEnumerable<(IPAddress Address, IpamConfig Config)> Addresses(NetworkDefinition network, Endpoint endpoint)
    {
        foreach (var address in new[] { endpoint.IPv4, endpoint.IPv6 })
            if (address is not null && network.Ipam.FirstOrDefault(c => c.Subnet.Contains(address)) is { } config)
                yield return (address, config);
    }
}
