using System.Text.Json;
using Skiff.Cgroups;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime.Hooks;
using Skiff.Runtime.Launch;
using Skiff.Runtime.Plan;
using Skiff.Runtime.Policy;
using Skiff.Runtime.State;
using static Skiff.Interop.Interop;

namespace Skiff.Runtime;

public sealed record CreateOptions
{
    public required string Bundle { get; init; }
    public string? ConsoleSocket { get; init; }
    public string? PidFile { get; init; }
    public bool NoPivot { get; init; }
    public int PreserveFds { get; init; }
}

/// <summary>
/// A container this process has just created, kept in memory so `run` starts and deletes it without
/// reading its state and config back from disk. The pidfd waits for the container process.
/// </summary>
public sealed class CreatedContainer(ContainerRecord record, Spec spec, ICgroupManager cgroups, FileDescriptor pidfd) : IDisposable
{
    public ContainerRecord Record { get; } = record;
    public Spec Spec { get; } = spec;
    public ICgroupManager Cgroups { get; } = cgroups;
    public FileDescriptor Pidfd { get; } = pidfd;

    public void Dispose() => Pidfd.Dispose();
}

/// <summary>
/// The OCI lifecycle (runtime-spec runtime.md) over a <see cref="StateStore"/>. Each public method is
/// one runc verb; every failure path undoes what the method created (state dir, cgroups, process).
/// </summary>
public sealed partial class ContainerRuntime(StateStore store, bool systemdCgroup, Action<string> warn, Action<string>? debug = null)
{
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>--debug: each step with the milliseconds since the runtime started, to see where a start spends its time.</summary>
    private void Step(string what)
        => debug?.Invoke($"{System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalMilliseconds:F2} ms: {what}");

    public StateStore Store { get; } = store;

    /// <summary>
    /// create: claims the id, creates the cgroups, starts skiff-init and returns once the container
    /// process waits on the exec fifo. The result is only useful to a caller that stays around (run):
    /// its pidfd waits for the container process, our child because skiff-init clones with CLONE_PARENT.
    /// </summary>
    public CreatedContainer Create(string id, CreateOptions options)
    {
        ContainerId.Validate(id);
        var bundle = Path.GetFullPath(options.Bundle);
        var configPath = Path.Combine(bundle, "config.json");
        byte[] configBytes;
        try
        {
            configBytes = SmallFile.ReadAllBytes(configPath);
        }
        catch (FileNotFoundException)
        {
            throw new RuntimeException(ErrorKind.NotFound, $"cannot read {configPath}: no such file (is --bundle right?)");
        }
        var spec = OciJson.ParseSpec(configBytes, configPath);
        Step("config.json read");
        SpecValidator.ThrowIfInvalid(spec, source: configPath);
        Step("config.json validated");

        Store.Claim(id);
        ICgroupManager? cgroups = null;
        BackgroundWork? cgroupSetup = null;
        Stage0? stage0 = null;
        FileDescriptor? fifo = null;
        FileDescriptor? console = null;
        try
        {
            var record = new ContainerRecord
            {
                Id = id,
                Bundle = bundle,
                Created = DateTimeOffset.UtcNow,
                Owner = Libc.GetEuid() == 0 ? "root" : Libc.GetEuid().ToString(),
            };
            // Paths first, directories after the record names them: a runtime killed in between
            // leaves a record whose delete removes whatever was created (missing dirs are fine).
            cgroups = CgroupManagers.Create(id, spec.Linux?.CgroupsPath, systemdCgroup);
            record.Cgroups = cgroups.Paths;
            Store.Save(record);
            // The bytes as read, not re-serialised: they are what exec and hooks see later, and
            // serialising would build System.Text.Json's metadata that the start path avoids.
            Store.SaveSpec(id, configBytes);
            // The cgroup gets runc's effective device list; the saved config keeps the config's own rules.
            var resources = spec.Linux?.Resources ?? new LinuxResources();
            resources.Devices = DeviceRules.Effective(spec.Linux);
            // ~1.5 ms of cgroup mkdirs and writes on a v1 host, done while this thread compiles the plan and
            // skiff-init starts: it waits for the go (OP_AWAIT_GO) before joining them. The plan only needs
            // the cgroups' paths, which the manager knew before creating anything.
            var manager = cgroups;
            cgroupSetup = BackgroundWork.Start(() =>
            {
                manager.Create();
                manager.Apply(resources);
                Step("cgroups created and limited");
            });

            var fifoPath = Store.ExecFifoOf(id);
            // 0622 like runc: the container process opens it for writing after switching to the
            // container user, who may be neither root nor even mapped (a user namespace whose
            // root is another host uid); only the state directory (0700) guards its path.
            Errno.Check(Libc.MkFifo(fifoPath, 0x192 /* 0622 */), "mkfifo", fifoPath);
            Errno.Check(Libc.Chmod(fifoPath, 0x192), "chmod", fifoPath); // mkfifo's mode went through our umask
            fifo = FileDescriptor.Wrap(Libc.Open(fifoPath, Libc.O_PATH | Libc.O_CLOEXEC, 0), "open", fifoPath);
            if (options.ConsoleSocket is not null)
                console = ConnectConsole(options.ConsoleSocket);

            var layout = new FdLayout(options.PreserveFds, fifo, console);
            var launch = new LaunchOptions
            {
                Bundle = bundle,
                PreserveFds = options.PreserveFds,
                NoPivot = options.NoPivot,
                Cgroups = cgroups,
                StartContainerState = spec.Hooks?.StartContainer is { Count: > 0 } ? StartContainerState(record, spec) : null,
                SeccompCache = new SeccompCache(Store.SeccompCacheDirectory),
            };
            var plan = PlanCompiler.CompileCreate(spec, launch, new FdLayoutNumbers(layout.Sync, layout.ExecFifo, layout.Console));
            Step("plan compiled");
            stage0 = Stage0.Start(plan, layout);
            Step("skiff-init spawned");
            cgroupSetup.Join();
            stage0.Go();
            stage0.RunProtocol(waitForReady: true, onHooks: pid =>
            {
                // before the hooks, as runc applies its cgroup manager before prestart
                cgroups.RegisterInit(pid);
                var state = StateJson(record, spec, ContainerStatus.Creating, pid);
                HookRunner.RunAll("prestart", spec.Hooks?.Prestart, state);
                HookRunner.RunAll("createRuntime", spec.Hooks?.CreateRuntime, state);
                HookRunner.RunAll("createContainer", spec.Hooks?.CreateContainer, state);
            }, SeccompListenerForwarder(record, spec, ContainerStatus.Creating));
            Step("container ready");
            record.Pid = stage0.ChildPid;
            record.PidStartTime = ProcessInfo.StartTime(record.Pid);
            Store.Save(record);
            if (options.PidFile is not null)
                WritePidFile(options.PidFile, record.Pid);
            var pidfd = stage0.TakeChildPidfd();
            stage0.Dispose();
            return new CreatedContainer(record, spec, cgroups, pidfd);
        }
        catch
        {
            stage0?.Abort();
            stage0?.Dispose();
            // Destroying cgroups that the worker is still creating would leave some behind.
            cgroupSetup?.JoinIgnoringFailure();
            TryDestroyCgroups(cgroups);
            Store.Remove(id);
            throw;
        }
        finally
        {
            fifo?.Dispose();
            console?.Dispose();
        }
    }

    private static FileDescriptor ConnectConsole(string path)
    {
        try
        {
            return Skiff.Interop.Interop.Socket.ConnectUnix(path);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException(e.Kind, $"cannot connect to console socket {path}: {SyscallException.Describe(e.Errno)}", e);
        }
    }

    private void TryDestroyCgroups(ICgroupManager? cgroups)
    {
        if (cgroups is null)
            return;
        try
        {
            cgroups.Destroy();
        }
        catch (Exception e) when (e is CgroupException or IOException)
        {
            warn($"cannot remove cgroup: {e.Message}");
        }
    }

    /// <summary>Writes the pid file atomically: podman and containerd read it as soon as it appears.</summary>
    internal static void WritePidFile(string path, int pid)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp");
        File.WriteAllText(temporary, pid.ToString());
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>start: opens the exec fifo, which releases the container process into execve.</summary>
    public void Start(string id)
    {
        var record = Store.Load(id);
        var status = Store.StatusOf(record);
        if (status != ContainerStatus.Created)
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot start container \"{id}\": it is {status.ToSpecString()}, not created");
        // The pidfd first: opening the fifo releases the container, and a short program (echo)
        // can be gone before the next line runs; its byte stays in the fifo for us to read.
        using var pidfd = Pidfd.Open(record.Pid);
        Start(record, Store.LoadSpec(id), pidfd);
    }

    /// <summary>start of a container this process just created (run): nothing to read back from the state dir.</summary>
    public void Start(CreatedContainer container) => Start(container.Record, container.Spec, container.Pidfd);

    private void Start(ContainerRecord record, Spec spec, FileDescriptor pidfd)
    {
        var id = record.Id;
        var fifoPath = Store.ExecFifoOf(id);
        // O_NONBLOCK: opening a fifo for reading without it would block forever if the container
        // died after the status check; with it, we poll for the byte and watch the process too.
        using var fifo = FileDescriptor.Wrap(Libc.Open(fifoPath, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0), "open", fifoPath);
        WaitForFifoByte(id, fifo, pidfd);
        Libc.Unlink(fifoPath);
        Step("container started");
        if (spec.Hooks?.Poststart is not { Count: > 0 })
            return;
        // runtime-spec: poststart hooks run after the program is executed. The fifo byte only
        // means skiff-init was released; startContainer hooks and the execve still follow.
        if (!WaitForExecve(record.Pid, pidfd, timeoutMs: 30_000))
            warn($"container \"{id}\" has not executed its program after 30 s; running poststart hooks anyway");
        var state = StateJson(record, spec, ContainerStatus.Running, record.Pid);
        HookRunner.RunAllWarnOnly("poststart", spec.Hooks?.Poststart, state, warn);
    }

    /// <summary>Until the process no longer runs skiff-init (a sealed memfd copy, see Stage0) or has exited.</summary>
    private static bool WaitForExecve(int pid, FileDescriptor pidfd, int timeoutMs)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Environment.TickCount64 < deadline)
        {
            if (Pidfd.WaitReadable(pidfd, 0))
                return true;
            string? exe;
            try
            {
                exe = new FileInfo($"/proc/{pid}/exe").LinkTarget;
            }
            catch (IOException)
            {
                exe = null;
            }
            if (exe is not null && !exe.StartsWith("/memfd:" + Stage0.HelperName, StringComparison.Ordinal))
                return true;
            Thread.Sleep(2);
        }
        return false;
    }

    private static unsafe void WaitForFifoByte(string id, FileDescriptor fifo, FileDescriptor pidfd)
    {
        var polls = stackalloc Libc.PollFd[2];
        polls[0] = new Libc.PollFd { Fd = fifo.Fd, Events = Libc.POLLIN };
        polls[1] = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
        while (true)
        {
            int ready = Libc.Poll(polls, 2, -1);
            if (ready < 0 && Errno.Last == Errno.EINTR)
                continue;
            Errno.Check(ready, "poll", "exec fifo");
            byte value;
            nint n = Libc.Read(fifo.Fd, &value, 1);
            if (n == 1)
                return;
            if ((polls[1].ReturnedEvents & Libc.POLLIN) != 0)
                throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot start container \"{id}\": its process exited before it was started");
        }
    }

    public ContainerStatus StatusOf(string id, out ContainerRecord record)
    {
        record = Store.Load(id);
        return Store.StatusOf(record);
    }

    /// <summary>The runtime-spec state document.</summary>
    public Oci.State State(string id)
    {
        var status = StatusOf(id, out var record);
        var spec = TryLoadSpec(id);
        return ToState(record, spec, status);
    }

    private Spec? TryLoadSpec(string id)
    {
        try
        {
            return Store.LoadSpec(id);
        }
        catch (Exception e) when (e is IOException or OciConfigException)
        {
            return null;
        }
    }

    public static Oci.State ToState(ContainerRecord record, Spec? spec, ContainerStatus status) => new()
    {
        Version = spec?.Version ?? "1.2.0",
        ID = record.Id,
        Status = status.ToSpecString(),
        Pid = status is ContainerStatus.Stopped or ContainerStatus.Creating ? 0 : record.Pid,
        Bundle = record.Bundle,
        Annotations = spec?.Annotations,
    };

    /// <summary>
    /// startContainer hooks run inside the container (runc: status "created"), so their pid is the one
    /// the container sees: 1 in a new pid namespace. Sharing a pid namespace, that pid is only known
    /// to skiff-init, so the field is 0 there.
    /// </summary>
    private static byte[] StartContainerState(ContainerRecord record, Spec spec)
    {
        bool newPidNamespace = spec.Linux?.Namespaces?.Any(n => n.Type == "pid" && string.IsNullOrEmpty(n.Path)) == true;
        return StateJson(record, spec, ContainerStatus.Created, newPidNamespace ? 1 : 0);
    }

    private static byte[] StateJson(ContainerRecord record, Spec spec, ContainerStatus status, int pid)
    {
        var state = ToState(record, spec, status);
        state.Pid = pid;
        return JsonSerializer.SerializeToUtf8Bytes(state, OciJsonContext.Default.State);
    }

    /// <summary>
    /// kill: one signal to the init process, or with <paramref name="all"/> to every process in the container's
    /// cgroups. As runc 1.1.5, whose wording shims match on: `--all` of a stopped container succeeds (containerd
    /// sends `kill --all ID 9` after an exit), a plain kill of one fails with "container not running".
    /// </summary>
    public void Kill(string id, int signal, bool all)
    {
        var status = StatusOf(id, out var record);
        if (all && record.Cgroups is not null)
        {
            foreach (var pid in CgroupManagers.FromPaths(record.Cgroups).GetPids())
                Libc.Kill(pid, signal);
        }
        else if (status is ContainerStatus.Stopped or ContainerStatus.Creating)
        {
            if (all)
                return;
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot kill \"{id}\": container not running");
        }
        else
        {
            SignalInit(id, record, signal);
        }
        // A frozen process never acts on SIGKILL: runc thaws the container for it.
        if (status is ContainerStatus.Paused && signal == LinuxNames.SIGKILL)
        {
            CgroupsOf(id, record).Thaw();
            record.Paused = false;
            Store.Save(record);
        }
    }

    private static void SignalInit(string id, ContainerRecord record, int signal)
    {
        if (!Pidfd.TryOpen(record.Pid, out var pidfd))
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot kill \"{id}\": container not running");
        using (pidfd)
        {
            // Re-check identity after pinning the pid: the pidfd now names exactly this process.
            if (!ProcessInfo.IsAlive(record.Pid, record.PidStartTime))
                throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot kill \"{id}\": container not running");
            Pidfd.SendSignal(pidfd!, signal);
        }
    }

    /// <summary>delete: removes a stopped (or, with force, any) container: processes, cgroups, state; then poststop hooks.</summary>
    public void Delete(string id, bool force)
    {
        // runc: `delete --force` of a container that does not exist succeeds quietly. podman
        // calls it to clean up after a failed create and shows our stderr next to the real error.
        if (force && !Store.Exists(id))
            return;
        var status = StatusOf(id, out var record);
        if (status is ContainerStatus.Running or ContainerStatus.Paused && !force)
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot delete container \"{id}\": it is {status.ToSpecString()}; stop it first or use --force");
        ICgroupManager? cgroups = record.Cgroups is null ? null : CgroupManagers.FromPaths(record.Cgroups);
        Delete(record, TryLoadSpec(id), status, cgroups);
    }

    /// <summary>delete of a container this process created and saw exit (run).</summary>
    public void Delete(CreatedContainer container)
        => Delete(container.Record, container.Spec, ContainerStatus.Stopped, container.Cgroups);

    private void Delete(ContainerRecord record, Spec? spec, ContainerStatus status, ICgroupManager? cgroups)
    {
        var id = record.Id;
        KillEverything(record, spec, status, cgroups);
        TryDestroyCgroups(cgroups);
        Step("cgroups removed");
        Store.Remove(id);
        Step("state removed");
        // The state document only when a hook reads it: serializing builds System.Text.Json's metadata.
        if (spec?.Hooks?.Poststop is { Count: > 0 } && status is not ContainerStatus.Creating)
            HookRunner.RunAllWarnOnly("poststop", spec.Hooks.Poststop, StateJson(record, spec, ContainerStatus.Stopped, 0), warn);
    }

    /// <summary>
    /// Kills the init process (which takes its pid namespace with it), then every process still in
    /// the container's cgroups: those of a container sharing the host pid namespace, and the
    /// process of a `create` that was killed before it could record the pid (status creating).
    /// </summary>
    private static void KillEverything(ContainerRecord record, Spec? spec, ContainerStatus status, ICgroupManager? cgroups)
    {
        // The kernel killed a private pid namespace with its init, and nothing else can be left (runc's
        // destroy skips the cgroup sweep for the same reason): no freezer write, no cgroup.procs read.
        if (status is ContainerStatus.Stopped && spec?.Linux?.Namespaces?.Any(n => n.Type == "pid" && string.IsNullOrEmpty(n.Path)) == true)
            return;
        try
        {
            // A frozen cgroup would keep SIGKILL pending forever.
            cgroups?.Thaw();
        }
        catch (Exception e) when (e is CgroupException or IOException)
        {
        }
        if (status is not ContainerStatus.Stopped && record.Pid > 0 && Pidfd.TryOpen(record.Pid, out var pidfd))
        {
            using (pidfd)
            {
                if (ProcessInfo.IsAlive(record.Pid, record.PidStartTime))
                {
                    Pidfd.SendSignal(pidfd!, LinuxNames.SIGKILL);
                    Pidfd.WaitReadable(pidfd!, 10_000);
                }
            }
        }
        if (cgroups is null)
            return;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var pids = cgroups.GetPids();
            if (pids.Count == 0)
                return;
            foreach (var pid in pids)
                Libc.Kill(pid, LinuxNames.SIGKILL);
            Thread.Sleep(10);
        }
    }

    /// <summary>Every container in the state root with its status (list).</summary>
    public IEnumerable<(ContainerRecord Record, Spec? Spec, ContainerStatus Status)> List()
    {
        foreach (var id in Store.Ids())
        {
            ContainerRecord record;
            try
            {
                record = Store.Load(id);
            }
            catch (RuntimeException)
            {
                continue;
            }
            yield return (record, TryLoadSpec(id), Store.StatusOf(record));
        }
    }

    /// <summary>Pids of every process of the container, from its cgroup (ps).</summary>
    public IReadOnlyList<int> Pids(string id)
    {
        var status = StatusOf(id, out var record);
        if (record.Cgroups is null)
            return status is ContainerStatus.Stopped ? [] : [record.Pid];
        return CgroupManagers.FromPaths(record.Cgroups).GetPids();
    }
}
