using System.Globalization;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Images.Service;
using Skiff.Oci.Image;

namespace Skiff.Cli.Commands;

/// <summary>The flags `run` and `create` share (docker's names), and the engine <see cref="CreateContainerRequest"/> they make.</summary>
internal static class RunFlags
{
    public static readonly Flag[] Create =
    [
        new("interactive", 'i', Help: "keep standard input open"),
        new("tty", 't', Help: "allocate a pseudo-terminal"),
        new("rm", Help: "remove the container when it exits"),
        new("name", TakesValue: true, Help: "container name"),
        new("env", 'e', TakesValue: true, Repeatable: true, Help: "set an environment variable (KEY=VALUE, or KEY to copy it from here)"),
        new("env-file", TakesValue: true, Repeatable: true, Help: "read environment variables from a file"),
        new("workdir", 'w', TakesValue: true, Help: "working directory inside the container"),
        new("user", 'u', TakesValue: true, Help: "user[:group] (names or ids) to run as"),
        new("entrypoint", TakesValue: true, Help: "override the image's entrypoint (\"\" clears it)"),
        new("volume", 'v', TakesValue: true, Repeatable: true, Help: "bind mount or volume: [SOURCE:]TARGET[:ro]"),
        new("mount", TakesValue: true, Repeatable: true, Help: "type=bind|volume|tmpfs,source=...,target=...[,readonly]"),
        new("tmpfs", TakesValue: true, Repeatable: true, Help: "tmpfs mount: PATH[:OPTIONS]"),
        new("read-only", Help: "mount the root filesystem read-only"),
        new("hostname", 'h', TakesValue: true, Help: "container host name"),
        new("init", Help: "run a minimal init as pid 1 that reaps zombies and forwards signals"),
        new("restart", TakesValue: true, Help: "no, on-failure[:N], always or unless-stopped"),
        new("stop-signal", TakesValue: true, Help: "signal that stops the container"),
        new("stop-timeout", TakesValue: true, Help: "seconds to wait before killing on stop"),
        new("memory", 'm', TakesValue: true, Help: "memory limit (e.g. 64m)"),
        new("memory-swap", TakesValue: true, Help: "memory plus swap limit, -1 for unlimited swap"),
        new("cpus", TakesValue: true, Help: "number of CPUs (e.g. 0.5)"),
        new("pids-limit", TakesValue: true, Help: "maximum number of processes (-1: unlimited)"),
        new("shm-size", TakesValue: true, Help: "size of /dev/shm (default 64m)"),
        new("ulimit", TakesValue: true, Repeatable: true, Help: "NAME=SOFT[:HARD], e.g. nofile=1024:2048"),
        new("cap-add", TakesValue: true, Repeatable: true, Help: "add a capability (or ALL)"),
        new("cap-drop", TakesValue: true, Repeatable: true, Help: "drop a capability (or ALL)"),
        new("privileged", Help: "every capability and device, no seccomp, writable /sys"),
        new("security-opt", TakesValue: true, Repeatable: true, Help: "no-new-privileges, seccomp=FILE|unconfined, apparmor=PROFILE|unconfined, label=user:|role:|type:|level:|disable"),
        new("sysctl", TakesValue: true, Repeatable: true, Help: "namespaced kernel parameter KEY=VALUE"),
        new("device", TakesValue: true, Repeatable: true, Help: "host device: /dev/HOST[:/dev/CONTAINER[:rwm]]"),
        new("label", 'l', TakesValue: true, Repeatable: true, Help: "label KEY=VALUE"),
        new("pull", TakesValue: true, Help: "always, missing (default) or never"),
        new("network", TakesValue: true, Repeatable: true, Help: "network to connect to: bridge (default), a network's name, host, none or container:NAME; repeatable; long form name=NET,alias=A,ip=X,ip6=Y,mac-address=M"),
        new("net", TakesValue: true, Repeatable: true, Help: "same as --network"),
        new("network-alias", TakesValue: true, Repeatable: true, Help: "a name the container is found by on its first (user) network"),
        new("net-alias", TakesValue: true, Repeatable: true, Help: "same as --network-alias"),
        new("ip", TakesValue: true, Help: "IPv4 address on the first (user) network"),
        new("ip6", TakesValue: true, Help: "IPv6 address on the first (user) network"),
        new("mac-address", TakesValue: true, Help: "MAC address on the first network"),
        new("publish", 'p', TakesValue: true, Repeatable: true, Help: "publish a port: [ip:][hostPort:]containerPort[/tcp|udp|sctp], ranges too"),
        new("publish-all", 'P', Help: "publish every exposed port on a free host port"),
        new("expose", TakesValue: true, Repeatable: true, Help: "expose a port or a range: PORT[/PROTOCOL]"),
        new("link", TakesValue: true, Repeatable: true, Help: "legacy container link: refused (use a user network)"),
        new("link-local-ip", TakesValue: true, Repeatable: true, Help: "link-local address: refused"),
        new("log-opt", TakesValue: true, Repeatable: true, Help: "max-size=SIZE, max-file=N"),
        new("runtime", TakesValue: true, Help: "path of a runc-compatible runtime (default skiff-runtime)"),
        new("tls-verify", TakesValue: true, Help: "false: pull over plain HTTP"),
        new("health-cmd", TakesValue: true, Help: "command run in the container to check its health"),
        new("health-interval", TakesValue: true, Help: "time between health checks (ms|s|m|h; default 30s)"),
        new("health-timeout", TakesValue: true, Help: "longest a health check may run (default 30s)"),
        new("health-retries", TakesValue: true, Help: "failures in a row that make the container unhealthy (default 3)"),
        new("health-start-period", TakesValue: true, Help: "time after start when failed checks do not count (default 0s)"),
        new("health-start-interval", TakesValue: true, Help: "time between health checks during the start period (default 5s)"),
        new("no-healthcheck", Help: "disable the image's HEALTHCHECK"),
        new("add-host", TakesValue: true, Repeatable: true, Help: "HOST:IP line added to /etc/hosts"),
        new("dns", TakesValue: true, Repeatable: true, Help: "nameserver for /etc/resolv.conf"),
        new("dns-search", TakesValue: true, Repeatable: true, Help: "search domain for /etc/resolv.conf (\".\": none)"),
        new("dns-option", TakesValue: true, Repeatable: true, Help: "resolver option for /etc/resolv.conf"),
        new("cidfile", TakesValue: true, Help: "write the container ID to this file (which must not exist)"),
        new("pid", TakesValue: true, Help: "PID namespace: host or container:NAME"),
        new("ipc", TakesValue: true, Help: "IPC namespace: private, shareable, host, none or container:NAME"),
        new("uts", TakesValue: true, Help: "UTS namespace: host"),
        new("userns", TakesValue: true, Help: "user namespace: host (the only one)"),
        new("group-add", TakesValue: true, Repeatable: true, Help: "additional group (name or number)"),
        new("oom-kill-disable", Help: "disable the OOM killer"),
        new("oom-score-adj", TakesValue: true, Help: "OOM score adjustment (-1000 to 1000)"),
        new("cpu-shares", 'c', TakesValue: true, Help: "relative CPU weight"),
        new("cpuset-cpus", TakesValue: true, Help: "CPUs allowed (0-3, 0,1)"),
        new("cpuset-mems", TakesValue: true, Help: "memory nodes allowed (0-3, 0,1)"),
        new("memory-reservation", TakesValue: true, Help: "memory soft limit"),
        new("cpu-period", TakesValue: true, Help: "CFS period in microseconds"),
        new("cpu-quota", TakesValue: true, Help: "CFS quota in microseconds per period"),
        new("memory-swappiness", TakesValue: true, Help: "0 to 100 (-1: the host's)"),
        new("blkio-weight", TakesValue: true, Help: "relative block IO weight (10 to 1000)"),
        new("device-cgroup-rule", TakesValue: true, Repeatable: true, Help: "device cgroup rule, e.g. \"c 1:3 rwm\""),
        new("gpus", TakesValue: true, Help: "GPU devices (not supported: refused)"),
        new("platform", TakesValue: true, Help: "os/arch[/variant] of the image (this host's only)"),
        new("annotation", TakesValue: true, Repeatable: true, Help: "OCI annotation KEY=VALUE"),
        new("log-driver", TakesValue: true, Help: "json-file (default), local or none"),
        new("isolation", TakesValue: true, Help: "isolation technology: default only"),
        new("quiet", 'q', Help: "do not show the pull's progress"),
        new("label-file", TakesValue: true, Repeatable: true, Help: "read labels from a file of KEY=VALUE lines"),
        new("domainname", TakesValue: true, Help: "container NIS domain name"),
        new("volumes-from", TakesValue: true, Repeatable: true, Help: "mount the volumes and binds of a container: NAME[:ro|:rw]"),
        new("attach", 'a', TakesValue: true, Repeatable: true, Help: "attach to stdin, stdout or stderr (default: stdout and stderr)"),
        new("cgroup-parent", TakesValue: true, Help: "parent cgroup of the container's cgroup"),
        new("cgroupns", TakesValue: true, Help: "cgroup namespace: host or private"),
        new("cpu-rt-period", TakesValue: true, Help: "real-time CPU period in microseconds"),
        new("cpu-rt-runtime", TakesValue: true, Help: "real-time CPU runtime in microseconds"),
        new("blkio-weight-device", TakesValue: true, Repeatable: true, Help: "block IO weight of a device: /dev/sda:200"),
        new("device-read-bps", TakesValue: true, Repeatable: true, Help: "read rate limit of a device: /dev/sda:10mb"),
        new("device-write-bps", TakesValue: true, Repeatable: true, Help: "write rate limit of a device: /dev/sda:10mb"),
        new("device-read-iops", TakesValue: true, Repeatable: true, Help: "read operations per second of a device: /dev/sda:1000"),
        new("device-write-iops", TakesValue: true, Repeatable: true, Help: "write operations per second of a device: /dev/sda:1000"),
        new("storage-opt", TakesValue: true, Repeatable: true, Help: "storage driver option (not supported: refused)"),
        new("volume-driver", TakesValue: true, Help: "volume driver: local only"),
        new("kernel-memory", TakesValue: true, Help: "kernel memory limit (not supported: refused)"),
        new("disable-content-trust", Help: "skip image verification (default true: skiff verifies no signatures)"),
        CliCommand.LongHelp,
    ];

    /// <summary>
    /// Creates the container the flags describe. docker's --cidfile: a file that exists is refused before anything
    /// is pulled or made, and it is removed again if the creation fails.
    /// </summary>
    public static (CreateRequest Request, ContainerRecord Container) CreateContainer(CliContext context, ParsedArguments args, string command)
    {
        // Parsed before the file is made: a bad flag leaves no file behind.
        var request = Request(args, command);
        var cidfile = args.Value("cidfile");
        FileStream? file;
        try
        {
            file = cidfile is null ? null : new FileStream(cidfile, FileMode.CreateNew, FileAccess.Write);
        }
        catch (IOException) when (File.Exists(cidfile))
        {
            throw new EngineException(ErrorKind.AlreadyExists, $"container ID file found, make sure the other container isn't running or delete {cidfile}");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"cannot create the container ID file {cidfile}: {error.Message}", error);
        }
        using (file)
        {
            try
            {
                var resolved = Resolve(context, args, request);
                var container = context.Engine.ContainerCreation.Create(resolved);
                file?.Write(System.Text.Encoding.UTF8.GetBytes(container.Id));
                return (resolved, container);
            }
            catch
            {
                if (cidfile is not null)
                    File.Delete(cidfile);
                throw;
            }
        }
    }

    /// <summary>The flags as a neutral request, resolved by the engine (image pulled per --pull, seccomp and security options decided).</summary>
    private static CreateRequest Resolve(CliContext context, ParsedArguments args, CreateContainerRequest request)
    {
        PullProgressView? view = null;
        try
        {
            // docker run's pull shows on stderr: stdout belongs to the container (or its ID).
            var resolved = context.Engine.RunPolicy.ResolveAsync(request, image =>
            {
                // docker says so when the image is missing, not when --pull always pulls it anyway.
                if (request.Pull != PullPolicy.Always)
                    Console.Error.WriteLine($"Unable to find image '{image}' locally");
                return args.Bool("quiet") ? null : view = new PullProgressView(Console.Error, !Console.IsErrorRedirected);
            }).GetAwaiter().GetResult();
            view?.Finish();
            return resolved;
        }
        finally
        {
            view?.Dispose();
        }
    }

    private static CreateContainerRequest Request(ParsedArguments args, string command)
    {
        var (seccomp, security) = SeccompChoice.Split(args.Values("security-opt"), SeccompProfile);
        return new CreateContainerRequest
        {
            Image = args.Positionals[0],
            Pull = args.Value("pull") switch
            {
                null or "missing" => PullPolicy.Missing,
                "always" => PullPolicy.Always,
                "never" => PullPolicy.Never,
                var other => throw new EngineException(ErrorKind.InvalidArgument, $"--pull {other}: expected always, missing or never"),
            },
            PullOptions = new PullOptions { TlsVerify = CliCommand.TlsVerify(args, command), Platform = CliCommand.Platform(args, command) },
            Seccomp = seccomp,
            SecurityOptions = security,
            Options = new RunOptions
            {
                Command = args.Positionals.Skip(1).ToList(),
                Entrypoint = args.Has("entrypoint") ? args.Value("entrypoint") : null,
                Env = Environment(args),
                WorkingDir = args.Value("workdir"),
                User = args.Value("user"),
                Hostname = args.Value("hostname"),
                Tty = args.Bool("tty"),
                ReadOnlyRootfs = args.Bool("read-only"),
                Init = args.Bool("init"),
                Privileged = args.Bool("privileged"),
                CapAdd = args.Values("cap-add"),
                CapDrop = args.Values("cap-drop"),
                Sysctls = Pairs(args.Values("sysctl"), "--sysctl"),
                Devices = args.Values("device").Select(DeviceRequest.Parse).ToList(),
                Mounts = [.. args.Values("volume").Select(MountRequest.ParseVolume), .. args.Values("mount").Select(MountRequest.ParseMount), .. args.Values("tmpfs").Select(MountRequest.ParseTmpfs)],
                Ulimits = args.Values("ulimit").Select(UlimitRequest.Parse).ToList(),
                Memory = args.Value("memory") is { } memory ? ByteSize.Parse(memory, "--memory") : null,
                MemorySwap = args.Value("memory-swap") is { } swap ? (swap == "-1" ? -1 : ByteSize.Parse(swap, "--memory-swap")) : null,
                Cpus = args.Value("cpus") is { } cpus ? ParseDecimal(cpus, "--cpus") : null,
                PidsLimit = args.Value("pids-limit") is { } pids ? ParseLong(pids, "--pids-limit") : null,
                ShmSize = args.Value("shm-size") is { } shm ? ByteSize.Parse(shm, "--shm-size") : null,
                Networks = [.. args.Values("network"), .. args.Values("net")],
                NetworkAliases = [.. args.Values("network-alias"), .. args.Values("net-alias")],
                IPv4Address = args.Value("ip"),
                IPv6Address = args.Value("ip6"),
                MacAddress = args.Value("mac-address"),
                Publish = args.Values("publish"),
                PublishAll = args.Bool("publish-all"),
                Expose = args.Values("expose"),
                Labels = Labels(args),
                Healthcheck = Healthcheck(args),
                NoHealthcheck = args.Bool("no-healthcheck"),
                ExtraHosts = args.Values("add-host"),
                Dns = args.Values("dns"),
                DnsSearch = args.Values("dns-search"),
                DnsOptions = args.Values("dns-option"),
                PidMode = args.Value("pid") ?? "",
                IpcMode = args.Value("ipc") ?? "",
                UtsMode = args.Value("uts") ?? "",
                UsernsMode = args.Value("userns") ?? "",
                GroupAdd = args.Values("group-add"),
                OomKillDisable = args.Bool("oom-kill-disable"),
                OomScoreAdj = args.Value("oom-score-adj") is { } score ? (int)Math.Clamp(ParseLong(score, "--oom-score-adj"), int.MinValue, int.MaxValue) : null,
                CpuShares = args.Value("cpu-shares") is { } shares ? ParseLong(shares, "--cpu-shares") : null,
                CpusetCpus = args.Value("cpuset-cpus"),
                CpusetMems = args.Value("cpuset-mems"),
                MemoryReservation = args.Value("memory-reservation") is { } reservation ? ByteSize.Parse(reservation, "--memory-reservation") : null,
                CpuPeriod = args.Value("cpu-period") is { } cpuPeriod ? ParseLong(cpuPeriod, "--cpu-period") : null,
                CpuQuota = args.Value("cpu-quota") is { } cpuQuota ? ParseLong(cpuQuota, "--cpu-quota") : null,
                MemorySwappiness = args.Value("memory-swappiness") is { } swappiness ? ParseLong(swappiness, "--memory-swappiness") : null,
                BlkioWeight = args.Value("blkio-weight") is { } weight ? (int)Math.Clamp(ParseLong(weight, "--blkio-weight"), int.MinValue, int.MaxValue) : null,
                DeviceCgroupRules = args.Values("device-cgroup-rule"),
                Annotations = Pairs(args.Values("annotation"), "--annotation"),
                Domainname = args.Value("domainname"),
                VolumesFrom = args.Values("volumes-from"),
                CgroupParent = args.Value("cgroup-parent") is { Length: > 0 } parent ? parent : null,
                CgroupnsMode = args.Value("cgroupns") ?? "",
                CpuRealtimePeriod = args.Value("cpu-rt-period") is { } rtPeriod ? ParseLong(rtPeriod, "--cpu-rt-period") : null,
                CpuRealtimeRuntime = args.Value("cpu-rt-runtime") is { } rtRuntime ? ParseLong(rtRuntime, "--cpu-rt-runtime") : null,
                BlkioWeightDevice = args.Values("blkio-weight-device").Select(BlockDeviceRate.ParseWeight).ToList(),
                DeviceReadBps = args.Values("device-read-bps").Select(BlockDeviceRate.ParseBytesPerSecond).ToList(),
                DeviceWriteBps = args.Values("device-write-bps").Select(BlockDeviceRate.ParseBytesPerSecond).ToList(),
                DeviceReadIops = args.Values("device-read-iops").Select(BlockDeviceRate.ParseIops).ToList(),
                DeviceWriteIops = args.Values("device-write-iops").Select(BlockDeviceRate.ParseIops).ToList(),
                VolumeDriver = args.Value("volume-driver") is { Length: > 0 } driver ? driver : null,
                // docker's client attaches nothing with -d (run -d -a is refused before this).
                Attach = args.Bool("detach") ? AttachStreams.None : AttachStreamNames.Parse(args.Values("attach"), args.Bool("interactive")),
                ContainerIdFile = args.Value("cidfile") ?? "",
            },
            Name = args.Value("name"),
            Interactive = args.Bool("interactive"),
            AutoRemove = args.Bool("rm"),
            RestartPolicy = args.Value("restart") is { } restart ? RestartPolicy.Parse(restart) : RestartPolicy.No,
            Log = LogOptions.Parse(args.Value("log-driver"), args.Values("log-opt")),
            StopSignal = args.Value("stop-signal"),
            StopTimeout = args.Value("stop-timeout") is { } timeout ? ParseInt(timeout, "--stop-timeout") : null,
            Runtime = args.Value("runtime"),
            Gpus = args.Value("gpus"),
            Isolation = args.Value("isolation"),
            StorageOptions = Pairs(args.Values("storage-opt"), "--storage-opt"),
            Links = args.Values("link"),
            LinkLocalIps = args.Values("link-local-ip"),
            KernelMemory = args.Value("kernel-memory") is { } kernelMemory ? ByteSize.Parse(kernelMemory, "--kernel-memory") : null,
            ContentTrust = ContentTrust(args),
        };
    }

    /// <summary>The --health-* flags given (null when none is): --health-cmd runs through the shell, as docker's CLI sends it.</summary>
    private static HealthConfig? Healthcheck(ParsedArguments args)
    {
        if (!args.Has("health-cmd") && !args.Has("health-interval") && !args.Has("health-timeout") && !args.Has("health-retries")
            && !args.Has("health-start-period") && !args.Has("health-start-interval"))
            return null;
        return new HealthConfig
        {
            Test = args.Value("health-cmd") is { Length: > 0 } command ? ["CMD-SHELL", command] : null,
            Interval = Nanoseconds(args.Duration("health-interval")),
            Timeout = Nanoseconds(args.Duration("health-timeout")),
            StartPeriod = Nanoseconds(args.Duration("health-start-period")),
            StartInterval = Nanoseconds(args.Duration("health-start-interval")),
            Retries = args.Value("health-retries") is { } retries ? ParseInt(retries, "--health-retries") : 0,
        };

        static long Nanoseconds(TimeSpan? duration) => (duration?.Ticks ?? 0) * 100;
    }

    /// <summary>--security-opt seccomp=FILE: the file is read here, as docker's CLI sends the profile's content.</summary>
    private static SeccompChoice SeccompProfile(string file)
    {
        try
        {
            return SeccompChoice.FromProfile(File.ReadAllBytes(file), file);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"--security-opt seccomp={file}: {error.Message}", error);
        }
    }

    /// <summary>--env-file lines, then -e values; KEY alone copies the variable from skiff's environment (skipped if unset).</summary>
    private static List<string> Environment(ParsedArguments args)
    {
        var entries = new List<string>();
        foreach (var file in args.Values("env-file"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (IOException error)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"--env-file {file}: {error.Message}", error);
            }
            entries.AddRange(lines.Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')));
        }
        entries.AddRange(args.Values("env"));
        var result = new List<string>();
        foreach (var entry in entries)
        {
            if (entry.Contains('='))
                result.Add(entry);
            else if (System.Environment.GetEnvironmentVariable(entry) is { } value)
                result.Add($"{entry}={value}");
        }
        return result;
    }

    /// <summary>
    /// docker's client: --disable-content-trust defaults to true unless DOCKER_CONTENT_TRUST is true (Go's
    /// ParseBool), so the variable asks for content trust as the flag's false does.
    /// </summary>
    private static bool ContentTrust(ParsedArguments args)
        => args.Value("disable-content-trust") is { } disable
            ? disable == "false"
            : System.Environment.GetEnvironmentVariable("DOCKER_CONTENT_TRUST") is "1" or "t" or "T" or "true" or "TRUE" or "True";

    /// <summary>docker's order: the --label-file lines, then --label values, a later KEY winning; "KEY" alone is an empty label.</summary>
    private static Dictionary<string, string> Labels(ParsedArguments args)
    {
        var labels = new Dictionary<string, string>();
        foreach (var file in args.Values("label-file"))
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"--label-file {file}: {error.Message}", error);
            }
            foreach (var (key, value) in LabelFile.Parse(text, file))
                labels[key] = value;
        }
        foreach (var label in args.Values("label"))
        {
            var eq = label.IndexOf('=');
            if (eq == 0)
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid --label \"{label}\": expected KEY=VALUE");
            labels[eq < 0 ? label : label[..eq]] = eq < 0 ? "" : label[(eq + 1)..];
        }
        return labels;
    }

    private static Dictionary<string, string> Pairs(IReadOnlyList<string> values, string flag)
    {
        var pairs = new Dictionary<string, string>();
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0)
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid {flag} \"{value}\": expected KEY=VALUE");
            pairs[value[..eq]] = value[(eq + 1)..];
        }
        return pairs;
    }

    private static decimal ParseDecimal(string text, string flag)
        => decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid {flag} \"{text}\": expected a number such as 0.5");

    /// <summary>A flag docker declares as a Go int: a number outside 32 bits is a bad value, not a wrapped one.</summary>
    private static int ParseInt(string text, string flag)
        => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid {flag} \"{text}\": expected a whole number from {int.MinValue} to {int.MaxValue}");

    public static long ParseLong(string text, string flag)
        => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid {flag} \"{text}\": expected a whole number");
}
