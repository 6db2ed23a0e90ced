using System.Globalization;
using System.Net;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Skiff.Network;
using Skiff.Oci;
using Pidfd = Skiff.Interop.Interop.Pidfd;

namespace Skiff.Engine;

/// <summary>
/// A container's life after its creation: start, stop, kill, restart, pause, unpause, rename, remove, prune, wait
/// and attach. Daemonless: every call works from the store, the container's directory and its monitor. Calls on one
/// container serialize on its lock (<see cref="ContainerDirectory.Lock"/>), whether they come from threads of one
/// process or from other processes; the monitor does not take it (see <see cref="ContainerMonitor"/>).
/// </summary>
public sealed class ContainerLifecycle
{
    private readonly ContainerContext _context;

    internal ContainerLifecycle(ContainerContext context) => _context = context;

    /// <summary>
    /// Starts the container under a new monitor. With <paramref name="attach"/>, returns a session connected before
    /// the program runs (so no output is missed). Starting a running container does nothing, as in docker.
    /// <paramref name="terminalSize"/> (rows, columns) sizes a terminal container's terminal before its program runs.
    /// <paramref name="monitor"/>: one started ahead with <see cref="ContainerCreation.SpawnMonitor"/>, else a new one
    /// is started here. <paramref name="cancel"/> ends the returned session (its copies return). <paramref name="streams"/>:
    /// the output streams the session passes on (docker run's -a, the container's <see cref="RunOptions.Attach"/>);
    /// the others still go to the log.
    /// </summary>
    /// <exception cref="EngineException">NotFound; FailedPrecondition when paused; NotFound/PermissionDenied with
    /// <see cref="EngineException.ContainerCommand"/> when its program cannot be found or executed.</exception>
    public AttachSession? Start(string idOrName, bool attach = false, (ushort Rows, ushort Columns)? terminalSize = null, PendingMonitor? monitor = null,
        CancellationToken cancel = default, AttachStreams streams = AttachStreams.Default)
    {
        var container = _context.Require(idOrName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            container = _context.Reconcile(_context.Require(container.Id));
            if (ContainerContext.IsActive(container.State.Status))
            {
                if (container.State.Status == ContainerStatus.Paused)
                    throw new EngineException(ErrorKind.FailedPrecondition, $"container {container.Name} is paused: unpause it instead of starting it");
                return null;
            }
            _context.Store.ChangeState(container.Id, s => s with { StoppedByUser = false, Error = "" });
            AttachNetworks(container);
            try
            {
                var session = StartMonitor(container, attach, terminalSize, monitor);
                session?.EndOn(cancel);
                session?.Streams = streams;
                return session;
            }
            catch
            {
                _context.ReleaseNetwork(container);
                throw;
            }
        }
    }

    /// <summary>
    /// Gives a container on networks of its own its namespace, interfaces, addresses and published ports, and its
    /// hosts file the addresses (docker writes them at start too: they are not known before).
    /// </summary>
    private void AttachNetworks(ContainerRecord container)
    {
        var options = container.Config.Options;
        if (options.Network != NetworkMode.Bridge)
            return;
        var joins = options.Attachments.Select(a => new NetworkJoin(
            _context.Networks.Store.Find(a.NetworkId) ?? throw new EngineException(ErrorKind.NotFound,
                $"network {a.NetworkName} of container {container.Name} was removed: connect the container to another network, or create it again"),
            a.Aliases,
            a.IPv4Address is null ? null : IPAddress.Parse(a.IPv4Address),
            a.IPv6Address is null ? null : IPAddress.Parse(a.IPv6Address),
            a.MacAddress)).ToList();
        var endpoints = _context.Networks.Attach(new SandboxRequest { ContainerId = container.Id, ContainerName = container.Name, Networks = joins, Ports = options.Ports });
        try
        {
            var directory = _context.DirectoryOf(container.Id);
            var hostname = SmallFile.ReadAllText(directory.File("hostname")).Trim();
            var addresses = endpoints.SelectMany(e => new[] { e.IPv4, e.IPv6 }).OfType<IPAddress>().ToList();
            var gateway = _context.Networks.Store.Find(endpoints[0].NetworkId)?.Ipam.FirstOrDefault()?.Gateway;
            File.WriteAllText(directory.File("hosts"), NameResolution.Hosts(hostname, null, options.ExtraHosts, addresses, gateway));
        }
        catch
        {
            _context.ReleaseNetwork(container);
            throw;
        }
    }

    private AttachSession? StartMonitor(ContainerRecord container, bool attach, (ushort Rows, ushort Columns)? terminalSize, PendingMonitor? pending)
    {
        var directory = _context.DirectoryOf(container.Id);
        FileDescriptor ours;
        if (pending?.TakeSocket() is { } spawned)
        {
            ours = spawned;
            SyncSocket.Send(ours, container.Id);
        }
        else
        {
            using var log = directory.OpenMonitorLog();
            ours = MonitorProcess.Spawn(_context.Options, container.Id, log).Socket;
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
                        _context.RecordEvent(container, "attach");
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
                    throw ProgramFailure.Exception(int.Parse(parts[1], CultureInfo.InvariantCulture), $"cannot start container {container.Name}: {parts[2]}");
                }
                throw new EngineException(ErrorKind.Unavailable, $"the monitor of container {container.Name} exited before starting it: see {directory.MonitorLog}");
            }
            catch
            {
                session?.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// A live session on a running container's stdio; <paramref name="cancel"/> ends it (its copies return).
    /// </summary>
    /// <exception cref="EngineException">NotFound; FailedPrecondition when it is not running.</exception>
    public AttachSession Attach(string idOrName, CancellationToken cancel = default)
    {
        var container = _context.Reconcile(_context.Require(idOrName));
        if (container.State.Status != ContainerStatus.Running || !ContainerContext.MonitorAlive(container))
            throw new EngineException(ErrorKind.FailedPrecondition, $"cannot attach to container {container.Name}: it is not running (or its monitor is gone)");
        var session = AttachSession.Connect(_context.DirectoryOf(container.Id));
        session.EndOn(cancel);
        _context.RecordEvent(container, "attach");
        return session;
    }

    /// <summary>Its stop signal, then SIGKILL after <paramref name="timeoutSeconds"/> (the container's stop timeout, else 10 s).</summary>
    public void Stop(string idOrName, int? timeoutSeconds = null)
    {
        var container = _context.Require(idOrName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            container = _context.Reconcile(_context.Require(container.Id));
            if (!ContainerContext.IsActive(container.State.Status))
                return;
            _context.Store.ChangeState(container.Id, s => s with { StoppedByUser = true });
            if (container.State.Status != ContainerStatus.Restarting)
            {
                var runtime = _context.RuntimeOf(container);
                // Recorded before the signal is sent: the monitor records the die it causes.
                _context.RecordEvent(container, "kill", ("signal", SignalNumber(container.Config.StopSignal)));
                runtime.Run("kill", container.Id, container.Config.StopSignal);
                if (container.State.Status == ContainerStatus.Paused)
                    runtime.Run("resume", container.Id);
                if (!WaitProcessExit(container, TimeSpan.FromSeconds(timeoutSeconds ?? container.Config.StopTimeout)))
                {
                    _context.RecordEvent(container, "kill", ("signal", SignalNumber("KILL")));
                    runtime.Run("kill", container.Id, "KILL");
                    WaitProcessExit(container, ContainerContext.MonitorGrace);
                }
            }
            AwaitExitRecorded(container, LinuxNames.ParseSignal(container.Config.StopSignal) ?? 15);
            // The monitor would free them too, but not while we hold the container: a `restart` starts it again next.
            _context.ReleaseNetwork(container);
            _context.RecordEvent(container, "stop");
        }
    }

    /// <summary>A signal to the container's process (the restart policy then counts it as stopped by the user, as docker does).</summary>
    /// <exception cref="EngineException">InvalidArgument for a signal that is not one; NotFound; FailedPrecondition when it is not running.</exception>
    public void Kill(string idOrName, string signal = "KILL")
    {
        if (LinuxNames.ParseSignal(signal) is null)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid signal \"{signal}\": give a name such as KILL or TERM, or a number");
        var container = _context.Require(idOrName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            container = _context.Reconcile(_context.Require(container.Id));
            if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused))
                throw new EngineException(ErrorKind.FailedPrecondition, $"cannot kill container {container.Name}: it is not running");
            _context.Store.ChangeState(container.Id, s => s with { StoppedByUser = true });
            // Recorded before the signal is sent: the monitor records the die it causes.
            _context.RecordEvent(container, "kill", ("signal", SignalNumber(signal)));
            var result = _context.RuntimeOf(container).Run("kill", container.Id, signal);
            if (result.ExitCode != 0)
                throw new EngineException(ErrorKind.Internal, $"cannot kill container {container.Name}: {result.Error}");
        }
    }

    public void Restart(string idOrName, int? timeoutSeconds = null)
    {
        Stop(idOrName, timeoutSeconds);
        Start(idOrName);
        _context.RecordEvent(_context.Reconcile(_context.Require(idOrName)), "restart");
    }

    /// <summary>docker's signal attribute of kill events: the number ("15"), whatever name it was given by.</summary>
    private static string SignalNumber(string signal) => (LinuxNames.ParseSignal(signal) ?? 0).ToString(CultureInfo.InvariantCulture);

    /// <summary>Freezes every process of the container.</summary>
    /// <exception cref="EngineException">NotFound; FailedPrecondition when it is not running.</exception>
    public void Pause(string idOrName) => ChangeFreezer(idOrName, "pause", ContainerStatus.Running, ContainerStatus.Paused);

    /// <exception cref="EngineException">NotFound; FailedPrecondition when it is not paused.</exception>
    public void Unpause(string idOrName) => ChangeFreezer(idOrName, "resume", ContainerStatus.Paused, ContainerStatus.Running);

    private void ChangeFreezer(string idOrName, string command, ContainerStatus from, ContainerStatus to)
    {
        var container = _context.Require(idOrName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            container = _context.Reconcile(_context.Require(container.Id));
            if (container.State.Status != from)
                throw new EngineException(ErrorKind.FailedPrecondition, $"cannot {(command == "pause" ? "pause" : "unpause")} container {container.Name}: it is {ContainerContext.Describe(container.State.Status)}");
            var result = _context.RuntimeOf(container).Run(command, container.Id);
            if (result.ExitCode != 0)
                throw new EngineException(ErrorKind.Internal, $"cannot {command} container {container.Name}: {result.Error}");
            _context.Store.ChangeState(container.Id, s => s with { Status = to });
            _context.RecordEvent(container, command == "pause" ? "pause" : "unpause");
        }
    }

    /// <exception cref="EngineException">InvalidArgument for a name that is not one; NotFound; AlreadyExists when another container has it.</exception>
    public void Rename(string idOrName, string newName)
    {
        var name = NameGenerator.Validate(newName);
        var container = _context.Require(idOrName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            _context.Store.Rename(container.Id, name);
            if (container.Config.Options.Network == NetworkMode.Bridge)
                _context.Networks.RenameContainer(container.Id, name);
        }
        _context.RecordEvent(container with { Name = name }, "rename", ("oldName", container.Name));
    }

    /// <summary>
    /// Removes every stopped container that docker's <paramref name="filters"/> select (<see cref="PruneFilter"/>:
    /// until, label, label!); returns their ids and the bytes their writable layers held.
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses.</exception>
    public PruneReport Prune(IReadOnlyList<string>? filters = null)
    {
        var filter = PruneFilter.Parse(filters ?? [], PruneFilter.ContainerKeys, DateTimeOffset.UtcNow);
        var removed = new List<string>();
        long reclaimed = 0;
        // A created container with a live monitor is being started.
        foreach (var container in _context.Store.List().Select(_context.Reconcile)
            .Where(c => c.State.Status == ContainerStatus.Exited || (c.State.Status == ContainerStatus.Created && !ContainerContext.MonitorAlive(c))))
        {
            if (!filter.Matches(container.Created, container.Config.Labels))
                continue;
            try
            {
                long size = _context.Rootfs.WritableSize(container.Id);
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

    /// <summary>
    /// Removes a container with its rootfs, logs and state: a running one only with <paramref name="force"/> (killed
    /// first); <paramref name="volumes"/> removes its anonymous volumes too.
    /// </summary>
    /// <exception cref="EngineException">NotFound; FailedPrecondition when it runs and <paramref name="force"/> is not given.</exception>
    public void Remove(string idOrName, bool force = false, bool volumes = false)
    {
        var container = _context.Require(idOrName);
        if (!Directory.Exists(_context.Options.ContainerDirectory(container.Id)))
        {
            // A row without its directory: a removal cut short by a power loss (see ContainerStore.Open) or one running now.
            _context.Rootfs.Release(container.Id);
            _context.Store.Delete(container.Id);
            return;
        }
        using (_context.DirectoryOf(container.Id).Lock())
        {
            if (_context.Store.Get(container.Id) is not { } current)
                return; // removed meanwhile (its auto-removing monitor)
            container = _context.Reconcile(current);
            if (ContainerContext.IsActive(container.State.Status))
            {
                if (!force)
                    throw new EngineException(ErrorKind.FailedPrecondition, $"cannot remove container {container.Name}: it is {ContainerContext.Describe(container.State.Status)}; stop it first or force the removal");
                _context.Store.ChangeState(container.Id, s => s with { StoppedByUser = true });
                var runtime = _context.RuntimeOf(container);
                _context.RecordEvent(container, "kill", ("signal", SignalNumber("KILL")));
                runtime.Run("kill", container.Id, "KILL");
                if (container.State.Status == ContainerStatus.Paused)
                    runtime.Run("resume", container.Id);
                WaitProcessExit(container, ContainerContext.MonitorGrace);
                AwaitExitRecorded(container, 9);
            }
            // A monitor that recorded the exit is finishing on its own; one still there after that is blocked on our
            // lock to remove an auto-removed container: we remove instead.
            WaitMonitorExit(container, TimeSpan.FromSeconds(2));
            KillMonitor(container);
            _context.RemoveFiles(container, volumes);
        }
    }

    /// <summary>
    /// For a container removed when it exits, once a session attached to it ended: returns when the container is gone,
    /// as docker's `run --rm` does, so a script's next command (or the same name) does not find it. Its monitor removes
    /// it before it reports the exit, so this is usually immediate; else (another command held the container) until
    /// that monitor exits. A container that runs on (the session was detached) is left alone.
    /// </summary>
    public void AwaitAutoRemoval(string id)
    {
        if (_context.Store.Get(id) is { } container && !ContainerContext.IsActive(container.State.Status))
            WaitMonitorExit(container, TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Returns the container's exit code once it is not running. A live monitor tells the code on the attach socket
    /// (even for an auto-removed container, whose row it then removes); otherwise the recorded state is polled.
    /// </summary>
    /// <exception cref="EngineException">NotFound.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> fired.</exception>
    public async Task<int> WaitAsync(string idOrName, CancellationToken cancel = default)
    {
        var container = _context.Require(idOrName);
        while (true)
        {
            var current = _context.Store.Get(container.Id);
            if (current is null)
                return container.State.ExitCode; // removed meanwhile: the last code seen
            current = _context.Reconcile(current);
            if (current.State.Status == ContainerStatus.Exited || (current.State.Status == ContainerStatus.Created && !ContainerContext.MonitorAlive(current)))
                return current.State.ExitCode;
            if (current.State.Status is ContainerStatus.Running or ContainerStatus.Restarting && ContainerContext.MonitorAlive(current)
                && await WaitForExitFrameAsync(current, cancel) is { } code)
                return code;
            container = current;
            await Task.Delay(50, cancel);
        }
    }

    private async Task<int?> WaitForExitFrameAsync(ContainerRecord container, CancellationToken cancel)
    {
        AttachSession session;
        try
        {
            session = AttachSession.Connect(_context.DirectoryOf(container.Id));
        }
        catch (EngineException)
        {
            return null; // the monitor is just exiting
        }
        using (session)
            return await session.WaitExitAsync(cancel);
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
        var deadline = DateTimeOffset.UtcNow + ContainerContext.MonitorGrace;
        while (ContainerContext.MonitorAlive(container) && DateTimeOffset.UtcNow < deadline)
        {
            var current = _context.Store.Get(container.Id);
            if (current is null || current.State.Status == ContainerStatus.Exited)
                return;
            Thread.Sleep(20);
        }
        if (ContainerContext.MonitorAlive(container))
            return;
        var killed = ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime) ? 9 : signal;
        bool died = false;
        _context.Store.ChangeState(container.Id, s =>
        {
            died = s.Status != ContainerStatus.Exited;
            return !died ? s : s with { Status = ContainerStatus.Exited, ExitCode = 128 + killed, FinishedAt = DateTimeOffset.UtcNow, Pid = 0, PidStartTime = 0 };
        });
        if (died)
            _context.RecordEvent(container, "die", ("exitCode", (128 + killed).ToString(CultureInfo.InvariantCulture)));
        _context.RuntimeOf(container).Run("delete", "--force", container.Id);
    }

    private static void WaitMonitorExit(ContainerRecord container, TimeSpan timeout)
    {
        if (!ContainerContext.MonitorAlive(container) || !Pidfd.TryOpen(container.State.MonitorPid, out var pidfd))
            return;
        using (pidfd)
            Pidfd.WaitReadable(pidfd!, (int)timeout.TotalMilliseconds);
    }

    private static void KillMonitor(ContainerRecord container)
    {
        if (!ContainerContext.MonitorAlive(container) || !Pidfd.TryOpen(container.State.MonitorPid, out var pidfd))
            return;
        using (pidfd)
        {
            // The pid was checked against its start time just before: the pidfd names that same monitor.
            if (ProcessIdentity.IsAlive(container.State.MonitorPid, container.State.MonitorStartTime))
            {
                Pidfd.SendSignal(pidfd!, LinuxNames.SIGKILL);
                Pidfd.WaitReadable(pidfd!, (int)ContainerContext.MonitorGrace.TotalMilliseconds);
            }
        }
    }
}
