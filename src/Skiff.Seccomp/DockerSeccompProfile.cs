using System.Text.Json;
using System.Text.Json.Serialization;
using Skiff.Oci;

namespace Skiff.Seccomp;

/// <summary>
/// A seccomp profile in Docker's format (moby profiles/seccomp): linux.seccomp plus an archMap and, per
/// rule, includes/excludes conditions on capabilities, architectures and kernel version. What
/// `docker run --security-opt seccomp=FILE` accepts; <see cref="Resolve"/> turns it into the OCI form
/// for one container.
/// </summary>
public sealed class DockerSeccompProfile
{
    [JsonPropertyName("defaultAction")] public string DefaultAction { get; set; } = "";
    [JsonPropertyName("defaultErrnoRet")] public uint? DefaultErrnoRet { get; set; }
    [JsonPropertyName("architectures")] public List<string>? Architectures { get; set; }
    [JsonPropertyName("archMap")] public List<DockerSeccompArchMap>? ArchMap { get; set; }
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
    [JsonPropertyName("listenerPath")] public string? ListenerPath { get; set; }
    [JsonPropertyName("listenerMetadata")] public string? ListenerMetadata { get; set; }
    [JsonPropertyName("syscalls")] public List<DockerSeccompRule>? Syscalls { get; set; }

    /// <summary>Parses a Docker-format profile; errors name <paramref name="source"/>.</summary>
    public static DockerSeccompProfile Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize(json, DockerSeccompJsonContext.Default.DockerSeccompProfile)
                ?? throw new SeccompException($"{source}: a seccomp profile must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            throw new SeccompException($"{source}: invalid seccomp profile: {e.Message}", e);
        }
    }

    /// <summary>
    /// The profile for one container, as moby's setupSeccomp builds it: the native architecture's archMap
    /// entry gives the architectures; a rule is kept when every included capability is in
    /// <paramref name="capabilities"/> (the bounding set), <paramref name="arch"/> is among its included
    /// arches and the kernel is at least its minKernel, and it is dropped when any excluded capability or
    /// arch matches or the kernel reaches the excluded minKernel.
    /// </summary>
    /// <param name="arch">The profile's architecture names: "amd64", "x86", "arm64", "s390x", ...</param>
    public LinuxSeccomp Resolve(IEnumerable<string> capabilities, string arch, Version kernel)
    {
        if (Architectures is { Count: > 0 } && ArchMap is { Count: > 0 })
            throw new SeccompException("seccomp profile: both 'architectures' and 'archMap' are given; use one of them");
        var caps = capabilities.ToHashSet(StringComparer.Ordinal);
        var result = new LinuxSeccomp
        {
            DefaultAction = DefaultAction,
            DefaultErrnoRet = DefaultErrnoRet,
            Architectures = Architectures is null ? null : [.. Architectures],
            Flags = Flags is null ? null : [.. Flags],
            ListenerPath = ListenerPath,
            ListenerMetadata = ListenerMetadata,
            Syscalls = [],
        };
        if (ArchMap is { Count: > 0 } && NativeToSeccompArch.TryGetValue(arch, out var scmpArch)
            && ArchMap.FirstOrDefault(a => a.Architecture == scmpArch) is { } entry)
            result.Architectures = [entry.Architecture, .. entry.SubArchitectures ?? []];

        foreach (var rule in Syscalls ?? [])
        {
            if (rule.Name is { Length: > 0 } && rule.Names is { Count: > 0 })
                throw new SeccompException($"seccomp profile: a rule gives both 'name' ({rule.Name}) and 'names'; use one of them");
            if (rule.Excludes is { } excludes && (excludes.Arches?.Contains(arch) == true
                || excludes.Caps?.Any(caps.Contains) == true
                || (excludes.MinKernel is { } notFrom && kernel >= ParseKernel(notFrom))))
                continue;
            if (rule.Includes is { } includes && ((includes.Arches is { Count: > 0 } && !includes.Arches.Contains(arch))
                || includes.Caps?.All(caps.Contains) == false
                || (includes.MinKernel is { } from && kernel < ParseKernel(from))))
                continue;
            result.Syscalls.Add(new LinuxSyscall
            {
                Names = rule.Name is { Length: > 0 } ? [rule.Name] : rule.Names is null ? null : [.. rule.Names],
                Action = rule.Action,
                ErrnoRet = rule.ErrnoRet,
                Args = rule.Args?.Select(a => new LinuxSeccompArg { Index = a.Index, Value = a.Value, ValueTwo = a.ValueTwo, Op = a.Op }).ToList(),
            });
        }
        return result;
    }

    /// <summary>This machine's architecture under the profile's names.</summary>
    public static string NativeArch => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.X86 => "x86",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm or System.Runtime.InteropServices.Architecture.Armv6 => "arm",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        System.Runtime.InteropServices.Architecture.LoongArch64 => "loongarch64",
        var other => other.ToString().ToLowerInvariant(),
    };

    // moby's nativeToSeccomp: the profile's arch names to libseccomp's
    private static readonly Dictionary<string, string> NativeToSeccompArch = new(StringComparer.Ordinal)
    {
        ["x86"] = "SCMP_ARCH_X86", ["amd64"] = "SCMP_ARCH_X86_64", ["arm"] = "SCMP_ARCH_ARM", ["arm64"] = "SCMP_ARCH_AARCH64",
        ["loongarch64"] = "SCMP_ARCH_LOONGARCH64", ["mips64"] = "SCMP_ARCH_MIPS64", ["mips64n32"] = "SCMP_ARCH_MIPS64N32",
        ["mipsel64"] = "SCMP_ARCH_MIPSEL64", ["mips3l64n32"] = "SCMP_ARCH_MIPSEL64N32", ["mipsle"] = "SCMP_ARCH_MIPSEL",
        ["ppc"] = "SCMP_ARCH_PPC", ["ppc64"] = "SCMP_ARCH_PPC64", ["ppc64le"] = "SCMP_ARCH_PPC64LE",
        ["riscv64"] = "SCMP_ARCH_RISCV64", ["s390"] = "SCMP_ARCH_S390", ["s390x"] = "SCMP_ARCH_S390X",
    };

    /// <summary>"4.8" or "5.15.0-rc1": major.minor is what minKernel compares.</summary>
    private static Version ParseKernel(string text)
    {
        var parts = text.Split('.', '-');
        return parts.Length >= 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor)
            ? new Version(major, minor)
            : throw new SeccompException($"seccomp profile: minKernel \"{text}\" is not a kernel version such as 4.8");
    }
}

public sealed class DockerSeccompArchMap
{
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("subArchitectures")] public List<string>? SubArchitectures { get; set; }
}

public sealed class DockerSeccompRule
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("names")] public List<string>? Names { get; set; }
    [JsonPropertyName("action")] public string Action { get; set; } = "";
    [JsonPropertyName("errnoRet")] public uint? ErrnoRet { get; set; }
    [JsonPropertyName("args")] public List<LinuxSeccompArg>? Args { get; set; }
    [JsonPropertyName("comment")] public string? Comment { get; set; }
    [JsonPropertyName("includes")] public DockerSeccompFilter? Includes { get; set; }
    [JsonPropertyName("excludes")] public DockerSeccompFilter? Excludes { get; set; }
}

/// <summary>When a rule applies: every listed condition must hold (includes) or any one drops the rule (excludes).</summary>
public sealed class DockerSeccompFilter
{
    [JsonPropertyName("caps")] public List<string>? Caps { get; set; }
    [JsonPropertyName("arches")] public List<string>? Arches { get; set; }
    [JsonPropertyName("minKernel")] public string? MinKernel { get; set; }
}

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(DockerSeccompProfile))]
internal sealed partial class DockerSeccompJsonContext : JsonSerializerContext;

/// <summary>
/// Docker's default seccomp profile, embedded as Profiles/docker-default.json (the rules of moby's
/// profiles/seccomp/default.json, Apache-2.0, same schema), for the engine to give every container
/// that does not ask otherwise.
/// </summary>
public static class DockerDefaultProfile
{
    private static readonly Lazy<DockerSeccompProfile> Profile = new(() =>
    {
        using var stream = typeof(DockerDefaultProfile).Assembly.GetManifestResourceStream("Skiff.Seccomp.docker-default.json")
            ?? throw new InvalidOperationException("the docker-default.json resource is missing from Skiff.Seccomp");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return DockerSeccompProfile.Parse(bytes.ToArray(), "docker-default.json");
    });

    /// <summary>The profile for a container with <paramref name="capabilities"/> in its bounding set.</summary>
    public static LinuxSeccomp For(IEnumerable<string> capabilities, string arch, Version kernel)
        => Profile.Value.Resolve(capabilities, arch, kernel);

    /// <summary>The profile for a container with <paramref name="capabilities"/> on this machine and kernel.</summary>
    public static LinuxSeccomp For(IEnumerable<string> capabilities)
        => For(capabilities, DockerSeccompProfile.NativeArch, Environment.OSVersion.Version);
}
