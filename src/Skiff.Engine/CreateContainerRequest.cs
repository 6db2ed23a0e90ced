using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Images.Service;

namespace Skiff.Engine;

/// <summary>
/// A container as a front end asks for it (docker's create), before the engine decides anything: the image by
/// reference and whether it may or must be pulled, the seccomp choice and the other security options as given;
/// the run options as given, in which the policy fills in <see cref="RunOptions.Seccomp"/>, <see cref="RunOptions.SecurityLabels"/>
/// and <see cref="RunOptions.NoNewPrivileges"/>.
/// <see cref="ContainerRunPolicy"/> resolves it into a <see cref="CreateRequest"/>.
/// </summary>
public sealed record CreateContainerRequest : ContainerSettings
{
    public PullPolicy Pull { get; init; } = PullPolicy.Missing;
    /// <summary>How a pull reaches the registry (TLS verification, platform).</summary>
    public PullOptions PullOptions { get; init; } = new();
    public SeccompChoice Seccomp { get; init; } = SeccompChoice.Default;
    /// <summary>docker's other security options: no-new-privileges[:true|:false], apparmor=PROFILE|unconfined, label=...</summary>
    public IReadOnlyList<string> SecurityOptions { get; init; } = [];
    /// <summary>docker's GPU request as given: refused, skiff has no GPU support.</summary>
    public string? Gpus { get; init; }
    /// <summary>docker's isolation technology: only "default" (or none given) on Linux.</summary>
    public string? Isolation { get; init; }
    /// <summary>docker's per-container storage driver options (size=...): refused, skiff's overlay store has no quotas.</summary>
    public IReadOnlyDictionary<string, string> StorageOptions { get; init; } = new Dictionary<string, string>();
    /// <summary>docker's kernel memory limit in bytes as given: refused, the kernel no longer has such limits.</summary>
    public long? KernelMemory { get; init; }
    /// <summary>docker's legacy --link NAME[:ALIAS] values: refused (<see cref="ContainerRunPolicy"/>).</summary>
    public IReadOnlyList<string> Links { get; init; } = [];
    /// <summary>docker's --link-local-ip values: refused.</summary>
    public IReadOnlyList<string> LinkLocalIps { get; init; } = [];
    /// <summary>Whether image signatures must be verified first (docker's content trust): refused, skiff verifies none.</summary>
    public bool ContentTrust { get; init; }
}

/// <summary>When creating a container pulls its image: docker's --pull.</summary>
public enum PullPolicy
{
    /// <summary>Only when no image of that name is here (docker's default).</summary>
    Missing,
    /// <summary>Every time, so a moved tag is followed.</summary>
    Always,
    /// <summary>Never: an image that is not here is an error.</summary>
    Never,
}

/// <summary>Which seccomp filter a container gets.</summary>
public enum SeccompMode
{
    /// <summary>docker's default profile for the container's capabilities (none for a privileged container).</summary>
    Default,
    /// <summary>No filter.</summary>
    Unconfined,
    /// <summary>A docker-format profile the front end supplies (<see cref="SeccompChoice.Profile"/>).</summary>
    Profile,
}

/// <summary>
/// The seccomp filter asked for. A profile comes as its JSON, not as a path: the front end reads it where the
/// user is (docker's CLI sends the file's content too), and <see cref="Source"/> names it in errors.
/// </summary>
public sealed record SeccompChoice(SeccompMode Mode, ReadOnlyMemory<byte> Profile = default, string? Source = null)
{
    public static readonly SeccompChoice Default = new(SeccompMode.Default);
    public static readonly SeccompChoice Unconfined = new(SeccompMode.Unconfined);

    public static SeccompChoice FromProfile(ReadOnlyMemory<byte> json, string source) => new(SeccompMode.Profile, json, source);

    /// <summary>
    /// docker's security options split into the seccomp choice (`seccomp=unconfined`, or `seccomp=VALUE` made a
    /// profile by <paramref name="profile"/>: the CLI reads a file, the API gets the JSON itself) and the others as
    /// given, for <see cref="ContainerRunPolicy"/> to check.
    /// </summary>
    public static (SeccompChoice Seccomp, List<string> Others) Split(IReadOnlyList<string> options, Func<string, SeccompChoice> profile)
    {
        var seccomp = Default;
        var others = new List<string>();
        foreach (var option in options)
        {
            if (!(option.StartsWith("seccomp=", StringComparison.Ordinal) || option.StartsWith("seccomp:", StringComparison.Ordinal)))
                others.Add(option);
            else
                seccomp = option[8..] == "unconfined" ? Unconfined : profile(option[8..]);
        }
        return (seccomp, others);
    }
}
