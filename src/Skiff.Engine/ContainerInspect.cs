using System.Text.Json.Serialization;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;

namespace Skiff.Engine;

/// <summary>`skiff inspect` of a container, in the shape (and property names) of `docker inspect`.</summary>
public sealed record ContainerInspect
{
    public required string Id { get; init; }
    /// <summary>docker prints names with a leading "/".</summary>
    public required string Name { get; init; }
    public required string Created { get; init; }
    public required string Path { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public required InspectState State { get; init; }
    /// <summary>The image id.</summary>
    public required string Image { get; init; }
    public required string LogPath { get; init; }
    public required int RestartCount { get; init; }
    public required string Driver { get; init; }
    public required InspectConfig Config { get; init; }
    public required InspectHostConfig HostConfig { get; init; }
    public required IReadOnlyList<InspectMount> Mounts { get; init; }
    public required InspectNetworkSettings NetworkSettings { get; init; }

    public static ContainerInspect From(ContainerRecord container, string logPath, InspectNetworkSettings networkSettings)
    {
        var config = container.Config;
        var options = config.Options;
        var args = config.Entrypoint.Concat(config.Cmd).ToList();
        return new ContainerInspect
        {
            Id = container.Id,
            Name = "/" + container.Name,
            Created = JsonFileLog.FormatTime(container.Created),
            Path = args.FirstOrDefault() ?? "",
            Args = args.Skip(1).ToList(),
            State = new InspectState
            {
                Status = container.State.Status.ToString().ToLowerInvariant(),
                Running = container.State.Status is ContainerStatus.Running or ContainerStatus.Paused,
                Paused = container.State.Status == ContainerStatus.Paused,
                Restarting = container.State.Status == ContainerStatus.Restarting,
                OOMKilled = container.State.OomKilled,
                Dead = false,
                Pid = container.State.Status is ContainerStatus.Running or ContainerStatus.Paused ? container.State.Pid : 0,
                ExitCode = container.State.ExitCode,
                Error = container.State.Error,
                StartedAt = Time(container.State.StartedAt),
                FinishedAt = Time(container.State.FinishedAt),
                Health = container.State.Health is { } health ? new InspectHealth
                {
                    Status = health.StatusName,
                    FailingStreak = health.FailingStreak,
                    Log = health.Log.Select(r => new InspectHealthResult { Start = JsonFileLog.FormatTime(r.Start), End = JsonFileLog.FormatTime(r.End), ExitCode = r.ExitCode, Output = r.Output }).ToList(),
                } : null,
            },
            Image = container.ImageId,
            // docker: no log file without a driver that writes one.
            // docker shows the path of json-file logs only: local's storage is internal, none has none.
            LogPath = config.Log.Driver == LogOptions.JsonFile ? logPath : "",
            RestartCount = container.State.RestartCount,
            Driver = "overlay",
            Config = new InspectConfig
            {
                Hostname = options.Hostname ?? container.Id[..12],
                Domainname = options.Domainname ?? "",
                User = config.User,
                AttachStdin = options.Attach.HasFlag(Specs.AttachStreams.Stdin),
                AttachStdout = options.Attach.HasFlag(Specs.AttachStreams.Stdout),
                AttachStderr = options.Attach.HasFlag(Specs.AttachStreams.Stderr),
                Tty = options.Tty,
                OpenStdin = config.OpenStdin,
                Env = config.Env,
                Cmd = config.Cmd,
                Image = container.Image,
                WorkingDir = config.WorkingDir,
                Entrypoint = config.Entrypoint.Count > 0 ? config.Entrypoint : null,
                Labels = config.Labels,
                StopSignal = config.StopSignal,
                StopTimeout = config.StopTimeout,
                ExposedPorts = config.ExposedPorts.ToDictionary(p => p, _ => new EmptyObject()),
                Healthcheck = config.Healthcheck,
                Shell = config.Shell.Count > 0 ? config.Shell : null,
            },
            HostConfig = new InspectHostConfig
            {
                Binds = options.Mounts.Where(m => m.Source is not null && m.Kind != Specs.MountKind.Tmpfs)
                    .Select(m => $"{m.Source}:{m.Target}{(m.ReadOnly ? ":ro" : "")}").ToList(),
                ContainerIDFile = options.ContainerIdFile,
                LogConfig = new InspectLogConfig
                {
                    Type = config.Log.Driver,
                    Config = new Dictionary<string, string>(
                        (config.Log.MaxSize is { } size ? [new("max-size", size.ToString()), new("max-file", config.Log.MaxFiles.ToString())] : Array.Empty<KeyValuePair<string, string>>())),
                },
                NetworkMode = NetworkModeName(options),
                PortBindings = options.Ports.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Select(p => new InspectPortBinding
                {
                    HostIp = p.HostIp,
                    HostPort = p.HostPortFirst == 0 ? "" : p.HostPortFirst == p.HostPortLast ? $"{p.HostPortFirst}" : $"{p.HostPortFirst}-{p.HostPortLast}",
                }).ToList()),
                PublishAllPorts = options.PublishAll,
                RestartPolicy = new InspectRestartPolicy { Name = config.RestartPolicy.Name, MaximumRetryCount = config.RestartPolicy.MaximumRetryCount },
                AutoRemove = config.AutoRemove,
                VolumeDriver = options.VolumeDriver ?? "",
                VolumesFrom = options.VolumesFrom.Count > 0 ? options.VolumesFrom : null,
                CapAdd = options.CapAdd,
                CapDrop = options.CapDrop,
                // Recorded at creation with the host's default filled in; "" only for containers made before that.
                CgroupnsMode = options.CgroupnsMode,
                Dns = options.Dns,
                DnsOptions = options.DnsOptions,
                DnsSearch = options.DnsSearch,
                ExtraHosts = options.ExtraHosts.Count > 0 ? options.ExtraHosts : null,
                GroupAdd = options.GroupAdd.Count > 0 ? options.GroupAdd : null,
                // docker 20.10's daemon default is private, and inspect says so.
                IpcMode = options.IpcMode.Length > 0 ? options.IpcMode : "private",
                OomScoreAdj = options.OomScoreAdj ?? 0,
                PidMode = options.PidMode,
                Privileged = options.Privileged,
                ReadonlyRootfs = options.ReadOnlyRootfs,
                SecurityOpt = options.NoNewPrivileges ? ["no-new-privileges"] : [],
                UTSMode = options.UtsMode,
                UsernsMode = options.UsernsMode,
                Isolation = "",
                CpuShares = options.CpuShares ?? 0,
                Memory = options.Memory ?? 0,
                MemorySwap = options.MemorySwap ?? 0,
                NanoCpus = options.Cpus is { } cpus ? (long)(cpus * 1_000_000_000m) : 0,
                BlkioWeight = options.BlkioWeight ?? 0,
                CgroupParent = options.CgroupParent ?? "",
                BlkioWeightDevice = options.BlkioWeightDevice.Select(d => new InspectWeightDevice { Path = d.Path, Weight = (ushort)d.Rate }).ToList(),
                BlkioDeviceReadBps = Throttles(options.DeviceReadBps),
                BlkioDeviceWriteBps = Throttles(options.DeviceWriteBps),
                BlkioDeviceReadIOps = Throttles(options.DeviceReadIops),
                BlkioDeviceWriteIOps = Throttles(options.DeviceWriteIops),
                CpuRealtimePeriod = options.CpuRealtimePeriod ?? 0,
                CpuRealtimeRuntime = options.CpuRealtimeRuntime ?? 0,
                CpusetCpus = options.CpusetCpus ?? "",
                CpusetMems = options.CpusetMems ?? "",
                DeviceCgroupRules = options.DeviceCgroupRules.Count > 0 ? options.DeviceCgroupRules : null,
                MemoryReservation = options.MemoryReservation ?? 0,
                CpuPeriod = options.CpuPeriod ?? 0,
                CpuQuota = options.CpuQuota ?? 0,
                MemorySwappiness = options.MemorySwappiness is null or -1 ? null : options.MemorySwappiness,
                OomKillDisable = options.OomKillDisable,
                PidsLimit = options.PidsLimit,
                ShmSize = options.ShmSize ?? Specs.ContainerSpecBuilder.DefaultShmSize,
                Runtime = config.Runtime,
                Init = options.Init,
                Annotations = options.Annotations.Count > 0 ? options.Annotations : null,
            },
            NetworkSettings = networkSettings,
            Mounts = config.Mounts.Select(m => new InspectMount
            {
                Type = m.Type, Name = m.Name, Source = m.Source, Destination = m.Destination, RW = m.RW, Mode = m.RW ? "" : "ro",
                Propagation = m.Type == "bind" ? "rprivate" : "",
            }).ToList(),
        };
    }

    /// <summary>docker's HostConfig.NetworkMode: bridge, none, host, container:ID or the first network's name.</summary>
    public static string NetworkModeName(Specs.RunOptions options) => options.Network switch
    {
        Specs.NetworkMode.Host => "host",
        Specs.NetworkMode.None => "none",
        Specs.NetworkMode.Container => "container:" + options.NetworkContainer,
        _ => options.Attachments.Count > 0 ? options.Attachments[0].NetworkName : "bridge",
    };

    /// <summary>docker's CLI leaves the throttles it was not given null (and the weights an empty list).</summary>
    private static List<InspectThrottleDevice>? Throttles(IReadOnlyList<Specs.BlockDeviceRate> rates)
        => rates.Count > 0 ? rates.Select(r => new InspectThrottleDevice { Path = r.Path, Rate = r.Rate }).ToList() : null;

    /// <summary>docker's zero time for "never".</summary>
    private static string Time(DateTimeOffset? time) => time is { } t ? JsonFileLog.FormatTime(t) : "0001-01-01T00:00:00Z";
}

public sealed record InspectState
{
    public required string Status { get; init; }
    public bool Running { get; init; }
    public bool Paused { get; init; }
    public bool Restarting { get; init; }
    public bool OOMKilled { get; init; }
    public bool Dead { get; init; }
    public int Pid { get; init; }
    public int ExitCode { get; init; }
    public string Error { get; init; } = "";
    public required string StartedAt { get; init; }
    public required string FinishedAt { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InspectHealth? Health { get; init; }
}

/// <summary>docker's State.Health.</summary>
public sealed record InspectHealth
{
    public required string Status { get; init; }
    public int FailingStreak { get; init; }
    public required IReadOnlyList<InspectHealthResult> Log { get; init; }
}

public sealed record InspectHealthResult
{
    public required string Start { get; init; }
    public required string End { get; init; }
    public int ExitCode { get; init; }
    public required string Output { get; init; }
}

public sealed record InspectConfig
{
    public required string Hostname { get; init; }
    public required string Domainname { get; init; }
    public required string User { get; init; }
    public bool AttachStdin { get; init; }
    public bool AttachStdout { get; init; }
    public bool AttachStderr { get; init; }
    public bool Tty { get; init; }
    public bool OpenStdin { get; init; }
    public required IReadOnlyList<string> Env { get; init; }
    public required IReadOnlyList<string> Cmd { get; init; }
    public required string Image { get; init; }
    public required string WorkingDir { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public required string StopSignal { get; init; }
    public int StopTimeout { get; init; }
    public required Dictionary<string, EmptyObject> ExposedPorts { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Skiff.Oci.Image.HealthConfig? Healthcheck { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Shell { get; init; }
}

/// <summary>docker writes exposed ports as {"80/tcp": {}}.</summary>
public sealed record EmptyObject;

public sealed record InspectHostConfig
{
    public required IReadOnlyList<string> Binds { get; init; }
    public required string ContainerIDFile { get; init; }
    public required InspectLogConfig LogConfig { get; init; }
    public required string NetworkMode { get; init; }
    public required Dictionary<string, List<InspectPortBinding>> PortBindings { get; init; }
    public bool PublishAllPorts { get; init; }
    public required InspectRestartPolicy RestartPolicy { get; init; }
    public bool AutoRemove { get; init; }
    public required string VolumeDriver { get; init; }
    public IReadOnlyList<string>? VolumesFrom { get; init; }
    public required IReadOnlyList<string> CapAdd { get; init; }
    public required IReadOnlyList<string> CapDrop { get; init; }
    public required string CgroupnsMode { get; init; }
    public required IReadOnlyList<string> Dns { get; init; }
    public required IReadOnlyList<string> DnsOptions { get; init; }
    public required IReadOnlyList<string> DnsSearch { get; init; }
    public IReadOnlyList<string>? ExtraHosts { get; init; }
    public IReadOnlyList<string>? GroupAdd { get; init; }
    public required string IpcMode { get; init; }
    public int OomScoreAdj { get; init; }
    public required string PidMode { get; init; }
    public bool Privileged { get; init; }
    public bool ReadonlyRootfs { get; init; }
    public required IReadOnlyList<string> SecurityOpt { get; init; }
    public required string UTSMode { get; init; }
    public required string UsernsMode { get; init; }
    public required string Isolation { get; init; }
    public long CpuShares { get; init; }
    public long Memory { get; init; }
    public long MemorySwap { get; init; }
    public long NanoCpus { get; init; }
    public int BlkioWeight { get; init; }
    public required string CgroupParent { get; init; }
    public required IReadOnlyList<InspectWeightDevice> BlkioWeightDevice { get; init; }
    public IReadOnlyList<InspectThrottleDevice>? BlkioDeviceReadBps { get; init; }
    public IReadOnlyList<InspectThrottleDevice>? BlkioDeviceWriteBps { get; init; }
    public IReadOnlyList<InspectThrottleDevice>? BlkioDeviceReadIOps { get; init; }
    public IReadOnlyList<InspectThrottleDevice>? BlkioDeviceWriteIOps { get; init; }
    public long CpuRealtimePeriod { get; init; }
    public long CpuRealtimeRuntime { get; init; }
    public required string CpusetCpus { get; init; }
    public required string CpusetMems { get; init; }
    public IReadOnlyList<string>? DeviceCgroupRules { get; init; }
    public long MemoryReservation { get; init; }
    public long CpuPeriod { get; init; }
    public long CpuQuota { get; init; }
    /// <summary>null when the host's applies, as docker shows it.</summary>
    public long? MemorySwappiness { get; init; }
    public bool OomKillDisable { get; init; }
    public long? PidsLimit { get; init; }
    public long ShmSize { get; init; }
    public required string Runtime { get; init; }
    public bool Init { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>docker's WeightDevice: a host device path and its weight.</summary>
public sealed record InspectWeightDevice
{
    public required string Path { get; init; }
    public ushort Weight { get; init; }
}

/// <summary>docker's ThrottleDevice: a host device path and its rate (bytes or operations per second).</summary>
public sealed record InspectThrottleDevice
{
    public required string Path { get; init; }
    public long Rate { get; init; }
}

public sealed record InspectLogConfig
{
    public required string Type { get; init; }
    public required Dictionary<string, string> Config { get; init; }
}

public sealed record InspectRestartPolicy
{
    public required string Name { get; init; }
    public int MaximumRetryCount { get; init; }
}

public sealed record InspectMount
{
    public required string Type { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }
    public required string Source { get; init; }
    public required string Destination { get; init; }
    public required string Mode { get; init; }
    public bool RW { get; init; }
    public required string Propagation { get; init; }
}

/// <summary>`skiff inspect` output: a JSON array, as docker prints it.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<ContainerInspect>))]
[JsonSerializable(typeof(List<VolumeInspect>))]
[JsonSerializable(typeof(List<ImageInspect>))]
[JsonSerializable(typeof(List<NetworkInspect>))]
[JsonSerializable(typeof(List<System.Text.Json.JsonElement>))]
public sealed partial class InspectJsonContext : JsonSerializerContext;
