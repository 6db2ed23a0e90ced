using Skiff.Oci;

namespace Skiff.Engine.Specs;

public enum NetworkMode
{
    /// <summary>A new network namespace with only loopback (`--network none`).</summary>
    None,
    /// <summary>The host's network namespace (`--network host`).</summary>
    Host,
    /// <summary>A namespace of its own made by the engine, with an interface on each network of <see cref="RunOptions.Attachments"/>.</summary>
    Bridge,
    /// <summary>Another container's namespace (`--network container:NAME`).</summary>
    Container,
}

/// <summary>One network a container is on, by id (its name as it was when connected) and what it asked of it.</summary>
public sealed record NetworkAttachment
{
    public required string NetworkId { get; init; }
    public required string NetworkName { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public string? IPv4Address { get; init; }
    public string? IPv6Address { get; init; }
    public string? MacAddress { get; init; }
}

/// <summary>A `--device HOST[:CONTAINER[:PERMISSIONS]]` request.</summary>
public sealed record DeviceRequest(string HostPath, string ContainerPath, string Permissions)
{
    public static DeviceRequest Parse(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0) || !parts[0].StartsWith('/'))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid device \"{spec}\": expected /dev/HOST[:/dev/CONTAINER[:PERMISSIONS]]");
        string containerPath = parts[0], permissions = "rwm";
        if (parts.Length >= 2)
        {
            if (IsPermissions(parts[1]) && parts.Length == 2)
                permissions = parts[1];
            else
                containerPath = parts[1];
        }
        if (parts.Length == 3)
            permissions = parts[2];
        if (!containerPath.StartsWith('/'))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid device \"{spec}\": the container path must be absolute");
        if (!IsPermissions(permissions))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid device \"{spec}\": permissions must be a combination of r, w and m");
        return new DeviceRequest(parts[0], containerPath, permissions);
    }

    private static bool IsPermissions(string text)
        => text.Length is > 0 and <= 3 && text.All(c => c is 'r' or 'w' or 'm') && text.Distinct().Count() == text.Length;
}

/// <summary>A `--ulimit NAME=SOFT[:HARD]` request (names without the RLIMIT_ prefix, as docker takes them).</summary>
public sealed record UlimitRequest(string Name, ulong Soft, ulong Hard)
{
    public static UlimitRequest Parse(string spec)
    {
        var eq = spec.IndexOf('=');
        if (eq <= 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid resource limit \"{spec}\": expected NAME=SOFT[:HARD], e.g. nofile=1024:2048");
        var name = "RLIMIT_" + spec[..eq].ToUpperInvariant();
        if (!Rlimits.TryGetResource(name, out _))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid resource limit \"{spec}\": unknown limit \"{spec[..eq]}\"");
        var values = spec[(eq + 1)..].Split(':');
        if (values.Length > 2)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid resource limit \"{spec}\": expected NAME=SOFT[:HARD]");
        var soft = ParseValue(spec, values[0]);
        var hard = values.Length == 2 ? ParseValue(spec, values[1]) : soft;
        if (soft > hard)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid resource limit \"{spec}\": the soft limit {soft} is above the hard limit {hard}");
        return new UlimitRequest(name, soft, hard);
    }

    private static ulong ParseValue(string spec, string text)
    {
        if (text is "-1" or "unlimited")
            return ulong.MaxValue;
        if (!ulong.TryParse(text, out var value))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid resource limit \"{spec}\": \"{text}\" is not a number");
        return value;
    }
}

/// <summary>
/// What `skiff run`/`create` was asked for, after flag parsing and before anything is decided from the image.
/// Null means "not given" throughout, so the image's value or the default applies.
/// </summary>
public sealed record RunOptions
{
    /// <summary>Arguments after the image name: they replace the image's Cmd.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];
    /// <summary>--entrypoint: "" clears the image's entrypoint. Either way the image's Cmd is not used.</summary>
    public string? Entrypoint { get; init; }
    /// <summary>-e / --env-file values, KEY=VALUE, in order (later ones win).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];
    public string? WorkingDir { get; init; }
    public string? User { get; init; }
    public string? Hostname { get; init; }
    public bool Tty { get; init; }
    /// <summary>--init: skiff-init --init runs as pid 1, reaping orphans and forwarding signals to the program.</summary>
    public bool Init { get; init; }
    public bool ReadOnlyRootfs { get; init; }
    public bool Privileged { get; init; }
    public IReadOnlyList<string> CapAdd { get; init; } = [];
    public IReadOnlyList<string> CapDrop { get; init; } = [];
    public bool NoNewPrivileges { get; init; }
    /// <summary>
    /// The seccomp filter decided by the caller (docker's default profile, a file, or null for unconfined). Not
    /// stored with the container: config.json carries it, and every command that reads the container (the monitor
    /// first) would parse the whole profile again.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public LinuxSeccomp? Seccomp { get; init; }
    /// <summary>The AppArmor profile and SELinux labels decided by the caller (--security-opt apparmor=, label=).</summary>
    public SecurityLabels SecurityLabels { get; init; } = new(null, null, null);
    public IReadOnlyDictionary<string, string> Sysctls { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<DeviceRequest> Devices { get; init; } = [];
    public IReadOnlyList<MountRequest> Mounts { get; init; } = [];
    public IReadOnlyList<UlimitRequest> Ulimits { get; init; } = [];
    public long? Memory { get; init; }
    /// <summary>--memory-swap: memory plus swap; -1 for unlimited swap.</summary>
    public long? MemorySwap { get; init; }
    public decimal? Cpus { get; init; }
    public long? PidsLimit { get; init; }
    public long? ShmSize { get; init; }
    /// <summary>
    /// docker's --network values, in order: none, host, bridge (or default), container:NAME, a network's name, or
    /// docker's long form name=NAME,alias=A,ip=X,ip6=Y,mac-address=M. None given: the default network, bridge.
    /// The engine turns them into <see cref="Network"/> and <see cref="Attachments"/> at create.
    /// </summary>
    public IReadOnlyList<string> Networks { get; init; } = [];
    /// <summary>--network-alias, --ip, --ip6, --mac-address: for the first network.</summary>
    public IReadOnlyList<string> NetworkAliases { get; init; } = [];
    public string? IPv4Address { get; init; }
    public string? IPv6Address { get; init; }
    public string? MacAddress { get; init; }
    /// <summary>-p values as given (docker's [ip:][hostPort:]containerPort[/protocol]); <see cref="Ports"/> once created.</summary>
    public IReadOnlyList<string> Publish { get; init; } = [];
    /// <summary>-P: every exposed port on a free host port.</summary>
    public bool PublishAll { get; init; }
    /// <summary>--expose values as given (80, 80/udp, 8000-8010).</summary>
    public IReadOnlyList<string> Expose { get; init; } = [];

    /// <summary>What the container's network is, decided at create from <see cref="Networks"/> (None when made by a caller that gave no networks before create).</summary>
    public NetworkMode Network { get; init; } = NetworkMode.None;
    /// <summary>The networks of a <see cref="NetworkMode.Bridge"/> container, the first one with the default route and published ports.</summary>
    public IReadOnlyList<NetworkAttachment> Attachments { get; init; } = [];
    /// <summary>The container whose namespace a <see cref="NetworkMode.Container"/> container joins, as given.</summary>
    public string? NetworkContainer { get; init; }
    /// <summary>The ports to publish, parsed from <see cref="Publish"/> and <see cref="PublishAll"/> at create.</summary>
    public IReadOnlyList<Skiff.Network.PortRequest> Ports { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>Health check settings given for the container: a null Test or a zero keeps the image's (<see cref="Containers.Healthchecks.Merge"/>).</summary>
    public Oci.Image.HealthConfig? Healthcheck { get; init; }
    /// <summary>Disables the image's health check (docker's --no-healthcheck).</summary>
    public bool NoHealthcheck { get; init; }
    /// <summary>HOST:IP entries appended to the container's /etc/hosts (docker's ExtraHosts).</summary>
    public IReadOnlyList<string> ExtraHosts { get; init; } = [];
    /// <summary>Nameservers, search domains and resolver options that replace the host's in the container's /etc/resolv.conf.</summary>
    public IReadOnlyList<string> Dns { get; init; } = [];
    public IReadOnlyList<string> DnsSearch { get; init; } = [];
    public IReadOnlyList<string> DnsOptions { get; init; } = [];
    /// <summary>docker's PidMode: "" (a namespace of its own), "host" or "container:NAME".</summary>
    public string PidMode { get; init; } = "";
    /// <summary>docker's IpcMode: "" or "private", "shareable" (others may join it), "host", "none" (no /dev/shm) or "container:NAME".</summary>
    public string IpcMode { get; init; } = "";
    /// <summary>docker's UTSMode: "" or "host".</summary>
    public string UtsMode { get; init; } = "";
    /// <summary>docker's UsernsMode: "" or "host" (skiff has no user namespace remapping, so both mean the host's).</summary>
    public string UsernsMode { get; init; } = "";
    /// <summary>Supplementary groups, names (looked up in the container's /etc/group) or numbers.</summary>
    public IReadOnlyList<string> GroupAdd { get; init; } = [];
    public bool OomKillDisable { get; init; }
    /// <summary>The container's oom_score_adj, -1000 to 1000.</summary>
    public int? OomScoreAdj { get; init; }
    /// <summary>Relative CPU weight (cgroup v1 cpu.shares), 2 to 262144.</summary>
    public long? CpuShares { get; init; }
    /// <summary>CPUs and memory nodes the container may use, in the kernel's list syntax (0-3,5).</summary>
    public string? CpusetCpus { get; init; }
    public string? CpusetMems { get; init; }
    /// <summary>Soft memory limit, reclaimed towards under memory pressure.</summary>
    public long? MemoryReservation { get; init; }
    /// <summary>CFS period in microseconds (1000 to 1000000); with <see cref="CpuQuota"/>, what --cpus sets in one value.</summary>
    public long? CpuPeriod { get; init; }
    /// <summary>CFS quota in microseconds per period (at least 1000; -1: unlimited).</summary>
    public long? CpuQuota { get; init; }
    /// <summary>How readily the kernel swaps the container's anonymous memory out, 0 to 100; -1 or null: the host's.</summary>
    public long? MemorySwappiness { get; init; }
    /// <summary>Relative block IO weight, 10 to 1000.</summary>
    public int? BlkioWeight { get; init; }
    /// <summary>Device cgroup rules "TYPE MAJOR:MINOR ACCESS" (e.g. "c 1:3 rwm", "*" for any number).</summary>
    public IReadOnlyList<string> DeviceCgroupRules { get; init; } = [];
    /// <summary>OCI annotations of the container's config.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    /// <summary>The NIS domain name of the container's UTS namespace (docker's Config.Domainname).</summary>
    public string? Domainname { get; init; }
    /// <summary>Containers whose volumes and bind mounts this one mounts too, as docker's VolumesFrom: NAME[:ro|:rw].</summary>
    public IReadOnlyList<string> VolumesFrom { get; init; } = [];
    /// <summary>
    /// The cgroup under which the container's own goes, absolute in each hierarchy (<see cref="CgroupParents.Normalize"/>);
    /// null for the engine's default.
    /// </summary>
    public string? CgroupParent { get; init; }
    /// <summary>docker's CgroupnsMode: "" (the host's default: private on cgroup v2, host on v1), "host" or "private".</summary>
    public string CgroupnsMode { get; init; } = "";
    /// <summary>Real-time scheduling period and runtime in microseconds (cgroup v1 cpu.rt_period_us, cpu.rt_runtime_us).</summary>
    public long? CpuRealtimePeriod { get; init; }
    public long? CpuRealtimeRuntime { get; init; }
    /// <summary>Per-device block IO weights and throttles, by host device path.</summary>
    public IReadOnlyList<BlockDeviceRate> BlkioWeightDevice { get; init; } = [];
    public IReadOnlyList<BlockDeviceRate> DeviceReadBps { get; init; } = [];
    public IReadOnlyList<BlockDeviceRate> DeviceWriteBps { get; init; } = [];
    public IReadOnlyList<BlockDeviceRate> DeviceReadIops { get; init; } = [];
    public IReadOnlyList<BlockDeviceRate> DeviceWriteIops { get; init; } = [];
    /// <summary>The volume driver of the container's volumes: "local", the only one, or null for the default (also local).</summary>
    public string? VolumeDriver { get; init; }
    /// <summary>Which of the container's streams a foreground run shows and feeds (docker's Config.Attach*).</summary>
    public AttachStreams Attach { get; init; } = AttachStreams.Default;
    /// <summary>The file the front end wrote the container's ID to (docker's HostConfig.ContainerIDFile), "" for none.</summary>
    public string ContainerIdFile { get; init; } = "";
}
