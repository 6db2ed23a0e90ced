using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skiff.Oci;

/// <summary>
/// Source-generated (NativeAOT-safe) JSON metadata for every OCI document Skiff reads or writes.
/// Options: unknown properties are skipped (the spec says they MUST be ignored), numbers are read strictly
/// (a string where a number is expected is an error), property names match case-insensitively like Go's
/// encoding/json, nulls are omitted on write (Go omitempty), and non-nullable reference properties
/// (e.g. <c>process.user</c>) reject an explicit JSON null.
/// Use <see cref="Default"/> for compact output and <see cref="Indented"/> for human-facing files.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    NumberHandling = JsonNumberHandling.Strict,
    PropertyNameCaseInsensitive = true,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    WriteIndented = false)]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(State))]
[JsonSerializable(typeof(List<State>))]
[JsonSerializable(typeof(ContainerProcessState))]
[JsonSerializable(typeof(Features))]
[JsonSerializable(typeof(LinuxResources))]
[JsonSerializable(typeof(Process))]
public sealed partial class OciJsonContext : JsonSerializerContext
{
    private static OciJsonContext? _indented;

    /// <summary>Same metadata and options, but tab-indented output (what runc writes for `runc spec`).</summary>
    public static OciJsonContext Indented => _indented ??= new OciJsonContext(new JsonSerializerOptions(Default.Options)
    {
        WriteIndented = true,
        IndentCharacter = '\t',
        IndentSize = 1,
    });
}

/// <summary>
/// Writes a <see cref="Spec"/> through the generated fast path only: serialization code with no per-property
/// metadata. Building OciJsonContext's metadata for the whole Spec graph costs about 2.5 ms in a NativeAOT
/// process (see <see cref="SpecFastReader"/>), paid by every `skiff create` that writes a config.json.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Spec))]
internal sealed partial class SpecWriterContext : JsonSerializerContext;
