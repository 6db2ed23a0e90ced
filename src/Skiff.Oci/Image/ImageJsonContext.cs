using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>
/// Source-generated (NativeAOT-safe) JSON metadata for the image-spec documents: unknown properties are ignored
/// (the spec says they MUST be), property names are case-sensitive as the spec writes them, nulls omitted on write.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    NumberHandling = JsonNumberHandling.Strict,
    RespectNullableAnnotations = true,
    WriteIndented = false)]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(Descriptor))]
[JsonSerializable(typeof(Platform))]
public sealed partial class ImageJsonContext : JsonSerializerContext;
