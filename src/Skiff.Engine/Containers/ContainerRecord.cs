using Skiff.Engine.Specs;

namespace Skiff.Engine.Containers;

/// <summary>docker's container states; the names are what `ps` and inspect print.</summary>
public enum ContainerStatus
{
    Created,
    Running,
    Paused,
    Restarting,
    Exited,
}

/// <summary>`--restart no|on-failure[:N]|always|unless-stopped`.</summary>
public sealed record RestartPolicy(string Name, int MaximumRetryCount)
{
    public static readonly RestartPolicy No = new("no", 0);

    public static RestartPolicy Parse(string text)
    {
        var colon = text.IndexOf(':');
        var name = colon < 0 ? text : text[..colon];
        var count = colon < 0 ? null : text[(colon + 1)..];
        switch (name)
        {
            case "no" or "always" or "unless-stopped" when count is null:
                return new RestartPolicy(name, 0);
            case "on-failure" when count is null:
                return new RestartPolicy(name, 0);
            case "on-failure" when int.TryParse(count, out var n) && n >= 0:
                return new RestartPolicy(name, n);
            case "on-failure":
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid restart policy \"{text}\": the retry count must be a number of 0 or more");
            default:
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid restart policy \"{text}\": expected no, on-failure[:N], always or unless-stopped");
        }
    }

    /// <summary>
    /// docker's rule after an exit: never after `stop`/`kill` by the user for unless-stopped and on-failure, and
    /// on-failure only for a non-zero code and while the retry count (0: unlimited) is not used up.
    /// </summary>
    public bool ShouldRestart(int exitCode, int restartCount, bool stoppedByUser) => Name switch
    {
        "always" => !stoppedByUser,
        "unless-stopped" => !stoppedByUser,
        "on-failure" => !stoppedByUser && exitCode != 0 && (MaximumRetryCount == 0 || restartCount < MaximumRetryCount),
        _ => false,
    };
}

/// <summary>
/// The log driver, json-file, local or none (docker's --log-driver), and the file drivers' options
/// (`--log-opt max-size=10m --log-opt max-file=3`).
/// </summary>
/// <remarks>
/// local is docker's driver whose storage is internal (docker does not show its path, so its format is no API):
/// here it is the same line-per-entry files as json-file, with local's defaults of 20 MB × 5 files. docker's local
/// also compresses rotated files by default; skiff's does not, and refuses compress=true rather than ignore it.
/// </remarks>
public sealed record LogOptions(long? MaxSize, int MaxFiles, string Driver = LogOptions.JsonFile)
{
    public const string JsonFile = "json-file";
    public const string Local = "local";
    public const string None = "none";

    public static readonly LogOptions Default = new(null, 1);

    /// <summary>docker's driver names; null for the default, json-file.</summary>
    public static LogOptions Parse(string? driver, IReadOnlyCollection<string> options)
    {
        var name = driver ?? JsonFile;
        switch (name)
        {
            case JsonFile or Local:
                break;
            case None when options.Count == 0:
                return new LogOptions(null, 1, None);
            case None:
                throw new EngineException(ErrorKind.InvalidArgument, $"log option \"{options.First()}\" is not one of the none log driver, which takes none");
            default:
                throw new EngineException(ErrorKind.InvalidArgument, $"log driver \"{driver}\" is not supported: skiff's are json-file, local and none");
        }
        bool local = name == Local;
        long? maxSize = local ? 20L << 20 : null;
        int maxFiles = local ? 5 : 1;
        foreach (var option in options)
        {
            var eq = option.IndexOf('=');
            var (key, value) = eq < 0 ? (option, "") : (option[..eq], option[(eq + 1)..]);
            switch (key)
            {
                case "max-size":
                    maxSize = ByteSize.Parse(value, "log max-size");
                    if (maxSize <= 0)
                        throw new EngineException(ErrorKind.InvalidArgument, $"invalid log option \"{option}\": max-size must be above 0");
                    break;
                case "max-file":
                    if (!int.TryParse(value, out maxFiles) || maxFiles < 1)
                        throw new EngineException(ErrorKind.InvalidArgument, $"invalid log option \"{option}\": max-file must be a number of 1 or more");
                    break;
                case "compress" when local && value == "false":
                    break;
                case "compress" when local && value == "true":
                    throw new EngineException(ErrorKind.InvalidArgument, "the log option compress=true is not supported: skiff's local driver keeps rotated files uncompressed");
                case "compress" when local:
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid log option \"{option}\": compress takes true or false");
                default:
                    throw new EngineException(ErrorKind.InvalidArgument, local
                        ? $"unknown log option \"{option}\": the local driver takes max-size, max-file and compress=false"
                        : $"unknown log option \"{option}\": the json-file driver takes max-size and max-file");
            }
        }
        if (maxFiles > 1 && maxSize is null)
            throw new EngineException(ErrorKind.InvalidArgument, "the log option max-file needs max-size as well: files rotate when they reach it");
        return new LogOptions(maxSize, maxFiles, name);
    }
}

/// <summary>A mount as inspect shows it (docker's Mounts entries), recorded at create.</summary>
public sealed record MountPoint(string Type, string? Name, string Source, string Destination, bool RW);

/// <summary>
/// What a container was created with, stored as JSON in its row: the run flags, the values decided from the
/// image (effective Entrypoint/Cmd/Env, which inspect shows) and the engine settings (runtime, restart, logs).
/// </summary>
public sealed record ContainerConfig
{
    public required RunOptions Options { get; init; }
    public IReadOnlyList<string> Entrypoint { get; init; } = [];
    public IReadOnlyList<string> Cmd { get; init; } = [];
    public IReadOnlyList<string> Env { get; init; } = [];
    public string WorkingDir { get; init; } = "/";
    public string User { get; init; } = "";
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string StopSignal { get; init; } = "SIGTERM";
    /// <summary>Seconds `stop` waits after StopSignal before SIGKILL; docker's default is 10.</summary>
    public int StopTimeout { get; init; } = 10;
    /// <summary>-i: the container's stdin stays open for attach clients.</summary>
    public bool OpenStdin { get; init; }
    /// <summary>--rm: the monitor removes the container when it exits for good.</summary>
    public bool AutoRemove { get; init; }
    public RestartPolicy RestartPolicy { get; init; } = RestartPolicy.No;
    public LogOptions Log { get; init; } = LogOptions.Default;
    /// <summary>The runc-compatible runtime executable this container runs under (kept for its whole life).</summary>
    public required string Runtime { get; init; }
    /// <summary>Host path of the prepared rootfs (exec resolves users through its /etc/passwd).</summary>
    public required string RootfsPath { get; init; }
    public IReadOnlyList<string> ExposedPorts { get; init; } = [];
    public IReadOnlyList<MountPoint> Mounts { get; init; } = [];
    /// <summary>Anonymous volumes created for this container: `rm -v` removes them.</summary>
    public IReadOnlyList<string> AnonymousVolumes { get; init; } = [];
    /// <summary>The health check in effect (the container's settings over the image's), as docker's Config.Healthcheck.</summary>
    public Skiff.Oci.Image.HealthConfig? Healthcheck { get; init; }
    /// <summary>The image's SHELL, through which CMD-SHELL health checks run (docker's Config.Shell); empty: /bin/sh -c.</summary>
    public IReadOnlyList<string> Shell { get; init; } = [];
}

/// <summary>The live part of a container's row: changed by start/stop and by its monitor.</summary>
public sealed record ContainerState
{
    public ContainerStatus Status { get; init; } = ContainerStatus.Created;
    public int Pid { get; init; }
    /// <summary>The process start time (/proc/PID/stat field 22): a pid alone may have been reused.</summary>
    public ulong PidStartTime { get; init; }
    public int ExitCode { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int RestartCount { get; init; }
    public int MonitorPid { get; init; }
    public ulong MonitorStartTime { get; init; }
    /// <summary>Set by stop/kill: restart policies other than always do not restart the container.</summary>
    public bool StoppedByUser { get; init; }
    /// <summary>Why the last start failed, as docker's State.Error.</summary>
    public string Error { get; init; } = "";
    /// <summary>The last run ended by the OOM killer (docker's State.OOMKilled); cleared when the container starts again.</summary>
    public bool OomKilled { get; init; }
    /// <summary>docker's State.Health: null while the container's health is not checked (no check, or never started).</summary>
    public ContainerHealth? Health { get; init; }
}

public sealed record ContainerRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    /// <summary>The image as the user named it.</summary>
    public required string Image { get; init; }
    public required string ImageId { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required ContainerConfig Config { get; init; }
    public ContainerState State { get; init; } = new();

    public string ShortId => Id[..12];
}
