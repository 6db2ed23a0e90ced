using System.Text.Json.Serialization;

namespace Skiff.Oci;

// The `features` document (specs-go/features/features.go, features.md). Go names its nested structs
// Linux, Cgroup, Seccomp, ... inside package features; in C# they live beside the config types, so they
// carry a "Features" suffix (Linux -> LinuxFeatures, Seccomp -> SeccompFeatures, ...).
// For all lists and bools, null means "unknown", not "unsupported".

/// <summary>What the runtime supports (output of `features`).</summary>
public sealed class Features
{
    [JsonPropertyName("ociVersionMin")] public string? OCIVersionMin { get; set; }
    [JsonPropertyName("ociVersionMax")] public string? OCIVersionMax { get; set; }
    /// <summary>Recognised hook names, e.g. "createRuntime".</summary>
    [JsonPropertyName("hooks")] public List<string>? Hooks { get; set; }
    /// <summary>Recognised mount options, e.g. "ro".</summary>
    [JsonPropertyName("mountOptions")] public List<string>? MountOptions { get; set; }
    [JsonPropertyName("linux")] public LinuxFeatures? Linux { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    /// <summary>Annotations (or prefixes ending in ".") that may be unsafe in config.json.</summary>
    [JsonPropertyName("potentiallyUnsafeConfigAnnotations")] public List<string>? PotentiallyUnsafeConfigAnnotations { get; set; }
}

/// <summary>Go: features.Linux.</summary>
public sealed class LinuxFeatures
{
    [JsonPropertyName("namespaces")] public List<string>? Namespaces { get; set; }
    [JsonPropertyName("capabilities")] public List<string>? Capabilities { get; set; }
    [JsonPropertyName("cgroup")] public CgroupFeatures? Cgroup { get; set; }
    [JsonPropertyName("seccomp")] public SeccompFeatures? Seccomp { get; set; }
    [JsonPropertyName("apparmor")] public ApparmorFeatures? Apparmor { get; set; }
    [JsonPropertyName("selinux")] public SelinuxFeatures? Selinux { get; set; }
    [JsonPropertyName("intelRdt")] public IntelRdtFeatures? IntelRdt { get; set; }
    [JsonPropertyName("mountExtensions")] public MountExtensionsFeatures? MountExtensions { get; set; }
    [JsonPropertyName("memoryPolicy")] public MemoryPolicyFeatures? MemoryPolicy { get; set; }
    [JsonPropertyName("netDevices")] public NetDevicesFeatures? NetDevices { get; set; }
}

/// <summary>Go: features.Cgroup (compiled-in support, not host state).</summary>
public sealed class CgroupFeatures
{
    [JsonPropertyName("v1")] public bool? V1 { get; set; }
    [JsonPropertyName("v2")] public bool? V2 { get; set; }
    [JsonPropertyName("systemd")] public bool? Systemd { get; set; }
    [JsonPropertyName("systemdUser")] public bool? SystemdUser { get; set; }
    [JsonPropertyName("rdma")] public bool? Rdma { get; set; }
}

/// <summary>Go: features.Seccomp.</summary>
public sealed class SeccompFeatures
{
    [JsonPropertyName("enabled")] public bool? Enabled { get; set; }
    [JsonPropertyName("actions")] public List<string>? Actions { get; set; }
    [JsonPropertyName("operators")] public List<string>? Operators { get; set; }
    [JsonPropertyName("archs")] public List<string>? Archs { get; set; }
    [JsonPropertyName("knownFlags")] public List<string>? KnownFlags { get; set; }
    [JsonPropertyName("supportedFlags")] public List<string>? SupportedFlags { get; set; }
}

/// <summary>Go: features.Apparmor.</summary>
public sealed class ApparmorFeatures
{
    [JsonPropertyName("enabled")] public bool? Enabled { get; set; }
}

/// <summary>Go: features.Selinux.</summary>
public sealed class SelinuxFeatures
{
    [JsonPropertyName("enabled")] public bool? Enabled { get; set; }
}

/// <summary>Go: features.IntelRdt.</summary>
public sealed class IntelRdtFeatures
{
    [JsonPropertyName("enabled")] public bool? Enabled { get; set; }
    [JsonPropertyName("schemata")] public bool? Schemata { get; set; }
    [JsonPropertyName("monitoring")] public bool? Monitoring { get; set; }
}

/// <summary>Go: features.MountExtensions.</summary>
public sealed class MountExtensionsFeatures
{
    [JsonPropertyName("idmap")] public IDMapFeatures? IDMap { get; set; }
}

/// <summary>Go: features.IDMap (idmapped mounts).</summary>
public sealed class IDMapFeatures
{
    [JsonPropertyName("enabled")] public bool? Enabled { get; set; }
}

/// <summary>Go: features.MemoryPolicy.</summary>
public sealed class MemoryPolicyFeatures
{
    [JsonPropertyName("modes")] public List<string>? Modes { get; set; }
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
}

/// <summary>Go: features.NetDevices.</summary>
public sealed class NetDevicesFeatures
{
    [JsonPropertyName("enabled")] public bool? Enabled { get; set; }
}
