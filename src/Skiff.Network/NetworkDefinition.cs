using System.Net;

namespace Skiff.Network;

/// <summary>One subnet of a network: its gateway (the bridge's address) and the range addresses are handed out from.</summary>
public sealed record IpamConfig(IPNetwork Subnet, IPAddress Gateway, IPNetwork? IpRange = null)
{
    /// <summary>Where container addresses come from: the range when one was given, else the whole subnet.</summary>
    public IPNetwork Pool => IpRange ?? Subnet;
}

/// <summary>The drivers a network can have: docker's bridge, its two pre-defined pseudo networks, and CNI.</summary>
public static class NetworkDrivers
{
    public const string Bridge = "bridge";
    public const string Host = "host";
    public const string Null = "null";
    public const string Cni = "cni";
}

/// <summary>A network as the store keeps it; docker's NetworkResource is rendered from it.</summary>
public sealed record NetworkDefinition
{
    /// <summary>64 hex digits.</summary>
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Driver { get; init; }
    /// <summary>The Linux bridge of a bridge network; empty for the others.</summary>
    public string BridgeName { get; init; } = "";
    /// <summary>The subnets; empty for the default network until its first container chose one, and for host and none.</summary>
    public IReadOnlyList<IpamConfig> Ipam { get; init; } = [];
    public bool Internal { get; init; }
    public bool EnableIPv6 { get; init; }
    /// <summary>0 for the default (the kernel's 1500).</summary>
    public int Mtu { get; init; }
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public required DateTimeOffset Created { get; init; }
    /// <summary>One of bridge, host, none: made by the engine, never removed.</summary>
    public bool Predefined { get; init; }
    /// <summary>The conflist of a CNI network, as JSON.</summary>
    public string? CniConfig { get; init; }

    /// <summary>The option naming the file of a network read from the CNI configuration directory.</summary>
    public const string CniConfigFileOption = "skiff.cni.config_file";

    /// <summary>The file in the CNI configuration directory that configures it; null for a network `network create` made.</summary>
    public string? CniConfigFile => Driver == NetworkDrivers.Cni ? Options.GetValueOrDefault(CniConfigFileOption) : null;

    public string ShortId => Id[..12];

    /// <summary>Whether containers attached to it get a namespace of their own with an interface in it.</summary>
    public bool HasEndpoints => Driver is NetworkDrivers.Bridge or NetworkDrivers.Cni;
}

/// <summary>A container's attachment to a network while the container runs: its interface, addresses and published ports.</summary>
public sealed record Endpoint
{
    public required string ContainerId { get; init; }
    public required string ContainerName { get; init; }
    public required string NetworkId { get; init; }
    /// <summary>64 hex digits, as docker's EndpointID.</summary>
    public required string EndpointId { get; init; }
    /// <summary>The container's interface: eth0, eth1, ...</summary>
    public required string InterfaceName { get; init; }
    /// <summary>The host's end of the veth pair.</summary>
    public required string HostInterface { get; init; }
    public required string MacAddress { get; init; }
    public IPAddress? IPv4 { get; init; }
    public IPAddress? IPv6 { get; init; }
    /// <summary>The names the network's resolver answers for it besides its container name.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>The published ports, with the host ports they were given (a random one where none was asked for).</summary>
    public IReadOnlyList<PortBinding> Ports { get; init; } = [];
}
