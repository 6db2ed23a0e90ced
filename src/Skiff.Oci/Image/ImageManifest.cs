using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>An OCI image manifest (manifest.md); also reads a Docker schema2 manifest, which has the same shape.</summary>
public sealed record ImageManifest
{
    [JsonPropertyName("schemaVersion"), JsonRequired]
    public int SchemaVersion { get; init; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("config"), JsonRequired]
    public Descriptor Config { get; init; } = null!;

    [JsonPropertyName("layers")]
    public List<Descriptor> Layers { get; init; } = [];

    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; init; }
}
