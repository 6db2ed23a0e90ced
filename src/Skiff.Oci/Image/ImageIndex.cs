using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>An OCI image index (image-index.md); also reads a Docker manifest list, which has the same shape.</summary>
public sealed record ImageIndex
{
    [JsonPropertyName("schemaVersion"), JsonRequired]
    public int SchemaVersion { get; init; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("manifests"), JsonRequired]
    public List<Descriptor> Manifests { get; init; } = [];

    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; init; }
}

/// <summary>
/// Just enough of a manifest-like document to tell what it is when the registry sent no usable Content-Type:
/// its <c>mediaType</c> field, its schema version and which of <c>manifests</c>, <c>config</c> or <c>fsLayers</c> it has.
/// </summary>
public sealed record ManifestProbe
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("manifests")]
    public System.Text.Json.JsonElement? Manifests { get; init; }

    [JsonPropertyName("config")]
    public System.Text.Json.JsonElement? Config { get; init; }

    [JsonPropertyName("fsLayers")]
    public System.Text.Json.JsonElement? FsLayers { get; init; }
}
