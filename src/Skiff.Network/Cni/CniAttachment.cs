using System.Text.Json.Nodes;

namespace Skiff.Network.Cni;

/// <summary>
/// One container's attachment to a CNI network (SPEC.md section 3, "Attachment Parameters"): the same values must be
/// given to ADD, CHECK and DEL. <paramref name="Args"/> become CNI_ARGS ("K=V;K2=V2"), given to every plugin.
/// </summary>
public sealed record CniAttachment(
    string ContainerId,
    string NetnsPath,
    string InterfaceName,
    CniConfigList Network,
    CniCapabilities? Capabilities,
    IReadOnlyList<KeyValuePair<string, string>>? Args = null)
{
    /// <summary>
    /// Refuses values the spec forbids, and those that would escape the result cache's file names; ADD and CHECK also
    /// need the netns, which DEL may do without (the container's namespace may be gone by then).
    /// </summary>
    internal void Validate(bool needsNetns)
    {
        if (needsNetns && NetnsPath.Length == 0)
            throw new CniException(ErrorKind.InvalidArgument, $"Container {ContainerId} has no network namespace path to give CNI plugins; ADD and CHECK need one.");
        if (!CniConfigList.NamePattern().IsMatch(ContainerId))
            throw new CniException(ErrorKind.InvalidArgument, $"The container id \"{ContainerId}\" cannot be given to CNI plugins; it must be a letter or digit followed by letters, digits, '_', '.' or '-'.");
        // The kernel's rule for a link name (dev_valid_name): at most 15 bytes, no '/', ':' or white space, not "." or "..".
        if (InterfaceName.Length is 0 or > 15 || InterfaceName is "." or ".."
            || InterfaceName.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || c > '\x7e' || c < '\x21'))
            throw new CniException(ErrorKind.InvalidArgument, $"The interface name \"{InterfaceName}\" is not a valid Linux interface name; use at most 15 letters, digits, '-' or '_'.");
        foreach (var (key, value) in Args ?? [])
            if (key.Length == 0 || key.Contains('=') || key.Contains(';') || value.Contains(';'))
                throw new CniException(ErrorKind.InvalidArgument, $"The CNI argument \"{key}={value}\" cannot be passed in CNI_ARGS; keys must be non-empty without '=' or ';', and values without ';'.");
    }

    internal string? ArgsText => Args is { Count: > 0 } args ? string.Join(';', args.Select(pair => $"{pair.Key}={pair.Value}")) : null;
}

/// <summary>
/// Capability arguments (the CNI CONVENTIONS.md ones Skiff uses): each reaches, as runtimeConfig, only the plugins whose
/// configuration declares that capability.
/// </summary>
public sealed record CniCapabilities
{
    /// <summary>"portMappings", for portmap.</summary>
    public IReadOnlyList<CniPortMapping>? PortMappings { get; init; }

    /// <summary>"ipRanges", for host-local: a list of range sets, each a list of ranges.</summary>
    public IReadOnlyList<IReadOnlyList<CniIpRange>>? IpRanges { get; init; }

    /// <summary>"ips", static addresses in CIDR notation (host-local, static).</summary>
    public IReadOnlyList<string>? Ips { get; init; }

    /// <summary>"mac", the container interface's MAC address (tuning, bridge).</summary>
    public string? Mac { get; init; }

    /// <summary>"dns", the resolver the runtime sets up, for plugins that want it (win-bridge, some meta plugins).</summary>
    public CniDnsCapability? Dns { get; init; }

    /// <summary>"bandwidth", for the bandwidth plugin (bits per second and bits).</summary>
    public CniBandwidth? Bandwidth { get; init; }

    /// <summary>"aliases", the container's names on the network.</summary>
    public IReadOnlyList<string>? Aliases { get; init; }

    /// <summary>The runtimeConfig for a plugin declaring <paramref name="declared"/>: only what is both declared and given.</summary>
    internal JsonObject? RuntimeConfigFor(IReadOnlySet<string> declared)
    {
        var config = new JsonObject();
        void Put(string key, Func<JsonNode>? value)
        {
            if (value is not null && declared.Contains(key))
                config[key] = value();
        }
        Put("portMappings", PortMappings is { } ports ? () => new JsonArray(ports.Select(port => (JsonNode)port.ToJson()).ToArray()) : null);
        Put("ipRanges", IpRanges is { } sets
            ? () => new JsonArray(sets.Select(set => (JsonNode)new JsonArray(set.Select(range => (JsonNode)range.ToJson()).ToArray())).ToArray())
            : null);
        Put("ips", Ips is { } ips ? () => Strings(ips) : null);
        Put("mac", Mac is { } mac ? () => JsonValue.Create(mac) : null);
        Put("dns", Dns is { } dns ? () => new JsonObject { ["servers"] = Strings(dns.Servers), ["searches"] = Strings(dns.Searches), ["options"] = Strings(dns.Options) } : null);
        Put("bandwidth", Bandwidth is { } b
            ? () => new JsonObject { ["ingressRate"] = b.IngressRate, ["ingressBurst"] = b.IngressBurst, ["egressRate"] = b.EgressRate, ["egressBurst"] = b.EgressBurst }
            : null);
        Put("aliases", Aliases is { } aliases ? () => Strings(aliases) : null);
        return config.Count > 0 ? config : null;
    }

    /// <summary>All the capability arguments given, as libcni caches them next to the result.</summary>
    internal JsonObject ToJson()
        => RuntimeConfigFor(new HashSet<string>(["portMappings", "ipRanges", "ips", "mac", "dns", "bandwidth", "aliases"])) ?? [];

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(value => (JsonNode)JsonValue.Create(value)).ToArray());
}

/// <summary>A published port; <paramref name="HostIp"/> null for every host address.</summary>
public sealed record CniPortMapping(int HostPort, int ContainerPort, string Protocol = "tcp", string? HostIp = null)
{
    internal JsonObject ToJson()
    {
        var json = new JsonObject { ["hostPort"] = HostPort, ["containerPort"] = ContainerPort, ["protocol"] = Protocol };
        if (HostIp is not null)
            json["hostIP"] = HostIp;
        return json;
    }
}

/// <summary>One host-local range.</summary>
public sealed record CniIpRange(string Subnet, string? RangeStart = null, string? RangeEnd = null, string? Gateway = null)
{
    internal JsonObject ToJson()
    {
        var json = new JsonObject { ["subnet"] = Subnet };
        if (RangeStart is not null) json["rangeStart"] = RangeStart;
        if (RangeEnd is not null) json["rangeEnd"] = RangeEnd;
        if (Gateway is not null) json["gateway"] = Gateway;
        return json;
    }
}

/// <summary>The "dns" capability's value.</summary>
public sealed record CniDnsCapability(IReadOnlyList<string> Servers, IReadOnlyList<string> Searches, IReadOnlyList<string> Options);

/// <summary>The "bandwidth" capability's value.</summary>
public sealed record CniBandwidth(long IngressRate, long IngressBurst, long EgressRate, long EgressBurst);
