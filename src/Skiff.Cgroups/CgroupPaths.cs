using System.Text.Json.Serialization;

namespace Skiff.Cgroups;

/// <summary>
/// Serialisable record of a container's cgroup directories, so a later process (delete, kill --all, ps)
/// can rebuild the manager with <see cref="CgroupManager.FromPaths(CgroupPaths)"/>.
/// </summary>
public sealed class CgroupPaths
{
    [JsonPropertyName("mode")]
    [JsonConverter(typeof(JsonStringEnumConverter<CgroupMode>))]
    public CgroupMode Mode { get; set; }

    /// <summary>Hierarchy key ("memory", "cpu,cpuacct", "name=systemd", "unified") → absolute host directory.</summary>
    [JsonPropertyName("paths")]
    public Dictionary<string, string> Paths { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The transient unit of the systemd cgroup driver ("skiff-abc.scope"); null with cgroupfs.</summary>
    [JsonPropertyName("systemdUnit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SystemdUnit { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CgroupPaths))]
public sealed partial class CgroupJsonContext : JsonSerializerContext
{
}
