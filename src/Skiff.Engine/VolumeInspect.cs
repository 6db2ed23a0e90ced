using Skiff.Engine.Containers;

namespace Skiff.Engine;

/// <summary>`volume inspect` of a volume, in the shape (and property order) of docker's Volume object.</summary>
public sealed record VolumeInspect
{
    /// <summary>RFC 3339 to the second, as docker's local driver prints it.</summary>
    public required string CreatedAt { get; init; }
    /// <summary>Every volume lives in a directory under the engine root: docker's "local" driver.</summary>
    public string Driver { get; init; } = "local";
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public required string Mountpoint { get; init; }
    public required string Name { get; init; }
    /// <summary>The local driver's mount options (type, device, o): skiff takes none, so always empty.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
    public string Scope { get; init; } = "local";

    public static VolumeInspect From(VolumeRecord volume, string mountpoint) => new()
    {
        CreatedAt = volume.Created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        Labels = volume.Labels,
        Mountpoint = mountpoint,
        Name = volume.Name,
    };
}
