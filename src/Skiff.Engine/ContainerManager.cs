using System.Text;
using Skiff.Engine.Containers;
using Skiff.Engine.Events;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime.Policy;
using Libc = Skiff.Interop.Interop.Libc;
using Pidfd = Skiff.Interop.Interop.Pidfd;
using Spawn = Skiff.Interop.Interop.Spawn;
using UnixSocket = Skiff.Interop.Interop.Socket;

namespace Skiff.Engine;

/// <summary>
/// The container lifecycle behind `skiff create/start/stop/kill/restart/rm/ps/logs/wait/exec/inspect/rename/
/// pause/unpause/top`. Daemonless: every call works from the store, the container's directory and its monitor.
/// Commands on one container serialize on a flock of its lock file; the monitor does not take it (see
/// <see cref="ContainerMonitor"/>). One manager per command: it holds one database connection and is not
/// thread-safe; concurrent commands are separate processes with managers of their own.
/// </summary>
public sealed partial class ContainerManager : IDisposable
{
    public const string LogFileName = "container.log";
    public const string AttachSocketName = "attach.sock";
    public const string ConsoleSocketName = "console.sock";
    private const string LockFileName = "lock";
    private const string MonitorLogName = "monitor.log";
    /// <summary>How long to wait for a monitor to record an exit it has seen.</summary>
    private static readonly TimeSpan MonitorGrace = TimeSpan.FromSeconds(10);

    private readonly EngineOptions _options;
    private readonly IRootfsProvider _rootfs;
    private readonly ContainerStore _store;
    private readonly bool _ownsStore;

    public ContainerManager(EngineOptions options, IRootfsProvider rootfs, EventJournal? events = null)
        : this(options, rootfs, OpenStore(options), ownsStore: true, events)
    {
    }

    /// <summary>A manager on a store its caller keeps open (the monitor's, for its --rm removal).</summary>
    internal ContainerManager(EngineOptions options, IRootfsProvider rootfs, ContainerStore store, bool ownsStore = false, EventJournal? events = null)
    {
        _options = options;
        _rootfs = rootfs;
        _store = store;
        _ownsStore = ownsStore;
        Events = events ?? new EventJournal(options.EventsDirectory);
        Volumes = new VolumeService(options, _store, Events);
    }

    private static ContainerStore OpenStore(EngineOptions options)
    {
        // Also tightens a store an older skiff made by the umask (0755): containers' files, volumes and events.
        PrivateStore.EnsureDirectory(options.ContainersDirectory);
        PrivateStore.EnsureDirectory(options.VolumesDirectory);
        PrivateStore.EnsureDirectory(options.EventsDirectory);
        return ContainerStore.Open(options.DatabasePath);
    }

    public VolumeService Volumes { get; }

    /// <summary>Where this manager records what it does (`skiff events` reads it).</summary>
    public EventJournal Events { get; }

    /// <summary>Records a container event with docker's attributes: the container's labels, its image and name, then <paramref name="extra"/>.</summary>
    internal static void RecordEvent(EventJournal journal, ContainerRecord container, string action, params (string Key, string Value)[] extra)
    {
        var attributes = new Dictionary<string, string>(container.Config.Labels) { ["image"] = container.Image, ["name"] = container.Name };
        foreach (var (key, value) in extra)
            attributes[key] = value;
        journal.TryRecord(EngineEvent.Now(EngineEvent.Container, action, container.Id, attributes));
    }

    private void RecordEvent(ContainerRecord container, string action, params (string Key, string Value)[] extra)
        => RecordEvent(Events, container, action, extra);

    public void Dispose()
    {
        if (_ownsStore)
            _store.Dispose();
    }

    /// <summary>`skiff create`: records the container, prepares its rootfs and bundle. On any failure nothing is left.</summary>
    public ContainerRecord Create(CreateRequest request)
    {
        if (request.AutoRemove && request.RestartPolicy.Name != "no")
            throw new EngineException("--rm and --restart cannot be combined: a container removed when it exits cannot be restarted");
        var name = request.Name is null ? null : NameGenerator.Validate(request.Name);
        if (name is not null && _store.GetByName(name) is { } holder)
            throw new EngineException($"the container name \"{name}\" is already in use by container {holder.ShortId}: remove that container or choose another --name");
        var stopSignal = request.StopSignal ?? request.ImageInfo.Config?.StopSignal ?? "SIGTERM";
        if (LinuxNames.ParseSignal(stopSignal) is null)
            throw new EngineException($"invalid stop signal \"{stopSignal}\": give a name such as SIGTERM or a number");
        if (request.StopTimeout is < 0)
            throw new EngineException($"invalid --stop-timeout {request.StopTimeout}: it must be 0 or more seconds");

        var id = NameGenerator.NewId();
        var directory = _options.ContainerDirectory(id);
        var createdVolumes = new List<string>();
        bool rootfsPrepared = false;
        Directory.CreateDirectory(directory);
        try
        {
            // Logs, the environment in config.json and the attach socket are the container owner's business only.
            Errno.Check(Libc.Chmod(directory, 0x1c0 /* 0700 */), "chmod", directory);
            var image = request.ImageInfo.Config;
            var options = request.Options;
            // docker: a container on the host's network is named as the host is (in its own UTS namespace still).
            if (options.Network == NetworkMode.Host && options.Hostname is null)
                options = options with { Hostname = SmallFile.ReadAllText("/proc/sys/kernel/hostname").Trim() };
            var rootfs = _rootfs.Prepare(id, request.ImageInfo.Id);
            rootfsPrepared = true;
            var user = UserResolver.Resolve(rootfs, options.User ?? image?.User);
            var hostname = options.Hostname ?? id[..12];
            var mountPoints = new List<MountPoint>();
            var anonymous = new List<string>();
            var spec = ContainerSpecBuilder.Build(new SpecInput
            {
                ContainerId = id,
                RootfsPath = rootfs,
                Image = image,
                Options = options,
                User = user,
                VolumeSource = mount =>
                {
                    var (volume, created) = mount.Source is null ? (Volumes.CreateAnonymous(), true) : Volumes.Ensure(mount.Source);
                    if (created)
                    {
                        createdVolumes.Add(volume);
                        CopyUp(rootfs, mount.Target, Volumes.DataPath(volume));
                    }
                    if (mount.Source is null)
                        anonymous.Add(volume);
                    mountPoints.Add(new MountPoint("volume", volume, Volumes.DataPath(volume), mount.Target, !mount.ReadOnly));
                    return Volumes.DataPath(volume);
                },
                EngineMounts = WriteEtcFiles(directory, hostname, options.Network),
                InitBinary = _options.InitBinary,
                Host = _options.Host ?? HostFacts.Current(),
            });
            spec.Linux!.CgroupsPath = _options.CgroupsPathOf(id);
            foreach (var bind in options.Mounts.Where(m => m.Kind == MountKind.Bind))
                mountPoints.Add(new MountPoint("bind", null, bind.Source!, bind.Target, !bind.ReadOnly));
            OciJson.WriteSpec(Path.Combine(directory, "config.json"), spec);

            var labels = new Dictionary<string, string>(image?.Labels ?? []);
            foreach (var (key, value) in options.Labels)
                labels[key] = value;
            var record = new ContainerRecord
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
                    Runtime = request.Runtime ?? _options.Runtime,
                    RootfsPath = rootfs,
                    ExposedPorts = image?.ExposedPorts?.Keys.ToList() ?? [],
                    Mounts = mountPoints,
                    AnonymousVolumes = anonymous,
                },
            };
            if (name is not null)
            {
                _store.Insert(record);
                RecordEvent(record, "create");
                return record;
            }
            // A generated name may clash with a container made meanwhile: draw again, as docker does.
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    record = record with { Name = NameGenerator.Random() };
                    _store.Insert(record);
                    RecordEvent(record, "create");
                    return record;
                }
                catch (EngineException) when (attempt < 10)
                {
                }
            }
        }
        catch
        {
            if (rootfsPrepared)
                _rootfs.Release(id);
            foreach (var volume in createdVolumes)
                Volumes.RemoveUnchecked(volume);
            Directory.Delete(directory, recursive: true);
            throw;
        }
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
                return; // an image's VOLUME is not checked like a -v target
            path = Path.Combine(path, component);
            var entry = new DirectoryInfo(path);
            if (!entry.Exists || entry.LinkTarget is not null)
                return;
        }
        TreeCopy.Copy(path, volumeData);
    }

    /// <summary>/etc/hostname, /etc/hosts and /etc/resolv.conf of the container, bind-mounted over the image's.</summary>
    private static List<Mount> WriteEtcFiles(string directory, string hostname, NetworkMode network)
    {
        File.WriteAllText(Path.Combine(directory, "hostname"), hostname + "\n");
        var hosts = network == NetworkMode.Host && File.Exists("/etc/hosts")
            ? File.ReadAllText("/etc/hosts")
            : $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t{hostname}\n";
        File.WriteAllText(Path.Combine(directory, "hosts"), hosts);
        File.WriteAllText(Path.Combine(directory, "resolv.conf"), File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : "");
        return new[] { "hostname", "hosts", "resolv.conf" }.Select(file => new Mount
        {
            Destination = "/etc/" + file,
            Type = "bind",
            Source = Path.Combine(directory, file),
            Options = ["rbind", "rprivate"],
        }).ToList();
    }

    /// <summary>
    /// `skiff start`: starts the container under a new monitor. With <paramref name="attach"/>, returns a session
    /// connected before the program runs (so no output is missed), for `run` without -d and `start -a`.
    /// Starting a running container does nothing, as in docker. <paramref name="terminalSize"/> (rows, columns)
    /// sizes a -t container's terminal before its program runs. <paramref name="monitor"/>: one started ahead
    /// with <see cref="SpawnMonitor"/>, else a new one is started here.
    /// </summary>
    public AttachSession? Start(string idOrName, bool attach = false, (ushort Rows, ushort Columns)? terminalSize = null, PendingMonitor? monitor = null)
    {
        var container = Require(idOrName);
        using (LockContainer(container.Id))
        {
            container = Reconcile(Require(container.Id));
            if (IsActive(container.State.Status))
            {
                if (container.State.Status == ContainerStatus.Paused)
                    throw new EngineException($"container {container.Name} is paused: unpause it instead of starting it");
                return null;
            }
            _store.ChangeState(container.Id, s => s with { StoppedByUser = false, Error = "" });
            return StartMonitor(container, attach, terminalSize, monitor);
        }
    }

    /// <summary>
    /// Starts a monitor before its container exists (`run`), so that its process start-up overlaps the container's
    /// creation; give it to <see cref="Start"/>. Disposed unused (the container could not be created), it exits.
    /// </summary>
    public PendingMonitor SpawnMonitor()
    {
        var (socket, pid) = SpawnMonitorProcess(null, output: null);
        return new PendingMonitor(socket, pid);
    }

    /// <summary>
    /// The monitor's end of the sync socket goes to its fd 3; returns ours. Its output goes to /dev/null unless given.
    /// It outlives us in a session of its own and with no other descriptor: a pipe our caller left open in us must
    /// not stay open (and a reader of it waiting) for as long as the container runs.
    /// </summary>
    private (FileDescriptor Socket, int Pid) SpawnMonitorProcess(string? id, FileDescriptor? output)
    {
        var (ours, theirs) = UnixSocket.SeqPacketPair();
        using (theirs)
        using (var devNull = RuntimeClient.OpenDevNull())
        {
            var argv = new List<string>(_options.MonitorCommand) { "--root", _options.Root, "--runtime-root", _options.RuntimeRoot };
            if (id is not null)
                argv.Add(id);
            output ??= devNull;
            try
            {
                return (ours, Spawn.Start(argv[0], argv, null, [(devNull.Fd, 0), (output.Fd, 1), (output.Fd, 2), (theirs.Fd, ContainerMonitor.SyncFd)], newSession: true, onlyGivenFds: true));
            }
            catch (SyscallException e)
            {
                ours.Dispose();
                throw new EngineException($"cannot start the monitor {argv[0]}: {SyscallException.Describe(e.Errno)}");
            }
        }
    }

    internal static FileDescriptor OpenMonitorLog(string directory)
        => FileDescriptor.Wrap(Libc.Open(Path.Combine(directory, MonitorLogName), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, (int)PrivateStore.FileMode), "open", MonitorLogName);

    private AttachSession? StartMonitor(ContainerRecord container, bool attach, (ushort Rows, ushort Columns)? terminalSize, PendingMonitor? pending)
    {
        var directory = _options.ContainerDirectory(container.Id);
        FileDescriptor ours;
        if (pending?.TakeSocket() is { } spawned)
        {
            ours = spawned;
            SyncSocket.Send(ours, container.Id);
        }
        else
        {
            using var log = OpenMonitorLog(directory);
            ours = SpawnMonitorProcess(container.Id, log).Socket;
        }
        using (ours)
        {
            AttachSession? session = null;
            try
            {
                var message = SyncSocket.Receive(ours);
                if (message == "ready")
                {
                    if (attach)
                    {
                        session = AttachSession.Connect(directory);
                        RecordEvent(container, "attach");
                    }
                    // "attached": our connection may still wait in the listen backlog; the monitor must have
                    // accepted it before the program runs, or the first output goes to nobody.
                    var go = attach ? "go attached" : "go";
                    SyncSocket.Send(ours, terminalSize is { } size ? $"{go} {size.Rows} {size.Columns}" : go);
                    message = SyncSocket.Receive(ours);
                }
                if (message == "started")
                    return session;
                if (message.StartsWith("error ", StringComparison.Ordinal))
                {
                    var parts = message.Split(' ', 3);
                    throw new EngineException($"cannot start container {container.Name}: {parts[2]}", int.Parse(parts[1]));
                }
                throw new EngineException($"the monitor of container {container.Name} exited before starting it: see {Path.Combine(directory, MonitorLogName)}");
            }
            catch
            {
                session?.Dispose();
                throw;
            }
        }
    }

    /// <summary>`skiff attach`: a live session on a running container's stdio.</summary>
    public AttachSession Attach(string idOrName)
    {
        var container = Reconcile(Require(idOrName));
        if (container.State.Status != ContainerStatus.Running || !MonitorAlive(container))
            throw new EngineException($"cannot attach to container {container.Name}: it is not running (or its monitor is gone)");
        var session = AttachSession.Connect(_options.ContainerDirectory(container.Id));
        RecordEvent(container, "attach");
        return session;
    }

    /// <summary>`skiff stop [-t N]`: StopSignal, then SIGKILL after the timeout (the container's --stop-timeout, else 10 s).</summary>
    public void Stop(string idOrName, int? timeoutSeconds = null)
    {
        var container = Require(idOrName);
        using (LockContainer(container.Id))
        {
            container = Reconcile(Require(container.Id));
            if (!IsActive(container.State.Status))
                return;
            _store.ChangeState(container.Id, s => s with { StoppedByUser = true });
            if (container.State.Status != ContainerStatus.Restarting)
            {
                var runtime = RuntimeOf(container);
                // Recorded before the signal is sent: the monitor records the die it causes.
                RecordEvent(container, "kill", ("signal", SignalNumber(container.Config.StopSignal)));
                runtime.Run("kill", container.Id, container.Config.StopSignal);
                if (container.State.Status == ContainerStatus.Paused)
                    runtime.Run("resume", container.Id);
                if (!WaitProcessExit(container, TimeSpan.FromSeconds(timeoutSeconds ?? container.Config.StopTimeout)))
                {
                    RecordEvent(container, "kill", ("signal", SignalNumber("KILL")));
                    runtime.Run("kill", container.Id, "KILL");
                    WaitProcessExit(container, MonitorGrace);
                }
            }
            AwaitExitRecorded(container, LinuxNames.ParseSignal(container.Config.StopSignal) ?? 15);
            RecordEvent(container, "stop");
        }
    }

    /// <summary>`skiff kill [-s SIGNAL]`: a signal to the container's process (the restart policy then counts it as stopped by the user, as docker does).</summary>
    public void Kill(string idOrName, string signal = "KILL")
    {
        if (LinuxNames.ParseSignal(signal) is null)
            throw new EngineException($"invalid signal \"{signal}\": give a name such as KILL or TERM, or a number");
        var container = Require(idOrName);
        using (LockContainer(container.Id))
        {
            container = Reconcile(Require(container.Id));
            if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused))
                throw new EngineException($"cannot kill container {container.Name}: it is not running");
            _store.ChangeState(container.Id, s => s with { StoppedByUser = true });
            // Recorded before the signal is sent: the monitor records the die it causes.
            RecordEvent(container, "kill", ("signal", SignalNumber(signal)));
            var result = RuntimeOf(container).Run("kill", container.Id, signal);
            if (result.ExitCode != 0)
                throw new EngineException($"cannot kill container {container.Name}: {result.Error}");
        }
    }

    /// <summary>`skiff restart [-t N]`.</summary>
    public void Restart(string idOrName, int? timeoutSeconds = null)
    {
        Stop(idOrName, timeoutSeconds);
        Start(idOrName);
        RecordEvent(Get(idOrName), "restart");
    }

    /// <summary>docker's signal attribute of kill events: the number ("15"), whatever name it was given by.</summary>
    private static string SignalNumber(string signal) => (LinuxNames.ParseSignal(signal) ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// `skiff container prune [--filter until=T]`: removes every stopped container (created before
    /// <paramref name="until"/>); returns their ids and the bytes their writable layers held.
    /// </summary>
    public PruneReport Prune(DateTimeOffset? until = null)
    {
        var removed = new List<string>();
        long reclaimed = 0;
        // A created container with a live monitor is being started.
        foreach (var container in List(all: true).Where(c => c.State.Status == ContainerStatus.Exited || (c.State.Status == ContainerStatus.Created && !MonitorAlive(c))))
        {
            if (until is { } limit && container.Created >= limit)
                continue;
            try
            {
                long size = _rootfs.WritableSize(container.Id);
                Remove(container.Id);
                removed.Add(container.Id);
                reclaimed += size;
            }
            catch (EngineException)
            {
                // started or removed by another command meanwhile
            }
        }
        return new PruneReport(removed, reclaimed);
    }

    /// <summary>`skiff rm [-f] [-v]`: a running container only with force (killed first); -v removes its anonymous volumes.</summary>
    public void Remove(string idOrName, bool force = false, bool volumes = false)
    {
        var container = Require(idOrName);
        if (!Directory.Exists(_options.ContainerDirectory(container.Id)))
        {
            // A row without its directory: a removal cut short by a power loss (see ContainerStore.Open) or one running now.
            _rootfs.Release(container.Id);
            _store.Delete(container.Id);
            return;
        }
        using (LockContainer(container.Id))
        {
            if (_store.Get(container.Id) is not { } current)
                return; // removed meanwhile (its --rm monitor)
            container = Reconcile(current);
            if (IsActive(container.State.Status))
            {
                if (!force)
                    throw new EngineException($"cannot remove container {container.Name}: it is {Describe(container.State.Status)}; stop it first or use rm -f");
                _store.ChangeState(container.Id, s => s with { StoppedByUser = true });
                var runtime = RuntimeOf(container);
                RecordEvent(container, "kill", ("signal", SignalNumber("KILL")));
                runtime.Run("kill", container.Id, "KILL");
                if (container.State.Status == ContainerStatus.Paused)
                    runtime.Run("resume", container.Id);
                WaitProcessExit(container, MonitorGrace);
                AwaitExitRecorded(container, 9);
            }
            // A monitor that recorded the exit is finishing on its own; one still there after that is blocked on our
            // lock to auto-remove (--rm): we remove instead.
            WaitMonitorExit(container, TimeSpan.FromSeconds(2));
            KillMonitor(container);
            RemoveFiles(container, volumes);
        }
    }

    /// <summary>
    /// What a --rm monitor calls once its container exited for good. <paramref name="beforeWaiting"/> runs when
    /// another command holds the container's lock (an `rm -f` that may end the monitor before it gets the lock).
    /// </summary>
    internal void RemoveExited(string id, Action beforeWaiting)
    {
        using (LockContainer(id, beforeWaiting))
        {
            if (_store.Get(id) is { } container)
                RemoveFiles(container, volumes: true);
        }
    }

    /// <summary>
    /// What a --rm monitor does as soon as its container's process is reaped, while the runtime deletes its state:
    /// unmounting (the kernel waits for an RCU grace period) and deleting the rootfs then overlap that delete instead
    /// of following it. Skipped when another command holds the container: an `rm -f`, which releases it itself.
    /// Failures are left to <see cref="RemoveExited"/>, which releases the rootfs again and reports them.
    /// </summary>
    internal static void ReleaseRootfsEarly(EngineOptions options, IRootfsProvider rootfs, string id)
    {
        try
        {
            using var held = Libc.TryLockFile(Path.Combine(options.ContainerDirectory(id), LockFileName));
            if (held is not null)
                rootfs.Release(id);
        }
        catch (Exception)
        {
            // See above: RemoveExited tries again and reports.
        }
    }

    /// <summary>
    /// `run --rm` once its session ended: returns when the container is gone, as docker's does, so a script's next
    /// command (or the same --name) does not find it. Its monitor removes it before it reports the exit, so this is
    /// usually immediate; else (another command held the container) until that monitor exits. A container that
    /// runs on (the session was detached) is left alone.
    /// </summary>
    public void AwaitAutoRemoval(string id)
    {
        if (_store.Get(id) is { } container && !IsActive(container.State.Status))
            WaitMonitorExit(container, TimeSpan.FromSeconds(30));
    }

    private void RemoveFiles(ContainerRecord container, bool volumes)
    {
        var runtime = RuntimeOf(container);
        if (Directory.Exists(Path.Combine(_options.RuntimeRoot, container.Id)))
        {
            var delete = runtime.Run("delete", "--force", container.Id);
            if (delete.ExitCode != 0 && Directory.Exists(Path.Combine(_options.RuntimeRoot, container.Id)))
                throw new EngineException($"cannot remove container {container.Name}: the runtime could not delete it: {delete.Error}");
        }
        _rootfs.Release(container.Id);
        if (volumes)
            foreach (var volume in container.Config.AnonymousVolumes)
                Volumes.RemoveUnchecked(volume);
        Directory.Delete(_options.ContainerDirectory(container.Id), recursive: true);
        _store.Delete(container.Id);
        RecordEvent(container, "destroy");
    }

    /// <summary>
    /// `skiff wait`: blocks until the container is not running and returns its exit code. A live monitor tells
    /// the code on the attach socket (even for a --rm container, whose row it then removes); otherwise the
    /// recorded state is polled.
    /// </summary>
    public int Wait(string idOrName, CancellationToken cancel = default)
    {
        var container = Require(idOrName);
        while (true)
        {
            var current = _store.Get(container.Id);
            if (current is null)
                return container.State.ExitCode; // removed meanwhile: the last code seen
            current = Reconcile(current);
            if (current.State.Status == ContainerStatus.Exited || (current.State.Status == ContainerStatus.Created && !MonitorAlive(current)))
                return current.State.ExitCode;
            if (current.State.Status is ContainerStatus.Running or ContainerStatus.Restarting && MonitorAlive(current) && WaitForExitFrame(current, cancel) is { } code)
                return code;
            container = current;
            cancel.WaitHandle.WaitOne(50);
            cancel.ThrowIfCancellationRequested();
        }
    }

    private int? WaitForExitFrame(ContainerRecord container, CancellationToken cancel)
    {
        AttachSession session;
        try
        {
            session = AttachSession.Connect(_options.ContainerDirectory(container.Id));
        }
        catch (EngineException)
        {
            return null; // the monitor is just exiting
        }
        using (session)
        using (cancel.Register(session.Dispose))
        {
            var code = session.CopyOutput(Stream.Null, Stream.Null);
            cancel.ThrowIfCancellationRequested();
            return code;
        }
    }

    /// <summary>`skiff ps [-a] [--filter K=V]`: newest first, states checked against the processes.</summary>
    public IReadOnlyList<ContainerRecord> List(bool all = false, IReadOnlyList<string>? filters = null)
    {
        var filter = ContainerFilter.Parse(filters ?? []);
        return _store.List().Select(Reconcile)
            .Where(c => all || IsActive(c.State.Status) || filter.ImpliesAll)
            .Where(filter.Matches)
            .ToList();
    }

    /// <summary>The container with this id, id prefix or name; an <see cref="EngineException"/> when there is none.</summary>
    public ContainerRecord Get(string idOrName) => Reconcile(Require(idOrName));

    /// <summary>`skiff rename OLD NEW`.</summary>
    public void Rename(string idOrName, string newName)
    {
        var name = NameGenerator.Validate(newName);
        var container = Require(idOrName);
        using (LockContainer(container.Id))
            _store.Rename(container.Id, name);
        RecordEvent(container with { Name = name }, "rename", ("oldName", container.Name));
    }

    /// <summary>`skiff pause`: freezes every process of the container.</summary>
    public void Pause(string idOrName) => ChangeFreezer(idOrName, "pause", ContainerStatus.Running, ContainerStatus.Paused);

    /// <summary>`skiff unpause`.</summary>
    public void Unpause(string idOrName) => ChangeFreezer(idOrName, "resume", ContainerStatus.Paused, ContainerStatus.Running);

    private void ChangeFreezer(string idOrName, string command, ContainerStatus from, ContainerStatus to)
    {
        var container = Require(idOrName);
        using (LockContainer(container.Id))
        {
            container = Reconcile(Require(container.Id));
            if (container.State.Status != from)
                throw new EngineException($"cannot {(command == "pause" ? "pause" : "unpause")} container {container.Name}: it is {Describe(container.State.Status)}");
            var result = RuntimeOf(container).Run(command, container.Id);
            if (result.ExitCode != 0)
                throw new EngineException($"cannot {command} container {container.Name}: {result.Error}");
            _store.ChangeState(container.Id, s => s with { Status = to });
            RecordEvent(container, command == "pause" ? "pause" : "unpause");
        }
    }

    /// <summary>`skiff top`: the container's processes (from the runtime's ps), with their parent, uid and command line.</summary>
    public IReadOnlyList<ContainerProcess> Top(string idOrName)
    {
        var container = Reconcile(Require(idOrName));
        if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused))
            throw new EngineException($"container {container.Name} is not running");
        var result = RuntimeOf(container).Run("ps", "--format", "json", container.Id);
        if (result.ExitCode != 0)
            throw new EngineException($"cannot list the processes of container {container.Name}: {result.Error}");
        var processes = new List<ContainerProcess>();
        foreach (var pid in System.Text.Json.JsonSerializer.Deserialize(result.Stdout, EngineJsonContext.Default.ListInt32) ?? [])
        {
            try
            {
                var stat = SmallFile.ReadAllText($"/proc/{pid}/stat");
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                var status = SmallFile.ReadAllText($"/proc/{pid}/status");
                var uid = uint.Parse(status.Split('\n').First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
                var command = SmallFile.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
                processes.Add(new ContainerProcess(pid, parent, uid, command));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // exited since the runtime listed it
            }
        }
        return processes;
    }

    private RuntimeClient RuntimeOf(ContainerRecord container) => new(container.Config.Runtime, _options.RuntimeRoot);

    private ContainerRecord Require(string idOrName)
        => _store.Find(idOrName) ?? throw new EngineException(ErrorKind.NotFound, $"no such container: {idOrName}");

    private FileDescriptor LockContainer(string id, Action? beforeWaiting = null)
    {
        var directory = _options.ContainerDirectory(id);
        try
        {
            return Libc.LockFile(Path.Combine(directory, LockFileName), beforeWaiting);
        }
        catch (SyscallException e) when (e.Errno == Errno.ENOENT)
        {
            throw new EngineException($"no such container: {id[..12]} (removed meanwhile)");
        }
    }

    private static bool IsActive(ContainerStatus status) => status is ContainerStatus.Running or ContainerStatus.Paused or ContainerStatus.Restarting;

    private static string Describe(ContainerStatus status) => status.ToString().ToLowerInvariant();

    private static bool MonitorAlive(ContainerRecord container)
        => ProcessIdentity.IsAlive(container.State.MonitorPid, container.State.MonitorStartTime);

    /// <summary>
    /// The truth behind a recorded state: a container recorded as running whose monitor and process are both
    /// gone (monitor killed, host rebooted) has exited; its exit status is unknown, recorded as 255 unless an
    /// exit was already recorded. A container whose monitor is gone but whose process lives is still running.
    /// </summary>
    private ContainerRecord Reconcile(ContainerRecord container)
    {
        if (!IsActive(container.State.Status) || MonitorAlive(container))
            return container;
        if (container.State.Status != ContainerStatus.Restarting && ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime))
            return container;
        var monitorPid = container.State.MonitorPid;
        bool died = false;
        var state = _store.ChangeState(container.Id, s =>
        {
            died = s.MonitorPid == monitorPid && IsActive(s.Status);
            return !died ? s : s with { Status = ContainerStatus.Exited, ExitCode = 255, FinishedAt = DateTimeOffset.UtcNow, Pid = 0, PidStartTime = 0 };
        });
        if (died)
            RecordEvent(container, "die", ("exitCode", "255"));
        return state is null ? container : container with { State = state };
    }

    /// <summary>Waits for the container's process to exit; true if it did (or was gone already).</summary>
    private static bool WaitProcessExit(ContainerRecord container, TimeSpan timeout)
    {
        if (!ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime) || !Pidfd.TryOpen(container.State.Pid, out var pidfd))
            return true;
        using (pidfd)
            return Pidfd.WaitReadable(pidfd!, (int)timeout.TotalMilliseconds);
    }

    /// <summary>
    /// After the process exited: the monitor records the exit; without a monitor we record it, with the status
    /// the signal we sent implies, and delete the runtime's state ourselves.
    /// </summary>
    private void AwaitExitRecorded(ContainerRecord container, int signal)
    {
        var deadline = DateTimeOffset.UtcNow + MonitorGrace;
        while (MonitorAlive(container) && DateTimeOffset.UtcNow < deadline)
        {
            var current = _store.Get(container.Id);
            if (current is null || current.State.Status == ContainerStatus.Exited)
                return;
            Thread.Sleep(20);
        }
        if (MonitorAlive(container))
            return;
        var killed = ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime) ? 9 : signal;
        bool died = false;
        _store.ChangeState(container.Id, s =>
        {
            died = s.Status != ContainerStatus.Exited;
            return !died ? s : s with { Status = ContainerStatus.Exited, ExitCode = 128 + killed, FinishedAt = DateTimeOffset.UtcNow, Pid = 0, PidStartTime = 0 };
        });
        if (died)
            RecordEvent(container, "die", ("exitCode", (128 + killed).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        RuntimeOf(container).Run("delete", "--force", container.Id);
    }

    private static void WaitMonitorExit(ContainerRecord container, TimeSpan timeout)
    {
        if (!MonitorAlive(container) || !Pidfd.TryOpen(container.State.MonitorPid, out var pidfd))
            return;
        using (pidfd)
            Pidfd.WaitReadable(pidfd!, (int)timeout.TotalMilliseconds);
    }

    private static void KillMonitor(ContainerRecord container)
    {
        if (!MonitorAlive(container) || !Pidfd.TryOpen(container.State.MonitorPid, out var pidfd))
            return;
        using (pidfd)
        {
            // The pid was checked against its start time just before: the pidfd names that same monitor.
            if (ProcessIdentity.IsAlive(container.State.MonitorPid, container.State.MonitorStartTime))
            {
                Pidfd.SendSignal(pidfd!, LinuxNames.SIGKILL);
                Pidfd.WaitReadable(pidfd!, (int)MonitorGrace.TotalMilliseconds);
            }
        }
    }
}

/// <summary>A monitor started before its container (<see cref="ContainerManager.SpawnMonitor"/>), waiting for the container's id.</summary>
public sealed class PendingMonitor : IDisposable
{
    private FileDescriptor? _socket;

    internal PendingMonitor(FileDescriptor socket, int pid)
    {
        _socket = socket;
        Pid = pid;
    }

    public int Pid { get; }

    /// <summary>The CLI's end of the sync socket, once: <see cref="ContainerManager.Start"/> takes it over.</summary>
    internal FileDescriptor? TakeSocket() => Interlocked.Exchange(ref _socket, null);

    /// <summary>Closes the socket unless a start took it: the monitor then exits without doing anything.</summary>
    public void Dispose() => TakeSocket()?.Dispose();
}
