using Skiff.Oci;
using Skiff.Oci.Image;

namespace Skiff.Engine.Specs;

/// <summary>Everything the builder combines into one container's OCI config.</summary>
public sealed record SpecInput
{
    public required string ContainerId { get; init; }
    /// <summary>Host path of the prepared rootfs (the overlay mount).</summary>
    public required string RootfsPath { get; init; }
    public ImageExecutionConfig? Image { get; init; }
    public required RunOptions Options { get; init; }
    public required ResolvedUser User { get; init; }
    /// <summary>Host directory backing a volume request (named or anonymous), created by the caller's volume store.</summary>
    public required Func<MountRequest, string> VolumeSource { get; init; }
    /// <summary>Bind mounts the engine generates per container (/etc/hostname, /etc/hosts, /etc/resolv.conf).</summary>
    public IReadOnlyList<Mount> EngineMounts { get; init; } = [];
    public required HostFacts Host { get; init; }
    /// <summary>Host path of skiff-init, bind-mounted at <see cref="ContainerSpecBuilder.InitPath"/> for --init.</summary>
    public string? InitBinary { get; init; }
    /// <summary>Namespace type → pid of the running container whose namespace this one joins (docker's container:NAME modes).</summary>
    public IReadOnlyDictionary<string, int> JoinedNamespaces { get; init; } = new Dictionary<string, int>();
    /// <summary>Where the engine binds the network namespace it makes for a container on networks of its own.</summary>
    public string? NetworkNamespacePath { get; init; }
    /// <summary>The mounts of the containers named by --volumes-from, each with its mode; the container's own mounts win at the same place.</summary>
    public IReadOnlyList<MountRequest> InheritedMounts { get; init; } = [];
    /// <summary>linux.cgroupsPath: the container's cgroup, absolute in each hierarchy.</summary>
    public string? CgroupsPath { get; init; }
}

/// <summary>
/// The OCI config of a `skiff run`: docker's semantics for combining the image config with the flags
/// (Entrypoint/Cmd, Env, WorkingDir, User) and docker's defaults for everything else (capabilities, mounts,
/// masked paths, /dev/shm, devices), so images behave as they do under docker and podman.
/// </summary>
public static class ContainerSpecBuilder
{
    /// <summary>Where --init's pid 1 is mounted: /dev is the container's own tmpfs, so nothing of the image is covered.</summary>
    public const string InitPath = "/dev/init";

    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>docker's default capability set (moby oci/caps/defaults.go).</summary>
    public static readonly IReadOnlyList<string> DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    public static readonly IReadOnlyList<string> MaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    public static readonly IReadOnlyList<string> ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>docker's default /dev/shm size.</summary>
    public const long DefaultShmSize = 64L << 20;

    /// <summary>The open-files limit containers get unless --ulimit says otherwise: podman's 1048576, lowered to what the host allows.</summary>
    public const ulong DefaultNofile = 1048576;

    /// <summary>docker refuses smaller memory limits: the container could not even start.</summary>
    public const long MinimumMemory = 6L << 20;

    private static readonly HashSet<string> NamespacedSysctls =
        ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

    public static Spec Build(SpecInput input)
    {
        var options = input.Options;
        var hostname = options.Hostname ?? input.ContainerId[..Math.Min(12, input.ContainerId.Length)];
        var capabilities = Capabilities(options, input.Host);
        var spec = new Spec
        {
            Version = DefaultSpec.OciVersion,
            Root = new Root { Path = input.RootfsPath, Readonly = options.ReadOnlyRootfs },
            // The host's UTS namespace keeps the host's name: setting one there would rename the host.
            Hostname = options.UtsMode == "host" ? null : hostname,
            Domainname = string.IsNullOrEmpty(options.Domainname) ? null : options.Domainname,
            Process = new Process
            {
                Terminal = options.Tty,
                Args = options.Init ? [InitPath, "--init", "--", .. Arguments(input.Image, options)] : Arguments(input.Image, options),
                Env = Environment(input.Image, options, hostname, input.User.Home),
                Cwd = WorkingDirectory(input.Image, options),
                User = new User
                {
                    UID = input.User.Uid,
                    GID = input.User.Gid,
                    AdditionalGids = input.User.AdditionalGids.Count > 0 ? [.. input.User.AdditionalGids] : null,
                },
                Capabilities = new LinuxCapabilities
                {
                    Bounding = [.. capabilities],
                    // A non-root user keeps the bounding set only: the kernel clears the others on the switch to
                    // a non-zero uid anyway, and asking for them would make the runtime raise ambient caps.
                    Effective = input.User.Uid == 0 ? [.. capabilities] : [],
                    Permitted = input.User.Uid == 0 ? [.. capabilities] : [],
                },
                Rlimits = Rlimits(options, input.Host),
                OOMScoreAdj = OomScoreAdj(options, input.Host),
                NoNewPrivileges = options.NoNewPrivileges && !options.Privileged,
                ApparmorProfile = options.SecurityLabels.ApparmorProfile,
                SelinuxLabel = options.SecurityLabels.SelinuxLabel,
            },
            Mounts = Mounts(input),
            Linux = new Linux
            {
                Namespaces = Namespaces(options, input.Host, input.JoinedNamespaces, input.NetworkNamespacePath),
                Resources = Resources(options, input.Host, input.CgroupsPath),
                Devices = Devices(options, input.Host),
                Sysctl = Sysctls(options),
                MaskedPaths = options.Privileged ? null : [.. MaskedPaths],
                ReadonlyPaths = options.Privileged ? null : [.. ReadonlyPaths],
                Seccomp = options.Privileged ? null : options.Seccomp,
                MountLabel = options.SecurityLabels.MountLabel,
                CgroupsPath = input.CgroupsPath,
            },
        };
        if (options.Labels.Count > 0 || options.Annotations.Count > 0)
            spec.Annotations = new Dictionary<string, string>(options.Labels.Concat(options.Annotations).DistinctBy(pair => pair.Key));
        return spec;
    }

    /// <summary>
    /// docker's rule: the image's Entrypoint stays unless --entrypoint is given; the image's Cmd is used only when
    /// neither a command nor --entrypoint is given. --entrypoint "" clears the entrypoint.
    /// </summary>
    public static List<string> Arguments(ImageExecutionConfig? image, RunOptions options)
    {
        var entrypoint = options.Entrypoint is null ? image?.Entrypoint ?? [] : options.Entrypoint.Length == 0 ? [] : [options.Entrypoint];
        IReadOnlyList<string> command = options.Command.Count > 0 ? options.Command
            : options.Entrypoint is null ? image?.Cmd ?? [] : [];
        var args = entrypoint.Concat(command).ToList();
        if (args.Count == 0)
            throw new EngineException(ErrorKind.InvalidArgument, "no command specified: the image has neither Cmd nor Entrypoint; give the container a command");
        return args;
    }

    /// <summary>
    /// PATH (docker's default unless the image sets one), HOSTNAME, TERM for a terminal, HOME from the user's passwd
    /// entry, then the image's variables, then -e ones; a later KEY replaces an earlier one in place.
    /// </summary>
    public static List<string> Environment(ImageExecutionConfig? image, RunOptions options, string hostname, string home)
    {
        var env = new List<string> { DefaultPath, "HOSTNAME=" + hostname };
        if (options.Tty)
            env.Add("TERM=xterm");
        foreach (var entry in (image?.Env ?? []).Concat(options.Env))
            ReplaceOrAppend(env, entry);
        if (!env.Any(e => e.StartsWith("HOME=", StringComparison.Ordinal)))
            env.Add("HOME=" + home);
        return env;
    }

    /// <summary>
    /// docker's Config.Env: the user's -e and --env-file entries, then the image's variables they do not set
    /// (moby's merge). PATH, HOSTNAME, TERM and HOME are added at run time only and are not part of it.
    /// </summary>
    public static List<string> ConfigEnvironment(ImageExecutionConfig? image, RunOptions options)
    {
        var userKeys = options.Env.Select(EnvironmentKey).ToHashSet(StringComparer.Ordinal);
        return [.. options.Env, .. (image?.Env ?? []).Where(entry => !userKeys.Contains(EnvironmentKey(entry)))];
    }

    private static string EnvironmentKey(string entry) => entry.IndexOf('=') is var eq and >= 0 ? entry[..eq] : entry;

    private static void ReplaceOrAppend(List<string> env, string entry)
    {
        var eq = entry.IndexOf('=');
        if (eq <= 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid environment variable \"{entry}\": expected KEY=VALUE");
        var prefix = entry[..(eq + 1)];
        var index = env.FindIndex(e => e.StartsWith(prefix, StringComparison.Ordinal));
        if (index >= 0) env[index] = entry;
        else env.Add(entry);
    }

    private static string WorkingDirectory(ImageExecutionConfig? image, RunOptions options)
    {
        var dir = options.WorkingDir ?? (string.IsNullOrEmpty(image?.WorkingDir) ? "/" : image.WorkingDir);
        if (!dir.StartsWith('/'))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid working directory \"{dir}\": it must be an absolute path");
        return dir;
    }

    /// <summary>
    /// docker's defaults, plus --cap-add, minus --cap-drop ("ALL" on either side); with --privileged or
    /// --cap-add ALL, the host's bounding set rather than every capability the kernel knows.
    /// </summary>
    public static List<string> Capabilities(RunOptions options, HostFacts host)
    {
        if (options.Privileged)
            return [.. host.BoundingSet];
        var result = new List<string>(DefaultCapabilities);
        var drops = options.CapDrop.Select(c => Normalize(c, host)).ToList();
        var adds = options.CapAdd.Select(c => Normalize(c, host)).ToList();
        // docker's TweakCapabilities: --cap-add ALL wins over --cap-drop ALL, and keeps the other drops.
        if (adds.Contains("ALL"))
            return [.. host.BoundingSet.Where(c => !drops.Contains(c))];
        if (drops.Contains("ALL"))
            result.Clear();
        else
            result.RemoveAll(drops.Contains);
        foreach (var add in adds)
        {
            if (!host.BoundingSet.Contains(add))
                throw new EngineException(ErrorKind.FailedPrecondition, $"capability {add}: this host's bounding set lacks it, so no container here can have it; do not add it");
            else if (!result.Contains(add))
                result.Add(add);
        }
        return result;
    }

    private static string Normalize(string name, HostFacts host)
    {
        var upper = name.Trim().ToUpperInvariant();
        if (upper == "ALL")
            return upper;
        var full = upper.StartsWith("CAP_", StringComparison.Ordinal) ? upper : "CAP_" + upper;
        if (!Oci.Capabilities.TryGetNumber(full, out _))
            throw new EngineException(ErrorKind.InvalidArgument, $"unknown capability \"{name}\"");
        if (!host.Capabilities.Contains(full))
            throw new EngineException(ErrorKind.FailedPrecondition, $"capability {full} is not supported by this kernel");
        return full;
    }

    private static List<POSIXRlimit> Rlimits(RunOptions options, HostFacts host)
    {
        var limits = new List<POSIXRlimit>();
        foreach (var request in options.Ulimits)
        {
            var maximum = host.RlimitHardMaximum(request.Name);
            if (request.Hard > maximum)
                throw new EngineException(ErrorKind.FailedPrecondition, 
                    $"resource limit {request.Name["RLIMIT_".Length..].ToLowerInvariant()}: hard limit {Describe(request.Hard)} is above this host's maximum {Describe(maximum)} (raising it needs CAP_SYS_RESOURCE)");
            limits.RemoveAll(l => l.Type == request.Name);
            limits.Add(new POSIXRlimit { Type = request.Name, Soft = request.Soft, Hard = request.Hard });
        }
        if (!limits.Any(l => l.Type == "RLIMIT_NOFILE"))
        {
            var nofile = Math.Min(DefaultNofile, host.RlimitHardMaximum("RLIMIT_NOFILE"));
            limits.Add(new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = nofile, Hard = nofile });
        }
        return limits;
    }

    private static string Describe(ulong limit) => limit == ulong.MaxValue ? "unlimited" : limit.ToString();

    /// <summary>docker's PID, IPC, UTS and user namespace modes, checked before anything is made.</summary>
    /// <exception cref="EngineException">InvalidArgument for a mode docker does not have or skiff cannot give.</exception>
    public static void ValidateNamespaceModes(RunOptions options)
    {
        CheckMode("PID", options.PidMode, ["", "host"]);
        CheckMode("IPC", options.IpcMode, ["", "private", "shareable", "host", "none"]);
        if (options.UtsMode is not ("" or "host"))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid UTS namespace mode \"{options.UtsMode}\": expected host");
        if (options.UsernsMode is not ("" or "host"))
            throw new EngineException(ErrorKind.InvalidArgument, $"user namespace mode \"{options.UsernsMode}\" is not supported: skiff does not remap users, so containers run in the host's user namespace (\"host\")");
        if (options.UtsMode == "host" && options.Hostname is not null)
            throw new EngineException(ErrorKind.InvalidArgument, "a container in the host's UTS namespace cannot have a host name of its own");
        if (options.UtsMode == "host" && !string.IsNullOrEmpty(options.Domainname))
            throw new EngineException(ErrorKind.InvalidArgument, "a container in the host's UTS namespace cannot have a domain name of its own");
        // The kernel's limit (__NEW_UTS_LEN): setdomainname would fail in the runtime with EINVAL.
        if (options.Domainname is { Length: > 64 } domain)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid domain name \"{domain}\": it must be at most 64 characters");
        if (options.CgroupnsMode is not ("" or "host" or "private"))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid cgroup namespace mode \"{options.CgroupnsMode}\": expected host or private");
    }

    private static void CheckMode(string kind, string mode, string[] modes)
    {
        if (!modes.Contains(mode) && ContainerOf(mode) is not { Length: > 0 })
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid {kind} namespace mode \"{mode}\": expected {string.Join(", ", modes.Skip(1))} or container:NAME");
    }

    /// <summary>Where the namespace of <paramref name="type"/> (pid, ipc, uts) of process <paramref name="pid"/> is.</summary>
    public static string NamespacePath(string type, int pid) => $"/proc/{pid}/ns/{(type == LinuxNamespaceType.Network ? "net" : type)}";

    /// <summary>The container named by a container:NAME mode, else null.</summary>
    public static string? ContainerOf(string mode) => mode.StartsWith("container:", StringComparison.Ordinal) ? mode["container:".Length..] : null;

    private static List<LinuxNamespace> Namespaces(RunOptions options, HostFacts host, IReadOnlyDictionary<string, int> joined, string? networkNamespace)
    {
        var namespaces = new List<LinuxNamespace>();
        foreach (var (type, mode) in new[] { (LinuxNamespaceType.Pid, options.PidMode), (LinuxNamespaceType.Ipc, options.IpcMode), (LinuxNamespaceType.Uts, options.UtsMode) })
        {
            if (mode == "host")
                continue;
            namespaces.Add(ContainerOf(mode) is null ? new LinuxNamespace { Type = type }
                : new LinuxNamespace { Type = type, Path = NamespacePath(type, joined[type]) });
        }
        namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.Mount });
        switch (options.Network)
        {
            case NetworkMode.None:
                namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.Network });
                break;
            case NetworkMode.Bridge:
                // Made and bound by the engine before the runtime runs (docker's and podman's way), so any runtime can join it.
                namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.Network, Path = networkNamespace });
                break;
            case NetworkMode.Container:
                namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.Network, Path = NamespacePath(LinuxNamespaceType.Network, joined[LinuxNamespaceType.Network]) });
                break;
        }
        // docker's default: private on a cgroup v2 host, the host's on v1.
        if (options.CgroupnsMode == "private" || (options.CgroupnsMode == "" && host.CgroupNamespace))
            namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.Cgroup });
        return namespaces;
    }

    private static LinuxResources Resources(RunOptions options, HostFacts host, string? cgroupsPath)
    {
        var resources = new LinuxResources
        {
            // Deny first; the runtime adds the standard devices (null, zero, tty, pts...) as runc does.
            Devices = [new LinuxDeviceCgroup { Allow = options.Privileged, Access = "rwm" }],
        };
        if (!options.Privileged)
        {
            foreach (var device in options.Devices)
            {
                var node = HostDevice(device, host);
                resources.Devices.Add(new LinuxDeviceCgroup { Allow = true, Type = node.Type, Major = node.Major, Minor = node.Minor, Access = device.Permissions });
            }
        }
        if (options.Memory is { } memory)
        {
            if (memory < MinimumMemory)
                throw new EngineException(ErrorKind.InvalidArgument, $"memory limit {memory}: the minimum is 6m");
            long swap = options.MemorySwap switch
            {
                null => memory * 2,
                -1 => -1,
                { } total when total < memory => throw new EngineException(ErrorKind.InvalidArgument, $"memory and swap limit {total} is below the memory limit {memory}: it is memory plus swap, so it must be at least as large"),
                { } total => total,
            };
            resources.Memory = new LinuxMemory { Limit = memory, Swap = swap };
        }
        else if (options.MemorySwap is { } onlySwap && onlySwap != -1)
        {
            throw new EngineException(ErrorKind.InvalidArgument, "a memory and swap limit needs a memory limit as well");
        }
        if (options.Cpus is { } cpus)
        {
            if (cpus < 0.01m || cpus > host.CpuCount)
                throw new EngineException(ErrorKind.InvalidArgument, $"CPU limit {cpus}: the range is 0.01 to {host.CpuCount}.00, as this host has {host.CpuCount} CPUs");
            const ulong period = 100_000;
            resources.CPU = new LinuxCPU { Period = period, Quota = (long)Math.Round(cpus * period) };
        }
        if ((options.CpuPeriod is not (null or 0) || options.CpuQuota is not (null or 0)) && options.Cpus is not null)
            throw new EngineException(ErrorKind.InvalidArgument, "a CPU limit and a CFS period or quota cannot both be set: the limit is a quota per period already");
        if (options.CpuPeriod is { } cpuPeriod and not 0)
        {
            if (cpuPeriod is < 1000 or > 1_000_000)
                throw new EngineException(ErrorKind.InvalidArgument, $"CPU CFS period {cpuPeriod}: the range is 1000 to 1000000 microseconds");
            (resources.CPU ??= new LinuxCPU()).Period = (ulong)cpuPeriod;
        }
        if (options.CpuQuota is { } cpuQuota and not 0)
        {
            if (cpuQuota is < 1000 and not -1)
                throw new EngineException(ErrorKind.InvalidArgument, $"CPU CFS quota {cpuQuota}: it is at least 1000 microseconds, or -1 for none");
            (resources.CPU ??= new LinuxCPU()).Quota = cpuQuota;
        }
        if (options.MemorySwappiness is { } swappiness and not -1)
        {
            if (swappiness is < 0 or > 100)
                throw new EngineException(ErrorKind.InvalidArgument, $"memory swappiness {swappiness}: the range is 0 to 100 (-1: the host's)");
            (resources.Memory ??= new LinuxMemory()).Swappiness = (ulong)swappiness;
        }
        if (options.PidsLimit is { } pids)
            resources.Pids = new LinuxPids { Limit = pids <= 0 ? -1 : pids };
        if (options.CpuShares is { } shares and not 0)
        {
            if (shares is < 2 or > 262144)
                throw new EngineException(ErrorKind.InvalidArgument, $"CPU shares {shares}: the range is 2 to 262144");
            (resources.CPU ??= new LinuxCPU()).Shares = (ulong)shares;
        }
        if (options.CpusetCpus is { } cpuList)
            (resources.CPU ??= new LinuxCPU()).Cpus = CpuList(cpuList, "CPUs", host.CpuCount);
        if (options.CpusetMems is { } mems)
            (resources.CPU ??= new LinuxCPU()).Mems = CpuList(mems, "memory nodes", host.MemoryNodeCount);
        if (options.MemoryReservation is { } reservation)
        {
            if (reservation < MinimumMemory)
                throw new EngineException(ErrorKind.InvalidArgument, $"memory reservation {reservation}: the minimum is 6m");
            if (options.Memory is { } limit && limit < reservation)
                throw new EngineException(ErrorKind.InvalidArgument, $"memory reservation {reservation} is above the memory limit {limit}: a reservation is a soft limit below it");
            (resources.Memory ??= new LinuxMemory()).Reservation = reservation;
        }
        if (options.OomKillDisable)
            (resources.Memory ??= new LinuxMemory()).DisableOOMKiller = true;
        if (options.BlkioWeight is { } weight and not 0)
        {
            if (weight is < 10 or > 1000)
                throw new EngineException(ErrorKind.InvalidArgument, $"block IO weight {weight}: the range is 10 to 1000");
            if (!host.BlockIOWeight)
                throw new EngineException(ErrorKind.FailedPrecondition, $"block IO weight {weight}: this host's blkio controller has no weight file (its disks' IO scheduler is neither CFQ nor BFQ), so the weight would have no effect");
            resources.BlockIO = new LinuxBlockIO { Weight = (ushort)weight };
        }
        foreach (var rule in options.DeviceCgroupRules)
            resources.Devices.Add(DeviceRule(rule));
        Realtime(options, host, cgroupsPath, resources);
        BlockDevices(options, host, resources);
        return resources;
    }

    /// <summary>
    /// Real-time CPU bandwidth: refused where the kernel has none (docker discards it with "Your kernel does not
    /// support cgroup cpu real-time runtime"; skiff refuses what it cannot honour). The container's runtime must fit
    /// in its cgroup parent's (the kernel refuses a child more than its parent has, and a new cgroup has none):
    /// docker's daemon gives its parent a budget from its own --cpu-rt-runtime; skiff, having no daemon, asks for
    /// one in the parent, checked here so the failure names the file rather than the runtime's EINVAL at start.
    /// </summary>
    private static void Realtime(RunOptions options, HostFacts host, string? cgroupsPath, LinuxResources resources)
    {
        long period = options.CpuRealtimePeriod ?? 0, runtime = options.CpuRealtimeRuntime ?? 0;
        if (period == 0 && runtime == 0)
            return;
        if (period < 0 || runtime < 0)
            throw new EngineException(ErrorKind.InvalidArgument, "a CPU real-time period or runtime cannot be negative");
        if (period != 0 && !host.CpuRealtime)
            throw new EngineException(ErrorKind.FailedPrecondition, "Your kernel does not support cgroup cpu real-time period: it was built without real-time group scheduling (CONFIG_RT_GROUP_SCHED), or this host uses cgroup v2");
        if (runtime != 0 && !host.CpuRealtime)
            throw new EngineException(ErrorKind.FailedPrecondition, "Your kernel does not support cgroup cpu real-time runtime: it was built without real-time group scheduling (CONFIG_RT_GROUP_SCHED), or this host uses cgroup v2");
        if (period != 0 && runtime > period)
            throw new EngineException(ErrorKind.InvalidArgument, $"cpu real-time runtime {runtime} cannot be higher than cpu real-time period {period}");
        var cpu = resources.CPU ??= new LinuxCPU();
        if (period != 0)
            cpu.RealtimePeriod = (ulong)period;
        if (runtime == 0)
            return;
        cpu.RealtimeRuntime = runtime;
        var parent = cgroupsPath is null ? "/" : CgroupParentOf(cgroupsPath);
        var (parentRuntime, parentPeriod) = host.RealtimeBudget(parent) ?? (0, 1_000_000);
        // The kernel compares bandwidths (runtime per period); the container's period is the kernel's default unless given.
        if (parentRuntime >= 0 && (decimal)runtime / (period != 0 ? period : 1_000_000) > (decimal)parentRuntime / parentPeriod)
            throw new EngineException(ErrorKind.FailedPrecondition,
                $"cpu real-time runtime {runtime} does not fit in the cgroup parent {parent}: it has a real-time runtime of {parentRuntime} per {parentPeriod} µs; raise its cpu.rt_runtime_us first, or create the container under a parent that has enough");
    }

    private static string CgroupParentOf(string cgroupsPath)
    {
        var slash = cgroupsPath.TrimEnd('/').LastIndexOf('/');
        return slash <= 0 ? "/" : cgroupsPath[..slash];
    }

    /// <summary>Per-device weights and throttles, by the devices' numbers; refused where the host's blkio controller would ignore them.</summary>
    private static void BlockDevices(RunOptions options, HostFacts host, LinuxResources resources)
    {
        if (options.BlkioWeightDevice.Count > 0)
        {
            if (!host.BlockIOWeight)
                throw new EngineException(ErrorKind.FailedPrecondition, "block IO weights per device: this host's blkio controller has no weight file (its disks' IO scheduler is neither CFQ nor BFQ), so the weights would have no effect");
            var blockIO = resources.BlockIO ??= new LinuxBlockIO();
            blockIO.WeightDevice = options.BlkioWeightDevice.Select(d =>
            {
                var node = BlockDevice(d.Path, host);
                return new LinuxWeightDevice { Major = node.Major, Minor = node.Minor, Weight = (ushort)d.Rate };
            }).ToList();
        }
        var throttles = new (IReadOnlyList<BlockDeviceRate> Rates, Action<LinuxBlockIO, List<LinuxThrottleDevice>> Set)[]
        {
            (options.DeviceReadBps, (b, l) => b.ThrottleReadBpsDevice = l),
            (options.DeviceWriteBps, (b, l) => b.ThrottleWriteBpsDevice = l),
            (options.DeviceReadIops, (b, l) => b.ThrottleReadIOPSDevice = l),
            (options.DeviceWriteIops, (b, l) => b.ThrottleWriteIOPSDevice = l),
        };
        foreach (var (rates, set) in throttles)
        {
            if (rates.Count == 0)
                continue;
            if (!host.BlockIOThrottle)
                throw new EngineException(ErrorKind.FailedPrecondition, "block IO throttles: this host's blkio controller has no throttle files (a kernel without CONFIG_BLK_DEV_THROTTLING), so the limits would have no effect");
            set(resources.BlockIO ??= new LinuxBlockIO(), rates.Select(r =>
            {
                var node = BlockDevice(r.Path, host);
                return new LinuxThrottleDevice { Major = node.Major, Minor = node.Minor, Rate = (ulong)r.Rate };
            }).ToList());
        }
    }

    /// <summary>The block device at a host path: the kernel's blkio files take only a block device's numbers.</summary>
    private static LinuxDevice BlockDevice(string path, HostFacts host)
    {
        var node = host.LookupDevice(path) ?? throw new EngineException(ErrorKind.InvalidArgument, $"device {path}: no such device on this host");
        return node.Type == "b" ? node : throw new EngineException(ErrorKind.InvalidArgument, $"device {path} is not a block device: block IO weights and limits apply to disks");
    }

    /// <summary>A cpuset list (0-3,5) whose every number is below <paramref name="count"/>.</summary>
    private static string CpuList(string list, string what, int count)
    {
        foreach (var range in list.Split(','))
        {
            var bounds = range.Split('-');
            if (bounds.Length > 2 || !bounds.All(b => b.Length > 0 && b.All(char.IsAsciiDigit)) || !int.TryParse(bounds[0], out var low)
                || !int.TryParse(bounds[^1], out var high) || low > high)
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid {what} list \"{list}\": expected numbers and ranges such as 0-2,4");
            if (high >= count)
                throw new EngineException(ErrorKind.InvalidArgument, $"{what} {list} are not available: this host has {what} 0-{count - 1}");
        }
        return list;
    }

    /// <summary>docker's device cgroup rule, "TYPE MAJOR:MINOR ACCESS" with a, b or c and * for any number.</summary>
    public static LinuxDeviceCgroup DeviceRule(string rule)
    {
        var fields = rule.Split(' ');
        var numbers = fields.Length == 3 ? fields[1].Split(':') : [];
        if (fields.Length != 3 || fields[0] is not ("a" or "b" or "c") || numbers.Length != 2
            || !numbers.All(n => n == "*" || (n.Length > 0 && n.All(char.IsAsciiDigit) && long.TryParse(n, out _)))
            || fields[2].Length is 0 or > 3 || !fields[2].All(c => c is 'r' or 'w' or 'm') || fields[2].Distinct().Count() != fields[2].Length)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid device cgroup rule \"{rule}\": expected TYPE MAJOR:MINOR ACCESS, such as \"c 1:3 rwm\" or \"b 8:* r\"");
        return new LinuxDeviceCgroup
        {
            Allow = true,
            Type = fields[0],
            Major = numbers[0] == "*" ? null : long.Parse(numbers[0]),
            Minor = numbers[1] == "*" ? null : long.Parse(numbers[1]),
            Access = fields[2],
        };
    }

    /// <summary>
    /// -1000 to 1000. Below this process's own score needs CAP_SYS_RESOURCE: without it in the host's bounding set
    /// the runtime's write would fail, so it is refused here with the reason.
    /// </summary>
    private static int? OomScoreAdj(RunOptions options, HostFacts host)
    {
        if (options.OomScoreAdj is not { } score)
            return null;
        if (score is < -1000 or > 1000)
            throw new EngineException(ErrorKind.InvalidArgument, $"OOM score adjustment {score}: the range is -1000 to 1000");
        if (score < host.OomScoreAdj && !host.BoundingSet.Contains("CAP_SYS_RESOURCE"))
            throw new EngineException(ErrorKind.FailedPrecondition, $"OOM score adjustment {score}: lowering it below skiff's own ({host.OomScoreAdj}) needs CAP_SYS_RESOURCE, which this host's bounding set lacks");
        return score;
    }

    private static List<LinuxDevice>? Devices(RunOptions options, HostFacts host)
    {
        if (options.Devices.Count == 0)
            return null;
        var devices = new List<LinuxDevice>();
        foreach (var request in options.Devices)
        {
            var node = HostDevice(request, host);
            devices.Add(new LinuxDevice
            {
                Path = request.ContainerPath,
                Type = node.Type,
                Major = node.Major,
                Minor = node.Minor,
                FileMode = node.FileMode,
                UID = node.UID,
                GID = node.GID,
            });
        }
        return devices;
    }

    private static LinuxDevice HostDevice(DeviceRequest request, HostFacts host)
        => host.LookupDevice(request.HostPath) ?? throw new EngineException(ErrorKind.InvalidArgument, $"device {request.HostPath}: no such device on this host");

    /// <summary>Only sysctls the container's own namespaces isolate (docker's list); net.* not with the host's network.</summary>
    private static Dictionary<string, string>? Sysctls(RunOptions options)
    {
        if (options.Sysctls.Count == 0)
            return null;
        foreach (var key in options.Sysctls.Keys)
        {
            bool isNet = key.StartsWith("net.", StringComparison.Ordinal);
            if (isNet && options.Network is NetworkMode.Host or NetworkMode.Container)
                throw new EngineException(ErrorKind.InvalidArgument, $"sysctl {key}: net.* sysctls cannot be set on a container that shares the host's or another container's network");
            if (!isNet && !NamespacedSysctls.Contains(key) && !key.StartsWith("fs.mqueue.", StringComparison.Ordinal))
                throw new EngineException(ErrorKind.InvalidArgument, $"sysctl {key}: not a namespaced sysctl, so it would change the host (allowed: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)");
            if (!isNet && (options.IpcMode == "host" || ContainerOf(options.IpcMode) is not null))
                throw new EngineException(ErrorKind.InvalidArgument, $"sysctl {key}: the container shares another IPC namespace ({options.IpcMode}), so it would change that one");
        }
        return new Dictionary<string, string>(options.Sysctls);
    }

    /// <summary>
    /// docker's default mounts, then the engine's /etc files, then -v/--mount/--tmpfs sorted so a parent is mounted
    /// before what is mounted inside it; a user mount replaces a default one at the same place (e.g. /dev/shm).
    /// </summary>
    private static List<Mount> Mounts(SpecInput input)
    {
        var options = input.Options;
        var sysOptions = options.Privileged ? new List<string> { "nosuid", "noexec", "nodev" } : ["nosuid", "noexec", "nodev", "ro"];
        var mounts = new List<Mount>
        {
            new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = sysOptions },
            new() { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = options.Privileged ? ["nosuid", "noexec", "nodev"] : ["nosuid", "noexec", "nodev", "ro"] },
            new() { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
        };
        // docker: no /dev/shm with IPC mode none, the host's with the host's namespace. Joining another container's
        // namespace shares its System V and POSIX message queue objects but not its /dev/shm: that is a mount of
        // the other container's mount namespace, which the kernel does not let a bind mount take (EINVAL).
        if (options.IpcMode == "host")
            mounts.Add(new Mount { Destination = "/dev/shm", Type = "bind", Source = "/dev/shm", Options = ["rbind", "rprivate"] });
        else if (options.IpcMode != "none")
            mounts.Add(new Mount { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", $"size={options.ShmSize ?? DefaultShmSize}"] });
        foreach (var mount in input.EngineMounts)
            AddReplacing(mounts, mount);
        if (options.Init)
        {
            var init = input.InitBinary ?? throw new EngineException(ErrorKind.FailedPrecondition, "an init process needs skiff-init, which was not found next to skiff; reinstall skiff or set SKIFF_INIT");
            AddReplacing(mounts, new Mount { Destination = InitPath, Type = "bind", Source = init, Options = ["bind", "ro", "nosuid", "nodev"] });
        }

        var own = options.Mounts.Select(m => m.Target.TrimEnd('/')).ToHashSet();
        var requested = options.Mounts.Concat(input.InheritedMounts.Where(m => !own.Contains(m.Target.TrimEnd('/'))))
            .Select(request => ToOciMount(request, input.VolumeSource)).ToList();
        var duplicate = requested.GroupBy(m => m.Destination).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new EngineException(ErrorKind.InvalidArgument, $"duplicate mount point {duplicate.Key}: each container path may be mounted once");
        foreach (var mount in requested.OrderBy(m => m.Destination.Count(c => c == '/')))
            AddReplacing(mounts, mount);

        // Image VOLUMEs not covered by a mount become anonymous volumes, as docker creates them.
        foreach (var path in input.Image?.Volumes?.Keys ?? Enumerable.Empty<string>())
        {
            var target = path.Length > 1 ? path.TrimEnd('/') : path;
            if (!mounts.Any(m => m.Destination == target))
                mounts.Add(ToOciMount(new MountRequest(MountKind.Volume, null, target, false, []), input.VolumeSource));
        }
        return mounts;
    }

    private static void AddReplacing(List<Mount> mounts, Mount mount)
    {
        mounts.RemoveAll(m => m.Destination == mount.Destination);
        mounts.Add(mount);
    }

    private static Mount ToOciMount(MountRequest request, Func<MountRequest, string> volumeSource)
    {
        var options = new List<string>();
        switch (request.Kind)
        {
            case MountKind.Tmpfs:
                options.AddRange(["nosuid", "nodev"]);
                options.AddRange(request.Options);
                if (!request.Options.Any(o => o.StartsWith("mode=", StringComparison.Ordinal)))
                    options.Add("mode=1777");
                if (request.ReadOnly)
                    options.Add("ro");
                return new Mount { Destination = request.Target, Type = "tmpfs", Source = "tmpfs", Options = options };
            case MountKind.Bind:
                if (!File.Exists(request.Source) && !Directory.Exists(request.Source))
                    throw new EngineException(ErrorKind.InvalidArgument, $"invalid mount {request.Source}:{request.Target}: the host path {request.Source} does not exist");
                break;
        }
        var source = request.Kind == MountKind.Bind ? request.Source! : volumeSource(request);
        options.Add("rbind");
        options.Add(request.ReadOnly ? "ro" : "rw");
        options.AddRange(request.Options.Count > 0 ? request.Options : ["rprivate"]);
        return new Mount { Destination = request.Target, Type = "bind", Source = source, Options = options };
    }
}
