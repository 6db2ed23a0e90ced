using System.Globalization;
using System.Text.Json.Serialization;
using Skiff.Images.Service;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;

namespace Skiff.Engine;

/// <summary>
/// `image inspect`: the fields of docker's ImageInspect that skiff knows, with docker's names and types (absent
/// lists are null, present ones arrays; sets such as ports and volumes are objects of empty objects).
/// </summary>
public sealed record ImageInspect
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> RepoTags { get; init; }
    public required IReadOnlyList<string> RepoDigests { get; init; }
    public required string Parent { get; init; }
    public required string Comment { get; init; }
    public required string Created { get; init; }
    public required string Author { get; init; }
    public required string Architecture { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }
    public required string Os { get; init; }
    public long Size { get; init; }
    public required ImageInspectConfig Config { get; init; }
    public required ImageGraphDriver GraphDriver { get; init; }
    public required ImageRootFsInspect RootFS { get; init; }
    public required ImageMetadata Metadata { get; init; }

    /// <summary>The document of <paramref name="image"/>, whose configuration is <paramref name="config"/>, unpacked by <paramref name="snapshotter"/>.</summary>
    public static ImageInspect From(ImageInfo image, ImageConfig config, ISnapshotter snapshotter)
    {
        var execution = config.Config;
        return new ImageInspect
        {
            Id = image.Id,
            RepoTags = [.. image.RepoTags.Select(ImageNames.Familiar)],
            RepoDigests = [.. image.RepoDigests.Select(ImageNames.Familiar)],
            Parent = image.Parent ?? "",
            Comment = config.History?.LastOrDefault()?.Comment ?? "",
            Created = UtcTime(config.Created ?? image.Created),
            Author = config.Author ?? "",
            Architecture = config.Architecture,
            Variant = config.Variant,
            Os = config.OS,
            Size = image.Size,
            Config = new ImageInspectConfig
            {
                User = execution?.User ?? "",
                ExposedPorts = Set(execution?.ExposedPorts?.Keys),
                Env = execution?.Env,
                Cmd = execution?.Cmd,
                Entrypoint = execution?.Entrypoint,
                Volumes = Set(execution?.Volumes?.Keys),
                WorkingDir = execution?.WorkingDir ?? "",
                Labels = execution?.Labels ?? new Dictionary<string, string>(),
                StopSignal = execution?.StopSignal,
                Healthcheck = execution?.Healthcheck,
                Shell = execution?.Shell,
            },
            GraphDriver = GraphDriverOf(image, snapshotter),
            RootFS = new ImageRootFsInspect { Type = config.RootFs.Type, Layers = config.RootFs.DiffIds },
            // Go's zero time when the image was never named here (pulled, loaded), as docker prints it.
            Metadata = new ImageMetadata { LastTagTime = image.LastTagTime is { } tagged ? UtcTime(tagged) : "0001-01-01T00:00:00Z" },
        };
    }

    private static Dictionary<string, EmptyObject>? Set(IEnumerable<string>? keys) => keys?.ToDictionary(key => key, _ => new EmptyObject());

    private static string UtcTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Where the layers are unpacked, in the shape of docker's overlay2 data: the top layer as UpperDir, the ones
    /// below as LowerDir (topmost first, ':'-separated, absent for one layer). An image has no merged or work dir
    /// in skiff (only a container's snapshot has them), so those keys are left out.
    /// </summary>
    private static ImageGraphDriver GraphDriverOf(ImageInfo image, ISnapshotter snapshotter)
    {
        var layers = image.ChainIds.Select(snapshotter.LayerPath).Reverse().ToList();
        return new ImageGraphDriver
        {
            Name = snapshotter is OverlaySnapshotter ? "overlay" : "copy",
            Data = new ImageGraphDriverData
            {
                LowerDir = layers.Count > 1 ? string.Join(':', layers.Skip(1)) : null,
                UpperDir = layers.Count > 0 ? layers[0] : null,
            },
        };
    }
}

public sealed record ImageInspectConfig
{
    public required string User { get; init; }
    public Dictionary<string, EmptyObject>? ExposedPorts { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public Dictionary<string, EmptyObject>? Volumes { get; init; }
    public required string WorkingDir { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? StopSignal { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Skiff.Oci.Image.HealthConfig? Healthcheck { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Shell { get; init; }
}

public sealed record ImageGraphDriver
{
    public required string Name { get; init; }
    public required ImageGraphDriverData Data { get; init; }
}

public sealed record ImageGraphDriverData
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LowerDir { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UpperDir { get; init; }
}

public sealed record ImageRootFsInspect
{
    public required string Type { get; init; }
    public required IReadOnlyList<string> Layers { get; init; }
}

public sealed record ImageMetadata
{
    public required string LastTagTime { get; init; }
}
