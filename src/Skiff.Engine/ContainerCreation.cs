using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Skiff.Oci;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// Creates containers: records the container, prepares its rootfs, volumes and bundle. A creation that fails
/// leaves nothing behind. Safe for concurrent calls: each creation has a directory and an id of its own, and a name
/// is claimed by the store's insert.
/// </summary>
public sealed class ContainerCreation
{
    private readonly ContainerContext _context;

    internal ContainerCreation(ContainerContext context) => _context = context;

    /// <summary>Records the container, prepares its rootfs and bundle. On any failure nothing is left.</summary>
    /// <exception cref="EngineException">InvalidArgument for a request that is not valid; AlreadyExists when its name is taken.</exception>
    public ContainerRecord Create(CreateRequest request)
    {
        var (name, stopSignal) = Validate(request);
        var id = NameGenerator.NewId();
        var directory = _context.DirectoryOf(id);
        var created = new Rollback(_context, id);
        Directory.CreateDirectory(directory.Path);
        try
        {
            // Logs, the environment in config.json and the attach socket are the container owner's business only.
            Errno.Check(Libc.Chmod(directory.Path, 0x1c0 /* 0700 */), "chmod", directory.Path);
            var imageExposed = request.ImageInfo.Config?.ExposedPorts?.Keys.ToList() ?? [];
            var host = _context.Options.Host ?? HostFacts.Current();
            var options = WithCgroupns(WithHostname(ContainerNetworks.Resolve(request.Options, () => _context.Networks, imageExposed)), host);
            var rootfs = _context.Rootfs.Prepare(id, request.ImageInfo.Id);
            created.RootfsPrepared = true;
            var user = UserResolver.AddGroups(UserResolver.Resolve(rootfs, options.User ?? request.ImageInfo.Config?.User), rootfs, options.GroupAdd);
            var volumes = new VolumeMounts(_context.Volumes, rootfs, created);
            var inherited = InheritedMounts(_context, options);
            var spec = ContainerSpecBuilder.Build(new SpecInput
            {
                ContainerId = id,
                RootfsPath = rootfs,
                Image = request.ImageInfo.Config,
                Options = options,
                User = user,
                VolumeSource = volumes.Mount,
                EngineMounts = WriteEtcFiles(directory, options.Hostname ?? id[..12], options),
                NetworkNamespacePath = options.Network == NetworkMode.Bridge ? _context.Networks.NamespacePath(id) : null,
                InitBinary = _context.Options.InitBinary,
                Host = host,
                JoinedNamespaces = JoinedNamespaces(_context, options),
                InheritedMounts = inherited,
                CgroupsPath = _context.Options.CgroupsPathOf(id, options.CgroupParent),
            });
            var own = options.Mounts.Select(m => m.Target.TrimEnd('/')).ToHashSet();
            foreach (var bind in options.Mounts.Concat(inherited.Where(m => !own.Contains(m.Target.TrimEnd('/')))).Where(m => m.Kind == MountKind.Bind))
                volumes.MountPoints.Add(new MountPoint("bind", null, bind.Source!, bind.Target, !bind.ReadOnly));
            OciJson.WriteSpec(directory.Config, spec);
            return Insert(Record(request, id, name, stopSignal, options, spec, rootfs, volumes));
        }
        catch
        {
            created.Undo();
            throw;
        }
    }

    /// <summary>
    /// Starts a monitor before its container exists, so that its process start-up overlaps the container's creation;
    /// give it to <see cref="ContainerLifecycle.Start"/>. Disposed unused (the container could not be created), it exits.
    /// </summary>
    /// <exception cref="EngineException">Unavailable: the monitor's program cannot be started.</exception>
    public PendingMonitor SpawnMonitor()
    {
        var (socket, pid) = MonitorProcess.Spawn(_context.Options, null, output: null);
        return new PendingMonitor(socket, pid);
    }

    /// <summary>
    /// What can be checked of a container's settings before its image is even resolved (so a `run` with bad options
    /// pulls nothing, as docker's CLI): the name's form, a restart policy with auto-removal, the stop timeout, the
    /// health check, name resolution and namespace modes.
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for settings that are not valid.</exception>
    public static void ValidateSettings(ContainerSettings settings)
    {
        if (settings.AutoRemove && settings.RestartPolicy.Name != "no")
            throw new EngineException(ErrorKind.InvalidArgument, "a container that is removed when it exits cannot have a restart policy");
        if (settings.Name is not null)
            NameGenerator.Validate(settings.Name);
        if (settings.StopTimeout is < 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid stop timeout {settings.StopTimeout}: it must be 0 or more seconds");
        Healthchecks.Validate(settings.Options);
        NameResolution.Validate(settings.Options);
        ContainerSpecBuilder.ValidateNamespaceModes(settings.Options);
        ContainerNetworks.Validate(settings.Options);
        if (settings.Options.VolumeDriver is not (null or "" or "local"))
            throw new EngineException(ErrorKind.InvalidArgument,
                $"volume driver \"{settings.Options.VolumeDriver}\" is not available: skiff has only the local driver (it has no volume plugins)");
        foreach (var source in settings.Options.VolumesFrom)
            VolumesFromRequest.Parse(source);
        if (settings.Options.CgroupParent is { } parent)
            CgroupParents.Normalize(parent);
    }

    /// <summary>
    /// docker's --volumes-from: the volumes and bind mounts of each container named, at the same places, read-only
    /// or not as there unless ro or rw is given. The first container to mount a place wins it.
    /// </summary>
    /// <exception cref="EngineException">NotFound naming a container that does not exist.</exception>
    private static List<MountRequest> InheritedMounts(ContainerContext context, RunOptions options)
    {
        var mounts = new List<MountRequest>();
        foreach (var source in options.VolumesFrom.Select(VolumesFromRequest.Parse))
        {
            var donor = context.Require(source.Container);
            foreach (var point in donor.Config.Mounts)
            {
                if (mounts.Any(m => m.Target == point.Destination))
                    continue;
                var kind = point.Type == "volume" ? MountKind.Volume : MountKind.Bind;
                mounts.Add(new MountRequest(kind, kind == MountKind.Volume ? point.Name : point.Source, point.Destination, source.ReadOnly ?? !point.RW, []));
            }
        }
        return mounts;
    }

    /// <summary>What can be checked before anything is made: the settings, the name free, the stop signal with the image's.</summary>
    private (string? Name, string StopSignal) Validate(CreateRequest request)
    {
        ValidateSettings(request);
        var name = request.Name is null ? null : NameGenerator.Validate(request.Name);
        if (name is not null && _context.Store.GetByName(name) is { } holder)
            throw new EngineException(ErrorKind.AlreadyExists, $"the container name \"{name}\" is already in use by container {holder.ShortId}: remove or rename that container, or choose another name");
        var stopSignal = request.StopSignal ?? request.ImageInfo.Config?.StopSignal ?? "SIGTERM";
        if (LinuxNames.ParseSignal(stopSignal) is null)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid stop signal \"{stopSignal}\": give a name such as SIGTERM or a number");
        return (name, stopSignal);
    }

    /// <summary>
    /// The pid of each running container whose namespace this one joins (docker's container:NAME modes); docker's
    /// rules: it must be running, and its IPC namespace shareable.
    /// </summary>
    private static Dictionary<string, int> JoinedNamespaces(ContainerContext context, RunOptions options)
    {
        var joined = new Dictionary<string, int>();
        var networkMode = options.Network == NetworkMode.Container ? "container:" + options.NetworkContainer : "";
        foreach (var (type, kind, mode) in new[] { (LinuxNamespaceType.Pid, "PID", options.PidMode), (LinuxNamespaceType.Ipc, "IPC", options.IpcMode), (LinuxNamespaceType.Uts, "UTS", options.UtsMode), (LinuxNamespaceType.Network, "network", networkMode) })
        {
            if (ContainerSpecBuilder.ContainerOf(mode) is not { } target)
                continue;
            var container = context.Reconcile(context.Require(target));
            if (container.State.Status != ContainerStatus.Running)
                throw new EngineException(ErrorKind.FailedPrecondition, $"cannot join the {kind} namespace of container {container.Name}: it is not running");
            if (type == LinuxNamespaceType.Ipc && container.Config.Options.IpcMode is not ("shareable" or "host"))
                throw new EngineException(ErrorKind.FailedPrecondition, $"cannot join the IPC namespace of container {container.Name}: it is private; create it with the shareable IPC mode");
            joined[type] = container.State.Pid;
        }
        return joined;
    }

    /// <summary>
    /// Points the container's config.json at the current processes of the containers whose namespaces it joins:
    /// they may have been restarted since it was created (and their old pids reused by anything).
    /// </summary>
    /// <exception cref="EngineException">NotFound or FailedPrecondition when one of them is gone or not running.</exception>
    internal static void RejoinNamespaces(ContainerContext context, ContainerRecord container)
    {
        var joined = JoinedNamespaces(context, container.Config.Options);
        if (joined.Count == 0)
            return;
        var config = context.DirectoryOf(container.Id).Config;
        var spec = OciJson.ReadSpec(config);
        foreach (var ns in spec.Linux?.Namespaces ?? [])
            if (joined.TryGetValue(ns.Type, out var pid))
                ns.Path = ContainerSpecBuilder.NamespacePath(ns.Type, pid);
        OciJson.WriteSpec(config, spec);
    }

    /// <summary>docker: a container on the host's network or UTS namespace is named as the host is.</summary>
    private static RunOptions WithHostname(RunOptions options)
        => (options.Network == NetworkMode.Host || options.UtsMode == "host") && options.Hostname is null
            ? options with { Hostname = SmallFile.ReadAllText("/proc/sys/kernel/hostname").Trim() }
            : options;

    /// <summary>docker records its default cgroup namespace mode for the host (private on cgroup v2, host on v1), and inspect shows it.</summary>
    private static RunOptions WithCgroupns(RunOptions options, HostFacts host)
        => options.CgroupnsMode.Length > 0 ? options : options with { CgroupnsMode = host.CgroupNamespace ? "private" : "host" };

    /// <summary>
    /// /etc/hostname, /etc/hosts and /etc/resolv.conf of the container, bind-mounted over the image's; a container in
    /// another's network namespace gets that one's, as docker shares them. The hosts file of a container on networks
    /// of its own gets its addresses when it starts (<see cref="ContainerLifecycle"/>).
    /// </summary>
    private List<Mount> WriteEtcFiles(ContainerDirectory directory, string hostname, RunOptions options)
    {
        var sources = new[] { "hostname", "hosts", "resolv.conf" }.ToDictionary(file => file, directory.File);
        if (options.Network == NetworkMode.Container)
        {
            var donor = _context.DirectoryOf(_context.Require(options.NetworkContainer!).Id);
            sources["hosts"] = donor.File("hosts");
            sources["resolv.conf"] = donor.File("resolv.conf");
            File.WriteAllText(directory.File("hostname"), SmallFile.ReadAllText(donor.File("hostname")));
        }
        else
        {
            File.WriteAllText(directory.File("hostname"), hostname + "\n");
            var hostHosts = options.Network == NetworkMode.Host && File.Exists("/etc/hosts") ? File.ReadAllText("/etc/hosts") : null;
            File.WriteAllText(directory.File("hosts"), NameResolution.Hosts(hostname, hostHosts, options.ExtraHosts, []));
            var hostResolvConf = File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : "";
            File.WriteAllText(directory.File("resolv.conf"), NameResolution.ResolvConf(ContainerResolvConf(hostResolvConf, options), options.Dns, options.DnsSearch, options.DnsOptions));
        }
        return sources.Select(source => new Mount
        {
            Destination = "/etc/" + source.Key,
            Type = "bind",
            Source = source.Value,
            Options = ["rbind", "rprivate"],
        }).ToList();
    }

    /// <summary>
    /// docker's resolv.conf before --dns and the like: the host's on the host's network or none; on the default
    /// network the host's without its loopback nameservers, which the container cannot reach; on a user network
    /// the network's resolver at its gateway, which answers for its containers and forwards the rest.
    /// </summary>
    private string ContainerResolvConf(string hostFile, RunOptions options)
    {
        if (options.Network != NetworkMode.Bridge)
            return hostFile;
        var first = _context.Networks.Get(options.Attachments[0].NetworkId);
        if (first.Predefined || first.Ipam.Count == 0)
            return NameResolution.WithoutLoopbackServers(hostFile);
        return NameResolution.ResolvConf(hostFile, [first.Ipam[0].Gateway.ToString()], [], []);
    }

    private ContainerRecord Record(CreateRequest request, string id, string? name, string stopSignal, RunOptions options, Spec spec, string rootfs, VolumeMounts volumes)
    {
        var image = request.ImageInfo.Config;
        var labels = new Dictionary<string, string>(image?.Labels ?? []);
        foreach (var (key, value) in options.Labels)
            labels[key] = value;
        return new ContainerRecord
        {
            Id = id,
            Name = name ?? "",
            Image = request.Image,
            ImageId = request.ImageInfo.Id,
            Created = DateTimeOffset.UtcNow,
            Config = new ContainerConfig
            {
                Options = options,
                Entrypoint = options.Entrypoint is null ? image?.Entrypoint ?? [] : options.Entrypoint.Length == 0 ? [] : [options.Entrypoint],
                Cmd = options.Command.Count > 0 ? options.Command : options.Entrypoint is null ? image?.Cmd ?? [] : [],
                Env = ContainerSpecBuilder.ConfigEnvironment(image, options),
                WorkingDir = spec.Process!.Cwd,
                User = options.User ?? image?.User ?? "",
                Labels = labels,
                StopSignal = stopSignal,
                StopTimeout = request.StopTimeout ?? 10,
                OpenStdin = request.Interactive,
                AutoRemove = request.AutoRemove,
                RestartPolicy = request.RestartPolicy,
                Log = request.Log,
                Runtime = request.Runtime ?? _context.Options.Runtime,
                RootfsPath = rootfs,
                ExposedPorts = ContainerNetworks.ExposedPorts(options, image?.ExposedPorts?.Keys.ToList() ?? []),
                Mounts = volumes.MountPoints,
                AnonymousVolumes = volumes.Anonymous,
                Healthcheck = Healthchecks.Merge(options, image?.Healthcheck),
                Shell = image?.Shell ?? [],
            },
        };
    }

    /// <summary>Inserts the row; a generated name may clash with a container made meanwhile: drawn again, as docker does.</summary>
    private ContainerRecord Insert(ContainerRecord record)
    {
        for (int attempt = 0; ; attempt++)
        {
            var candidate = record.Name.Length > 0 ? record : record with { Name = NameGenerator.Random() };
            try
            {
                _context.Store.Insert(candidate);
                _context.RecordEvent(candidate, "create");
                return candidate;
            }
            catch (EngineException e) when (record.Name.Length == 0 && e.Kind == ErrorKind.AlreadyExists && attempt < 10)
            {
            }
        }
    }

    /// <summary>
    /// The volumes a container's spec names, made as it is built: a named volume is created if missing, an anonymous
    /// one always; a new volume gets the image's files at its mount point (docker's copy-up).
    /// </summary>
    private sealed class VolumeMounts(VolumeService volumes, string rootfs, Rollback created)
    {
        public List<MountPoint> MountPoints { get; } = [];
        public List<string> Anonymous { get; } = [];

        public string Mount(MountRequest mount)
        {
            var (volume, isNew) = mount.Source is null ? (volumes.CreateAnonymous(), true) : volumes.Ensure(mount.Source);
            if (isNew)
            {
                created.Volumes.Add(volume);
                CopyUp(rootfs, mount.Target, volumes.DataPath(volume));
            }
            if (mount.Source is null)
                Anonymous.Add(volume);
            MountPoints.Add(new MountPoint("volume", volume, volumes.DataPath(volume), mount.Target, !mount.ReadOnly));
            return volumes.DataPath(volume);
        }

        /// <summary>
        /// docker fills a new volume with what the image has at its mount point (files, owner and mode), so an image's
        /// VOLUME keeps its initial content. A path through a symlink is left alone: following it could read outside
        /// the rootfs.
        /// </summary>
        private static void CopyUp(string rootfs, string target, string volumeData)
        {
            var path = rootfs;
            foreach (var component in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (component == "..")
                    return; // an image's VOLUME is not checked like a mount the user asked for
                path = Path.Combine(path, component);
                var entry = new DirectoryInfo(path);
                if (!entry.Exists || entry.LinkTarget is not null)
                    return;
            }
            TreeCopy.Copy(path, volumeData);
        }
    }

    /// <summary>What a creation made so far, undone when it fails: the rootfs, the volumes it created, the directory.</summary>
    private sealed class Rollback(ContainerContext context, string id)
    {
        public bool RootfsPrepared { get; set; }
        public List<string> Volumes { get; } = [];

        public void Undo()
        {
            if (RootfsPrepared)
                context.Rootfs.Release(id);
            foreach (var volume in Volumes)
                context.Volumes.RemoveUnchecked(volume);
            Directory.Delete(context.Options.ContainerDirectory(id), recursive: true);
        }
    }
}
