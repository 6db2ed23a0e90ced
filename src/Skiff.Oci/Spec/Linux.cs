using System.Text.Json.Serialization;

namespace Skiff.Oci;

/// <summary>Linux-specific configuration (config-linux.md).</summary>
public sealed class Linux
{
    [JsonPropertyName("uidMappings")] public List<LinuxIDMapping>? UIDMappings { get; set; }
    [JsonPropertyName("gidMappings")] public List<LinuxIDMapping>? GIDMappings { get; set; }
    [JsonPropertyName("sysctl")] public Dictionary<string, string>? Sysctl { get; set; }
    [JsonPropertyName("resources")] public LinuxResources? Resources { get; set; }
    [JsonPropertyName("cgroupsPath")] public string? CgroupsPath { get; set; }
    [JsonPropertyName("namespaces")] public List<LinuxNamespace>? Namespaces { get; set; }
    [JsonPropertyName("devices")] public List<LinuxDevice>? Devices { get; set; }
    /// <summary>runtime-spec 1.3: host network devices moved into the container's network namespace, keyed by host name.</summary>
    [JsonPropertyName("netDevices")] public Dictionary<string, LinuxNetDevice>? NetDevices { get; set; }
    [JsonPropertyName("seccomp")] public LinuxSeccomp? Seccomp { get; set; }
    [JsonPropertyName("rootfsPropagation")] public string? RootfsPropagation { get; set; }
    [JsonPropertyName("maskedPaths")] public List<string>? MaskedPaths { get; set; }
    [JsonPropertyName("readonlyPaths")] public List<string>? ReadonlyPaths { get; set; }
    [JsonPropertyName("mountLabel")] public string? MountLabel { get; set; }
    [JsonPropertyName("intelRdt")] public LinuxIntelRdt? IntelRdt { get; set; }
    /// <summary>runtime-spec 1.3: NUMA memory policy (set_mempolicy(2)).</summary>
    [JsonPropertyName("memoryPolicy")] public LinuxMemoryPolicy? MemoryPolicy { get; set; }
    [JsonPropertyName("personality")] public LinuxPersonality? Personality { get; set; }
    /// <summary>Keyed by clock name: "monotonic" or "boottime".</summary>
    [JsonPropertyName("timeOffsets")] public Dictionary<string, LinuxTimeOffset>? TimeOffsets { get; set; }
}

/// <summary>Namespace type names (Go: LinuxNamespaceType constants).</summary>
public static class LinuxNamespaceType
{
    public const string Pid = "pid";
    public const string Network = "network";
    public const string Mount = "mount";
    public const string Ipc = "ipc";
    public const string Uts = "uts";
    public const string User = "user";
    public const string Cgroup = "cgroup";
    public const string Time = "time";

    /// <summary>All namespace types known to the runtime-spec, in spec order.</summary>
    public static IReadOnlyList<string> All { get; } = [Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time];
}

/// <summary>A namespace to create (no path) or join (path).</summary>
public sealed class LinuxNamespace
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("path")] public string? Path { get; set; }
}

/// <summary>A UID/GID mapping range.</summary>
public sealed class LinuxIDMapping
{
    [JsonPropertyName("containerID")] public uint ContainerID { get; set; }
    [JsonPropertyName("hostID")] public uint HostID { get; set; }
    [JsonPropertyName("size")] public uint Size { get; set; }
}

/// <summary>Offset of one clock in a time namespace.</summary>
public sealed class LinuxTimeOffset
{
    [JsonPropertyName("secs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Secs { get; set; }
    [JsonPropertyName("nanosecs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public uint Nanosecs { get; set; }
}

/// <summary>A device node to create in the container (mknod).</summary>
public sealed class LinuxDevice
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    /// <summary>"c", "b", "u" or "p".</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("major")] public long Major { get; set; }
    [JsonPropertyName("minor")] public long Minor { get; set; }
    /// <summary>Permission bits (Go os.FileMode, a JSON number).</summary>
    [JsonPropertyName("fileMode")] public uint? FileMode { get; set; }
    [JsonPropertyName("uid")] public uint? UID { get; set; }
    [JsonPropertyName("gid")] public uint? GID { get; set; }
}

/// <summary>A network device moved into the container (runtime-spec 1.3).</summary>
public sealed class LinuxNetDevice
{
    /// <summary>Name of the device inside the container; defaults to the host name.</summary>
    [JsonPropertyName("name")] public string? Name { get; set; }
}

/// <summary>personality(2) settings.</summary>
public sealed class LinuxPersonality
{
    /// <summary>"LINUX" or "LINUX32".</summary>
    [JsonPropertyName("domain")] public string Domain { get; set; } = "";
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
}

/// <summary>Intel RDT (resctrl) configuration.</summary>
public sealed class LinuxIntelRdt
{
    [JsonPropertyName("closID")] public string? ClosID { get; set; }
    /// <summary>runtime-spec 1.3: schemata lines written as-is.</summary>
    [JsonPropertyName("schemata")] public List<string>? Schemata { get; set; }
    [JsonPropertyName("l3CacheSchema")] public string? L3CacheSchema { get; set; }
    [JsonPropertyName("memBwSchema")] public string? MemBwSchema { get; set; }
    /// <summary>runtime-spec 1.3 (replaces enableCMT/enableMBM).</summary>
    [JsonPropertyName("enableMonitoring"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool EnableMonitoring { get; set; }
    /// <summary>runtime-spec 1.2 only; kept so 1.2 configs round-trip.</summary>
    [JsonPropertyName("enableCMT"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool EnableCMT { get; set; }
    /// <summary>runtime-spec 1.2 only; kept so 1.2 configs round-trip.</summary>
    [JsonPropertyName("enableMBM"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool EnableMBM { get; set; }
}

/// <summary>NUMA memory policy (runtime-spec 1.3).</summary>
public sealed class LinuxMemoryPolicy
{
    /// <summary>MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL.</summary>
    [JsonPropertyName("mode")] public string Mode { get; set; } = "";
    [JsonPropertyName("nodes")] public string? Nodes { get; set; }
    /// <summary>MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES.</summary>
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
}
