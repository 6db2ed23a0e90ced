using System.Net.Sockets;
using Skiff.Network.Cni;

namespace Skiff.Network;

/// <summary>
/// A container's place on a CNI network: the network's plugins make its interface, addresses and published ports
/// (portmap) by ADD and undo them by DEL, as with podman's CNI backend; Skiff records what the result names so that
/// inspect, ps and port show it. The skiff network's name is what users give; the conflist reaches the plugins as it
/// was written, its own name included (host-local's allocations and the result cache go by that one).
/// </summary>
public sealed class CniDriver(string cacheDirectory, IReadOnlyList<string> pluginDirectories)
{
    /// <summary>Made per call: the runner makes its cache directory, which only CNI networks need.</summary>
    private CniRunner Runner() => new(cacheDirectory, pluginDirectories);

    /// <summary>The network's conflist; it was checked at create.</summary>
    internal static CniConfigList ConfigOf(NetworkDefinition network)
        => CniConfigList.Parse(network.CniConfig ?? "", $"of network {network.Name}");

    /// <summary>What CNI's plugins choose themselves is refused rather than silently not given.</summary>
    public static void CheckJoin(NetworkJoin join)
    {
        if (join.IPv4 is not null || join.IPv6 is not null || join.MacAddress is not null)
            throw new NetworkException(ErrorKind.InvalidArgument,
                $"network {join.Network.Name} is a CNI network, whose plugins choose the container's addresses and MAC address: remove the address or MAC address given for it");
    }

    /// <summary>
    /// Runs ADD for <paramref name="reserved"/> (its row, with its interface name and published ports) in the namespace
    /// at <paramref name="netnsPath"/>; returns the endpoint with what the result gave it. The runner undoes a failed ADD.
    /// </summary>
    /// <exception cref="CniException">A plugin is missing or failed.</exception>
    internal Endpoint Add(NetworkDefinition network, Endpoint reserved, string netnsPath)
    {
        var result = Runner().AddAsync(Attachment(network, reserved, netnsPath)).GetAwaiter().GetResult();
        int inside = IndexOf(result, reserved.InterfaceName);
        var ips = result.Ips.Where(ip => ip.Interface is null || ip.Interface == inside).Select(ip => ip.Address.Address).ToList();
        return reserved with
        {
            IPv4 = ips.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork),
            IPv6 = ips.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6),
            MacAddress = inside >= 0 ? result.Interfaces[inside].Mac ?? "" : "",
            // The plugins that make a veth (bridge, ptp) list its host end just before the container's interface.
            HostInterface = inside > 0 && string.IsNullOrEmpty(result.Interfaces[inside - 1].Sandbox) ? result.Interfaces[inside - 1].Name : "",
        };
    }

    /// <summary>Runs DEL with the cached result; <paramref name="netnsPath"/> "" when the namespace is gone (DEL accepts that).</summary>
    /// <exception cref="CniException">A plugin failed: the cached result is kept for a retry.</exception>
    internal void Delete(NetworkDefinition network, Endpoint endpoint, string netnsPath)
        => Runner().DeleteAsync(Attachment(network, endpoint, netnsPath)).GetAwaiter().GetResult();

    /// <summary>The same values for ADD and DEL, as the spec asks: both are made from the endpoint's row.</summary>
    private static CniAttachment Attachment(NetworkDefinition network, Endpoint endpoint, string netnsPath)
        => new(endpoint.ContainerId, netnsPath, endpoint.InterfaceName, ConfigOf(network), new CniCapabilities
        {
            PortMappings = [.. endpoint.Ports.Select(p => new CniPortMapping(p.HostPort, p.ContainerPort, p.Protocol, p.HostIp.Length == 0 ? null : p.HostIp))],
            Aliases = endpoint.Aliases.Count > 0 ? [endpoint.ContainerName, .. endpoint.Aliases] : [endpoint.ContainerName],
        });

    /// <summary>The container's interface in the result: named as asked and in a sandbox; -1 when the result lists none.</summary>
    private static int IndexOf(CniResult result, string ifname)
    {
        for (int i = 0; i < result.Interfaces.Count; i++)
            if (result.Interfaces[i].Name == ifname && !string.IsNullOrEmpty(result.Interfaces[i].Sandbox))
                return i;
        return -1;
    }
}
