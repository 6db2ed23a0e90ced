using System.Globalization;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;

namespace Skiff.Api;

/// <summary>
/// docker's create body as the engine's <see cref="CreateContainerRequest"/>: the same request `skiff run`'s flags
/// make, so the engine decides the rest as it does for the CLI. Zero values and nulls mean "not given", as docker's
/// clients send them. Values in docker's flag syntax (binds, port bindings, ulimits) go through the engine's parsers
/// of those flags.
/// </summary>
internal static class ContainerCreateMapping
{
    public static CreateContainerRequest Request(ContainerCreateBody body, string? name)
    {
        if (string.IsNullOrEmpty(body.Image))
            throw ApiErrors.BadRequest("the container's image is missing: give Image in the request's body");
        var host = body.HostConfig ?? new HostConfigBody();
        // docker's CLI sends a seccomp profile's JSON itself.
        var (seccomp, security) = SeccompChoice.Split(host.SecurityOpt ?? [],
            json => SeccompChoice.FromProfile(System.Text.Encoding.UTF8.GetBytes(json), "the request's seccomp profile"));
        var (command, entrypoint) = Command(body);
        return new CreateContainerRequest
        {
            Image = body.Image,
            // dockerd never pulls on create: a missing image is a 404, on which docker's clients pull and create again.
            Pull = PullPolicy.Never,
            Seccomp = seccomp,
            SecurityOptions = security,
            Name = string.IsNullOrEmpty(name) ? null : name,
            Interactive = body.OpenStdin,
            AutoRemove = host.AutoRemove,
            RestartPolicy = host.RestartPolicy is { Name: { Length: > 0 } policy } restart
                ? RestartPolicy.Parse(restart.MaximumRetryCount > 0 ? $"{policy}:{restart.MaximumRetryCount}" : policy)
                : RestartPolicy.No,
            Log = LogOptions.Parse(host.LogConfig?.Type is { Length: > 0 } driver ? driver : null,
                (host.LogConfig?.Config ?? []).Select(option => $"{option.Key}={option.Value}").ToList()),
            StopSignal = NonEmpty(body.StopSignal),
            StopTimeout = body.StopTimeout,
            Runtime = NonEmpty(host.Runtime) is { } runtime && runtime != "runc" ? runtime : null,
            Isolation = NonEmpty(host.Isolation),
            StorageOptions = host.StorageOpt ?? [],
            Links = host.Links ?? [],
            KernelMemory = Given(host.KernelMemory),
            Options = new RunOptions
            {
                Command = command,
                Entrypoint = entrypoint,
                Env = body.Env ?? [],
                WorkingDir = NonEmpty(body.WorkingDir),
                User = NonEmpty(body.User),
                Hostname = NonEmpty(body.Hostname),
                Domainname = NonEmpty(body.Domainname),
                Tty = body.Tty,
                ReadOnlyRootfs = host.ReadonlyRootfs,
                Init = host.Init ?? false,
                Privileged = host.Privileged,
                CapAdd = host.CapAdd ?? [],
                CapDrop = host.CapDrop ?? [],
                Sysctls = host.Sysctls ?? [],
                Devices = (host.Devices ?? []).Select(Device).ToList(),
                Mounts = [.. (host.Binds ?? []).Select(MountRequest.ParseVolume),
                          .. (body.Volumes ?? []).Keys.Select(MountRequest.ParseVolume),
                          .. (host.Mounts ?? []).Select(Mount),
                          .. (host.Tmpfs ?? []).Select(t => MountRequest.ParseTmpfs(t.Value.Length > 0 ? $"{t.Key}:{t.Value}" : t.Key))],
                Ulimits = (host.Ulimits ?? []).Select(u => UlimitRequest.Parse(string.Create(CultureInfo.InvariantCulture, $"{u.Name}={u.Soft}:{u.Hard}"))).ToList(),
                Memory = Given(host.Memory),
                MemorySwap = Given(host.MemorySwap),
                MemoryReservation = Given(host.MemoryReservation),
                MemorySwappiness = host.MemorySwappiness is >= 0 and var swappiness ? swappiness : null,
                Cpus = host.NanoCpus > 0 ? host.NanoCpus / 1_000_000_000m : null,
                CpuShares = Given(host.CpuShares),
                CpuPeriod = Given(host.CpuPeriod),
                CpuQuota = Given(host.CpuQuota),
                CpusetCpus = NonEmpty(host.CpusetCpus),
                CpusetMems = NonEmpty(host.CpusetMems),
                // docker's clients send 0 or -1 for "no limit" as well as null.
                PidsLimit = host.PidsLimit is > 0 and var pids ? pids : null,
                ShmSize = Given(host.ShmSize),
                BlkioWeight = host.BlkioWeight > 0 ? host.BlkioWeight : null,
                OomKillDisable = host.OomKillDisable ?? false,
                OomScoreAdj = host.OomScoreAdj != 0 ? host.OomScoreAdj : null,
                DeviceCgroupRules = host.DeviceCgroupRules ?? [],
                CgroupParent = NonEmpty(host.CgroupParent),
                CgroupnsMode = host.CgroupnsMode ?? "",
                Networks = Networks(host.NetworkMode),
                NetworkAliases = FirstEndpoint(body, host)?.Aliases ?? [],
                IPv4Address = NonEmpty(FirstEndpoint(body, host)?.IPAMConfig?.IPv4Address),
                IPv6Address = NonEmpty(FirstEndpoint(body, host)?.IPAMConfig?.IPv6Address),
                MacAddress = NonEmpty(FirstEndpoint(body, host)?.MacAddress) ?? NonEmpty(body.MacAddress),
                Publish = Publish(host.PortBindings),
                PublishAll = host.PublishAllPorts,
                Expose = (body.ExposedPorts ?? []).Keys.ToList(),
                Labels = body.Labels ?? [],
                Healthcheck = body.Healthcheck is { Test: ["NONE", ..] } ? null : body.Healthcheck,
                NoHealthcheck = body.Healthcheck is { Test: ["NONE", ..] },
                ExtraHosts = host.ExtraHosts ?? [],
                Dns = host.Dns ?? [],
                DnsSearch = host.DnsSearch ?? [],
                DnsOptions = host.DnsOptions ?? [],
                PidMode = host.PidMode ?? "",
                IpcMode = host.IpcMode ?? "",
                UtsMode = host.UTSMode ?? "",
                UsernsMode = host.UsernsMode ?? "",
                GroupAdd = host.GroupAdd ?? [],
                Annotations = host.Annotations ?? [],
                VolumesFrom = host.VolumesFrom ?? [],
                VolumeDriver = NonEmpty(host.VolumeDriver),
                Attach = (body.AttachStdin ? AttachStreams.Stdin : 0) | (body.AttachStdout ? AttachStreams.Stdout : 0) | (body.AttachStderr ? AttachStreams.Stderr : 0),
            },
        };
    }

    /// <summary>
    /// docker's Entrypoint is a list and the engine's a program: its first word is the program, its other words go
    /// before Cmd (the process's argv is the same). An empty list clears the image's entrypoint, as `--entrypoint ""`.
    /// </summary>
    private static (IReadOnlyList<string> Command, string? Entrypoint) Command(ContainerCreateBody body) => body.Entrypoint switch
    {
        null => (body.Cmd ?? [], null),
        [] => (body.Cmd ?? [], ""),
        [var program, .. var rest] => ([.. rest, .. body.Cmd ?? []], program),
    };

    /// <summary>docker's NetworkMode as the engine's --network: "default" (or none) is the default network.</summary>
    private static IReadOnlyList<string> Networks(string? mode) => mode is null or "" or "default" ? [] : [mode];

    /// <summary>The endpoint settings of the network NetworkMode names (docker's CLI sends the first network's there).</summary>
    private static EndpointSettingsBody? FirstEndpoint(ContainerCreateBody body, HostConfigBody host)
        => body.NetworkingConfig?.EndpointsConfig is { Count: > 0 } endpoints
            ? (host.NetworkMode is { } mode && endpoints.TryGetValue(mode, out var named) ? named : endpoints.Values.First())
            : null;

    /// <summary>PortBindings as docker's -p values ([IP:][HOSTPORT:]PORT/PROTO), which the engine parses at create.</summary>
    private static List<string> Publish(Dictionary<string, List<PortBindingBody>?>? bindings)
    {
        var values = new List<string>();
        foreach (var (port, hosts) in bindings ?? [])
        {
            foreach (var binding in hosts is { Count: > 0 } ? hosts : [new PortBindingBody(null, null)])
            {
                string ip = binding.HostIp is { Length: > 0 } address ? (address.Contains(':') ? $"[{address}]:" : $"{address}:") : "";
                values.Add(ip.Length > 0 || binding.HostPort is { Length: > 0 } ? $"{ip}{binding.HostPort}:{port}" : port);
            }
        }
        return values;
    }

    private static DeviceRequest Device(DeviceBody device)
        => DeviceRequest.Parse(string.Join(':', new[] { device.PathOnHost ?? "", device.PathInContainer ?? "", device.CgroupPermissions ?? "" }.Where(part => part.Length > 0)));

    /// <summary>docker's structured mount as the --mount value it stands for.</summary>
    private static MountRequest Mount(MountBody mount)
    {
        var fields = new List<string> { $"type={mount.Type}" };
        if (mount.Source is { Length: > 0 } source)
            fields.Add($"source={source}");
        fields.Add($"target={mount.Target}");
        if (mount.ReadOnly)
            fields.Add("readonly");
        if (mount.BindOptions?.Propagation is { Length: > 0 } propagation)
            fields.Add($"bind-propagation={propagation}");
        if (mount.TmpfsOptions is { SizeBytes: > 0 } sized)
            fields.Add(string.Create(CultureInfo.InvariantCulture, $"tmpfs-size={sized.SizeBytes}"));
        if (mount.TmpfsOptions is { Mode: > 0 } moded)
            fields.Add($"tmpfs-mode={Convert.ToString(moded.Mode, 8)}");
        return MountRequest.ParseMount(string.Join(',', fields));
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static long? Given(long value) => value != 0 ? value : null;
}
