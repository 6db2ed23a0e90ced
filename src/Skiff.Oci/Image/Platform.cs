using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>The platform of an image (image-index.md): GOOS/GOARCH names, e.g. linux/amd64 or linux/arm64/v8.</summary>
public sealed record Platform
{
    [JsonPropertyName("architecture"), JsonRequired]
    public string Architecture { get; init; } = "";

    [JsonPropertyName("os"), JsonRequired]
    public string OS { get; init; } = "";

    [JsonPropertyName("os.version")]
    public string? OSVersion { get; init; }

    [JsonPropertyName("os.features")]
    public List<string>? OSFeatures { get; init; }

    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    public override string ToString() => Variant is null ? $"{OS}/{Architecture}" : $"{OS}/{Architecture}/{Variant}";

    /// <summary>Parses <c>os/arch[/variant]</c> as <c>--platform</c> takes it; throws <see cref="FormatException"/>.</summary>
    public static Platform Parse(string value)
    {
        var parts = value.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
            throw new FormatException($"invalid platform \"{value}\": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8");
        return new Platform
        {
            OS = parts[0].ToLowerInvariant(),
            Architecture = parts[1].ToLowerInvariant(),
            Variant = parts.Length == 3 ? parts[2].ToLowerInvariant() : null,
        };
    }

    /// <summary>linux and the architecture of this process, in Go's names (no variant).</summary>
    public static Platform Host => new()
    {
        OS = "linux",
        Architecture = RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm or System.Runtime.InteropServices.Architecture.Armv6 => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
            System.Runtime.InteropServices.Architecture.S390x => "s390x",
            System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
            System.Runtime.InteropServices.Architecture.LoongArch64 => "loong64",
            var other => other.ToString().ToLowerInvariant(),
        },
    };

    /// <summary>
    /// Whether an image for <paramref name="candidate"/> satisfies this wanted platform: same OS and architecture,
    /// and the same variant only when this one names a variant.
    /// </summary>
    public bool Matches(Platform candidate)
        => string.Equals(OS, candidate.OS, StringComparison.OrdinalIgnoreCase)
           && string.Equals(Architecture, candidate.Architecture, StringComparison.OrdinalIgnoreCase)
           && (Variant is null || string.Equals(Variant, candidate.Variant, StringComparison.OrdinalIgnoreCase));
}
