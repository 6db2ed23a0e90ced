using System.Net;

namespace Skiff.Network.Firewall;

/// <summary>A bridge network as the firewall sees it.</summary>
/// <param name="Id">The network's id; names its chain and marks its elements (letters, digits, '_', '.', '-'; at most 64).</param>
/// <param name="BridgeName">Its Linux bridge.</param>
/// <param name="Subnets">Its IPv4 and IPv6 subnets.</param>
/// <param name="Internal">No traffic in or out of the bridge but between its own containers (docker's --internal).</param>
public sealed record FirewallNetwork(string Id, string BridgeName, IReadOnlyList<IPNetwork> Subnets, bool Internal);

/// <summary>One published port: packets to HostIp:HostPort (any local address when HostIp is null) go to ContainerIp:ContainerPort.</summary>
/// <param name="Protocol">tcp, udp or sctp.</param>
/// <param name="HostIp">The host address to publish on, of ContainerIp's family; null (or 0.0.0.0, ::) for every local address of that family.</param>
/// <param name="BridgeName">The bridge the container is on.</param>
public sealed record PortMapping(string Protocol, IPAddress? HostIp, int HostPort, IPAddress ContainerIp, int ContainerPort, string BridgeName);

/// <summary>A network or port mapping the firewall refuses, before anything is applied.</summary>
public sealed class FirewallException : SkiffException
{
    public FirewallException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
