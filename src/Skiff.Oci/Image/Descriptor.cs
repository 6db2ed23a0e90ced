using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>An OCI content descriptor (descriptor.md): what a blob is, its digest and its size.</summary>
public sealed record Descriptor
{
    [JsonPropertyName("mediaType"), JsonRequired]
    public string MediaType { get; init; } = "";

    [JsonPropertyName("digest"), JsonRequired, JsonConverter(typeof(DigestJsonConverter))]
    public Digest Digest { get; init; }

    [JsonPropertyName("size"), JsonRequired]
    public long Size { get; init; }

    [JsonPropertyName("urls")]
    public List<string>? Urls { get; init; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; init; }

    [JsonPropertyName("platform")]
    public Platform? Platform { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }
}
