using System.Net;
using System.Text.Json.Serialization;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;
using Skiff.Network;

namespace Skiff.Engine;

/// <summary>`network inspect` of a network, in the shape (and property names) of docker's NetworkResource.</summary>
public sealed record NetworkInspect
{
    public required string Name { get; init; }
    public required string Id { get; init; }
    public required string Created { get; init; }
    public string Scope { get; init; } = "local";
    public required string Driver { get; init; }
    public bool EnableIPv6 { get; init; }
    public required NetworkIpam IPAM { get; init; }
    public bool Internal { get; init; }
    public bool Attachable { get; init; }
    public bool Ingress { get; init; }
    public NetworkConfigFrom ConfigFrom { get; init; } = new();
    public bool ConfigOnly { get; init; }
    public required Dictionary<string, NetworkContainer> Containers { get; init; }
    public required IReadOnlyDictionary<string, string> Options { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }

    public static NetworkInspect From(NetworkDefinition network, IReadOnlyList<Endpoint> endpoints)
    {
        int PrefixOf(IPAddress address) => network.Ipam.FirstOrDefault(c => c.Subnet.Contains(address))?.Subnet.PrefixLength ?? Addresses.BitsOf(address.AddressFamily);
        return new NetworkInspect
        {
            Name = network.Name,
            Id = network.Id,
            Created = JsonFileLog.FormatTime(network.Created),
            Driver = network.Driver,
            EnableIPv6 = network.EnableIPv6,
            IPAM = new NetworkIpam
            {
                Config = [.. network.Ipam.Select(c => new NetworkIpamConfig { Subnet = c.Subnet.ToString(), Gateway = c.Gateway.ToString(), IPRange = c.IpRange?.ToString() })],
            },
            Internal = network.Internal,
            Containers = endpoints.ToDictionary(e => e.ContainerId, e => new NetworkContainer
            {
                Name = e.ContainerName,
                EndpointID = e.EndpointId,
                MacAddress = e.MacAddress,
                IPv4Address = e.IPv4 is { } v4 ? $"{v4}/{PrefixOf(v4)}" : "",
                IPv6Address = e.IPv6 is { } v6 ? $"{v6}/{PrefixOf(v6)}" : "",
            }),
            Options = network.Options,
            Labels = network.Labels,
        };
    }
}

public sealed record NetworkIpam
{
    public string Driver { get; init; } = "default";
    public Dictionary<string, string>? Options { get; init; }
    public required IReadOnlyList<NetworkIpamConfig> Config { get; init; }
}

public sealed record NetworkIpamConfig
{
    public required string Subnet { get; init; }
    public required string Gateway { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? IPRange { get; init; }
}

public sealed record NetworkConfigFrom
{
    public string Network { get; init; } = "";
}

public sealed record NetworkContainer
{
    public required string Name { get; init; }
    public required string EndpointID { get; init; }
    public required string MacAddress { get; init; }
    public required string IPv4Address { get; init; }
    public required string IPv6Address { get; init; }
    /// <summary>`network inspect --verbose` of a CNI network: what its plugins' CHECK said of this container.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CniCheck { get; init; }
}

/// <summary>A container's NetworkSettings as docker's inspect shows them.</summary>
public sealed record InspectNetworkSettings
{
    public string Bridge { get; init; } = "";
    public string SandboxID { get; init; } = "";
    public bool HairpinMode { get; init; }
    public string LinkLocalIPv6Address { get; init; } = "";
    public int LinkLocalIPv6PrefixLen { get; init; }
    /// <summary>"80/tcp" → its bindings; null for an exposed port that is not published.</summary>
    public required Dictionary<string, List<InspectPortBinding>?> Ports { get; init; }
    public string SandboxKey { get; init; } = "";
    public IReadOnlyList<string>? SecondaryIPAddresses { get; init; }
    public IReadOnlyList<string>? SecondaryIPv6Addresses { get; init; }
    // docker fills these for the default network only (they predate user networks).
    public string EndpointID { get; init; } = "";
    public string Gateway { get; init; } = "";
    public string GlobalIPv6Address { get; init; } = "";
    public int GlobalIPv6PrefixLen { get; init; }
    public string IPAddress { get; init; } = "";
    public int IPPrefixLen { get; init; }
    public string IPv6Gateway { get; init; } = "";
    public string MacAddress { get; init; } = "";
    public required Dictionary<string, InspectEndpoint> Networks { get; init; }

    /// <summary>
    /// The settings of <paramref name="container"/>: its networks (with their addresses while it runs: they are
    /// given at start and freed at stop, as docker's) and its ports.
    /// </summary>
    internal static InspectNetworkSettings From(ContainerRecord container, IReadOnlyList<Endpoint> endpoints, Func<string, NetworkDefinition?> network, string sandboxKey)
    {
        var options = container.Config.Options;
        var ports = new Dictionary<string, List<InspectPortBinding>?>();
        var running = endpoints.Count > 0;
        if (running || options.Network == NetworkMode.Bridge)
        {
            foreach (var key in container.Config.ExposedPorts)
                ports[key] = null;
            foreach (var binding in endpoints.SelectMany(e => e.Ports))
            {
                var list = ports.TryGetValue(binding.Key, out var existing) && existing is not null ? existing : ports[binding.Key] = [];
                if (binding.HostIp.Length == 0)
                {
                    list.Add(new InspectPortBinding { HostIp = "0.0.0.0", HostPort = binding.HostPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                    list.Add(new InspectPortBinding { HostIp = "::", HostPort = binding.HostPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }
                else
                {
                    list.Add(new InspectPortBinding { HostIp = binding.HostIp, HostPort = binding.HostPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }
            }
        }
        if (!running)
            ports.Clear();

        var networks = new Dictionary<string, InspectEndpoint>();
        string modeName = options.Network switch { NetworkMode.Host => "host", NetworkMode.None => "none", _ => "" };
        if (modeName.Length > 0)
            networks[modeName] = new InspectEndpoint { NetworkID = network(modeName)?.Id ?? "" };
        foreach (var attachment in options.Attachments)
        {
            var definition = network(attachment.NetworkId);
            var endpoint = endpoints.FirstOrDefault(e => e.NetworkId == attachment.NetworkId);
            networks[definition?.Name ?? attachment.NetworkName] = EndpointOf(attachment, definition, endpoint, container);
        }
        var primary = options.Attachments.Count > 0 ? network(options.Attachments[0].NetworkId) : null;
        var primaryEndpoint = primary is { Predefined: true } ? networks[primary.Name] : null;
        return new InspectNetworkSettings
        {
            SandboxID = running ? container.Id : "",
            SandboxKey = running ? sandboxKey : "",
            Ports = ports,
            Networks = networks,
            EndpointID = primaryEndpoint?.EndpointID ?? "",
            Gateway = primaryEndpoint?.Gateway ?? "",
            GlobalIPv6Address = primaryEndpoint?.GlobalIPv6Address ?? "",
            GlobalIPv6PrefixLen = primaryEndpoint?.GlobalIPv6PrefixLen ?? 0,
            IPAddress = primaryEndpoint?.IPAddress ?? "",
            IPPrefixLen = primaryEndpoint?.IPPrefixLen ?? 0,
            IPv6Gateway = primaryEndpoint?.IPv6Gateway ?? "",
            MacAddress = primaryEndpoint?.MacAddress ?? "",
        };
    }

    private static InspectEndpoint EndpointOf(NetworkAttachment attachment, NetworkDefinition? network, Endpoint? endpoint, ContainerRecord container)
    {
        IpamConfig? ConfigOf(IPAddress? address) => address is null ? null : network?.Ipam.FirstOrDefault(c => c.Subnet.Contains(address));
        var v4 = ConfigOf(endpoint?.IPv4);
        var v6 = ConfigOf(endpoint?.IPv6);
        // docker lists the short id among a user network's aliases, as its resolver answers for it.
        var aliases = network is { Predefined: false } ? [.. attachment.Aliases, container.Id[..12]] : attachment.Aliases.ToList();
        return new InspectEndpoint
        {
            IPAMConfig = attachment.IPv4Address is null && attachment.IPv6Address is null ? null
                : new InspectIpamConfig { IPv4Address = attachment.IPv4Address, IPv6Address = attachment.IPv6Address },
            Aliases = aliases.Count > 0 ? aliases : null,
            NetworkID = attachment.NetworkId,
            EndpointID = endpoint?.EndpointId ?? "",
            Gateway = v4?.Gateway.ToString() ?? "",
            IPAddress = endpoint?.IPv4?.ToString() ?? "",
            IPPrefixLen = v4?.Subnet.PrefixLength ?? 0,
            IPv6Gateway = v6?.Gateway.ToString() ?? "",
            GlobalIPv6Address = endpoint?.IPv6?.ToString() ?? "",
            GlobalIPv6PrefixLen = v6?.Subnet.PrefixLength ?? 0,
            MacAddress = endpoint?.MacAddress ?? attachment.MacAddress ?? "",
        };
    }
}

public sealed record InspectPortBinding
{
    public required string HostIp { get; init; }
    public required string HostPort { get; init; }
}

public sealed record InspectIpamConfig
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? IPv4Address { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? IPv6Address { get; init; }
}

/// <summary>docker's EndpointSettings.</summary>
public sealed record InspectEndpoint
{
    public InspectIpamConfig? IPAMConfig { get; init; }
    public IReadOnlyList<string>? Links { get; init; }
    public IReadOnlyList<string>? Aliases { get; init; }
    public string NetworkID { get; init; } = "";
    public string EndpointID { get; init; } = "";
    public string Gateway { get; init; } = "";
    public string IPAddress { get; init; } = "";
    public int IPPrefixLen { get; init; }
    public string IPv6Gateway { get; init; } = "";
    public string GlobalIPv6Address { get; init; } = "";
    public int GlobalIPv6PrefixLen { get; init; }
    public string MacAddress { get; init; } = "";
    public IReadOnlyDictionary<string, string>? DriverOpts { get; init; }
}
