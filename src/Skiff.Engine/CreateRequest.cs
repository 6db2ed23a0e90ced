using System.Diagnostics.CodeAnalysis;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;

namespace Skiff.Engine;

/// <summary>
/// What every request to create a container says, as a front end asks and as the engine creates it: the image as
/// the user named it, the run options and the container's own settings.
/// </summary>
public abstract record ContainerSettings
{
    /// <summary>The image as the user named it (a reference or an ID; shown by ps and inspect).</summary>
    public required string Image { get; init; }
    public required RunOptions Options { get; init; }
    /// <summary>null for a generated adjective_surname.</summary>
    public string? Name { get; init; }
    /// <summary>Keep the container's stdin open for attach clients (docker's -i).</summary>
    public bool Interactive { get; init; }
    /// <summary>Remove the container when it exits (docker's --rm).</summary>
    public bool AutoRemove { get; init; }
    public RestartPolicy RestartPolicy { get; init; } = RestartPolicy.No;
    public LogOptions Log { get; init; } = LogOptions.Default;
    /// <summary>The image's StopSignal, else SIGTERM, when null.</summary>
    public string? StopSignal { get; init; }
    /// <summary>Seconds between the stop signal and SIGKILL; 10 when null.</summary>
    public int? StopTimeout { get; init; }
    /// <summary>The path of a runc-compatible runtime; the engine's default runtime when null.</summary>
    public string? Runtime { get; init; }
}

/// <summary>A container the engine creates: the settings with the image resolved (<see cref="ContainerRunPolicy"/> makes one).</summary>
public sealed record CreateRequest : ContainerSettings
{
    public CreateRequest()
    {
    }

    [SetsRequiredMembers]
    public CreateRequest(ContainerSettings settings, ContainerImage image)
        : base(settings)
        => ImageInfo = image;

    public required ContainerImage ImageInfo { get; init; }
}

/// <summary>`skiff exec` flags.</summary>
public sealed record ExecRequest
{
    public required IReadOnlyList<string> Command { get; init; }
    public bool Interactive { get; init; }
    public bool Tty { get; init; }
    public bool Detach { get; init; }
    public IReadOnlyList<string> Env { get; init; } = [];
    public string? User { get; init; }
    public string? WorkingDir { get; init; }
}

/// <summary>`skiff logs` flags.</summary>
public sealed record LogsRequest
{
    /// <summary>--tail N: only the last N entries; null for all.</summary>
    public int? Tail { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>-f: keep reading while the container runs.</summary>
    public bool Follow { get; init; }
}

/// <summary>One json-file log entry.</summary>
public sealed record LogEntry(string Stream, string Text, DateTimeOffset Time)
{
    /// <summary>The text as a log is shown, prefixed by its time with <paramref name="timestamps"/>.</summary>
    public string Format(bool timestamps) => timestamps ? $"{Monitor.JsonFileLog.FormatTime(Time)} {Text}" : Text;
}

/// <summary>A process of a running container (`skiff top`).</summary>
public sealed record ContainerProcess(int Pid, int ParentPid, uint Uid, string Command);

/// <summary>What a prune removed (container IDs, volume names) and the bytes that freed.</summary>
public sealed record PruneReport(IReadOnlyList<string> Removed, long ReclaimedBytes);
