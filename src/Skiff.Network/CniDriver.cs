using System.Net;
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

    /// <summary>
    /// An address or MAC address of the container's choosing reaches the plugins as the "ips" and "mac" capability
    /// arguments (CONVENTIONS.md; host-local takes ips, tuning and bridge mac), so one of the network's plugins must
    /// declare the capability: otherwise it would be silently not given, and the refusal says so.
    /// </summary>
    public static void CheckJoin(NetworkJoin join)
    {
        var config = ConfigOf(join.Network);
        void Require(string capability, string what)
        {
            if (!config.Plugins.Any(p => p.Capabilities.Contains(capability)))
                throw new NetworkException(ErrorKind.InvalidArgument,
                    $"network {join.Network.Name} cannot give the container {what}: none of its CNI plugins declares the \"{capability}\" capability; remove the option, or declare the capability in the network's configuration (\"capabilities\": {{\"{capability}\": true}})");
        }
        if (join.IPv4 is not null || join.IPv6 is not null)
            Require("ips", "an address of its choosing");
        if (join.MacAddress is not null)
            Require("mac", "a MAC address of its choosing");
    }

    /// <summary>
    /// Runs STATUS (cniVersion 1.1.0 and later), then ADD for <paramref name="reserved"/> (its row, with its interface
    /// name and published ports) in the namespace at <paramref name="netnsPath"/> with what <paramref name="join"/>
    /// asks (checked by <see cref="CheckJoin"/>); returns the endpoint with what the result gave it. The runner undoes a
    /// failed ADD; a network that is not ready gets none.
    /// </summary>
    /// <exception cref="CniException">Unavailable when STATUS says the network is not ready; a plugin is missing or failed.</exception>
    internal Endpoint Add(NetworkDefinition network, Endpoint reserved, string netnsPath, NetworkJoin join)
    {
        var runner = Runner();
        var config = ConfigOf(network);
        if (runner.StatusAsync(config).GetAwaiter().GetResult() is { Ready: false, Problem: var problem })
            throw new CniException(ErrorKind.Unavailable,
                $"network {network.Name} is not ready for containers (its plugins' STATUS): {problem!.Message.TrimEnd('.')}; try again when it is, or use another network",
                problem, problem.Plugin, problem.Code);
        var attachment = Attachment(network, reserved, netnsPath);
        IPAddress[] requested = [.. new[] { join.IPv4, join.IPv6 }.OfType<IPAddress>()];
        attachment = attachment with
        {
            Capabilities = attachment.Capabilities! with
            {
                Ips = requested.Length > 0 ? [.. requested.Select(a => a.ToString())] : null,
                Mac = join.MacAddress,
            },
            // podman gives a single address as CNI_ARGS IP= too, for plugins older than the ips capability; IgnoreUnknown
            // keeps plugins that parse CNI_ARGS strictly (tuning's MAC=) from refusing it.
            Args = requested.Length == 1 ? [new("IgnoreUnknown", "1"), new("IP", requested[0].ToString())] : null,
        };
        var result = runner.AddAsync(attachment).GetAwaiter().GetResult();
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

    /// <summary>Runs CHECK with the cached result; false when the network sets disableCheck and nothing ran.</summary>
    /// <exception cref="CniException">A plugin found the attachment not as ADD left it, or the network has no CHECK (cniVersion before 0.4.0).</exception>
    internal bool Check(NetworkDefinition network, Endpoint endpoint, string netnsPath)
    {
        var attachment = Attachment(network, endpoint, netnsPath);
        Runner().CheckAsync(attachment).GetAwaiter().GetResult();
        return !attachment.Network.DisableCheck;
    }

    /// <summary>
    /// The values ADD, CHECK and DEL share, made from the endpoint's row. The addresses and MAC address a container
    /// chose are given to ADD only: the row does not tell them from those the plugins chose, and host-local and tuning
    /// undo by container id, not by these arguments.
    /// </summary>
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
