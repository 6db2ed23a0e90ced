using System.Net.Sockets;
using System.Text;
using Skiff.Cgroups;
using Microsoft.Extensions.Logging;
using Skiff.Engine.Containers;
using Skiff.Engine.Events;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using Pidfd = Skiff.Interop.Interop.Pidfd;

namespace Skiff.Engine.Monitor;

/// <summary>
/// The per-container monitor (what conmon is to podman): started detached by `skiff start`/`run`, it outlives
/// the CLI, owns the container's stdio (pipes, or the pty master from the runtime's console socket), writes the
/// json-file log, serves the attach socket, checks the container's health (<see cref="HealthMonitor"/>), reaps the container (it is the child subreaper the container's
/// process is reparented to when `runtime create` exits), records the exit, deletes the runtime state and
/// applies the restart policy. It updates the store without the per-container lock: a CLI holding that lock
/// may be waiting for it (stop), and each of its updates is one transaction.
///
/// Start-up handshake with the CLI on fd 3 (a SOCK_SEQPACKET socket): the monitor sends "ready", waits for one
/// message or EOF from the CLI (which may connect to the attach socket first, so it sees all output), starts the
/// container and sends "started", or at any point "error CODE MESSAGE" with docker's exit code (125 engine,
/// 126 cannot execute, 127 not found: <see cref="ProgramFailure"/>). Without a terminal, "ready" comes before the runtime is called and the
/// container is created and started by one `runtime run --detach` (one runtime process instead of two); with
/// -t, it comes once `runtime create` sent the terminal, so that the CLI's "go ROWS COLUMNS" sizes it before
/// `runtime start` runs the program.
/// </summary>
public sealed class ContainerMonitor : IDisposable
{
    public const int SyncFd = 3;
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaximumBackoff = TimeSpan.FromMinutes(1);
    /// <summary>docker resets the backoff when the container ran at least this long.</summary>
    private static readonly TimeSpan StableRun = TimeSpan.FromSeconds(10);

    private readonly ContainerContext _context;
    private readonly ILogger _logger;
    private readonly string _id;
    private readonly ContainerStore _store;
    private readonly ContainerRecord _container;
    private readonly RuntimeClient _runtime;
    private readonly ContainerDirectory _directory;
    /// <summary>The directory opened: its sockets are bound and named through it (see <see cref="AttachProtocol.EndPoint"/>).</summary>
    private readonly FileDescriptor _directoryHandle;
    private readonly Socket _attachListener;
    private readonly ManualResetEventSlim _firstClientAccepted = new();
    private readonly List<Socket> _clients = [];
    private readonly Lock _clientsLock = new();
    /// <summary>Null with the none log driver: the output goes to attach clients only.</summary>
    private readonly JsonFileLog? _log;
    private readonly ChildReaper _children = new();
    private FileDescriptor? _sync;
    /// <summary>Where attach clients' stdin goes: the stdin pipe or the pty master of the current run.</summary>
    private FileDescriptor? _input;
    private FileDescriptor? _terminal;

    private ContainerMonitor(ContainerContext context, string id, FileDescriptor sync, ILogger logger)
    {
        _context = context;
        _logger = logger;
        _id = id;
        _sync = sync;
        _store = context.Store;
        _container = _store.Get(id) ?? throw new EngineException(ErrorKind.NotFound, $"no such container: {id}");
        _runtime = context.RuntimeOf(_container);
        _directory = context.DirectoryOf(id);
        _directoryHandle = _directory.Open();
        _log = _container.Config.Log.Driver == LogOptions.None ? null : new JsonFileLog(_directory.Log, _container.Config.Log);
        File.Delete(_directory.File(ContainerDirectory.AttachSocketName));
        _attachListener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _attachListener.Bind(AttachProtocol.EndPoint(_directoryHandle, ContainerDirectory.AttachSocketName));
        _attachListener.Listen(16);
    }

    /// <summary>
    /// The hidden `skiff monitor --root DIR --run-root DIR --runtime-root DIR [ID]` entry. Without ID the monitor was started
    /// ahead of its container (<see cref="ContainerCreation.SpawnMonitor"/>) and gets the id as the first message
    /// on the sync socket, or EOF when the container could not be created. Returns the process exit code; the
    /// result that matters is in the store.
    /// </summary>
    /// <param name="rootfsOf">The rootfs provider of the store at the given root, made once the arguments are read.</param>
    /// <param name="logging">Where the monitor tells what it could not do (the front end points it at the monitor's stderr, its monitor.log).</param>
    public static int Run(IReadOnlyList<string> args, Func<string, IRootfsProvider> rootfsOf, ILoggerFactory logging)
    {
        string? root = null, runRoot = null, runtimeRoot = null, id = null;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--root" when i + 1 < args.Count: root = args[++i]; break;
                case "--run-root" when i + 1 < args.Count: runRoot = args[++i]; break;
                case "--runtime-root" when i + 1 < args.Count: runtimeRoot = args[++i]; break;
                default: id = args[i]; break;
            }
        }
        var sync = new FileDescriptor(SyncFd);
        // Inherited without close-on-exec: no program the monitor starts may hold the CLI's end open.
        sync.SetCloseOnExec();
        if (root is null || runRoot is null || runtimeRoot is null)
        {
            SyncSocket.Send(sync, "error 125 monitor: usage: monitor --root DIR --run-root DIR --runtime-root DIR [ID]");
            return 125;
        }
        // The run root as the command that started it had it: the containers' network namespaces are bound there.
        var options = new EngineOptions { Root = root, RunRoot = runRoot, RuntimeRoot = runtimeRoot };
        ContainerMonitor monitor;
        ContainerStore? store = null;
        try
        {
            // Before the id arrives: `run` spawns the monitor first and creates the container meanwhile, so this
            // process would otherwise only wait, then open the database on the way to starting the container.
            store = ContainerStore.Open(options.DatabasePath);
            ContainerStore.PrepareSerializer();
            if (id is null)
            {
                id = SyncSocket.Receive(sync);
                if (id.Length == 0)
                {
                    store.Dispose();
                    return 0; // the container was never created
                }
                // Started before the container's directory existed, with its output on /dev/null: from here on, monitor.log as usual.
                using var log = new ContainerDirectory(options, id).OpenMonitorLog();
                Libc.Dup2(log, 1);
                Libc.Dup2(log, 2);
            }
            var context = new ContainerContext(options, rootfsOf(root), store, new EventJournal(options.EventsDirectory, logger: logging.CreateLogger<EventJournal>()), ownsStore: true, logging);
            monitor = new ContainerMonitor(context, id, sync, logging.CreateLogger("skiff monitor"));
        }
        catch (Exception e) when (e is EngineException or IOException or SocketException or SyscallException or UnauthorizedAccessException)
        {
            store?.Dispose();
            SyncSocket.Send(sync, $"error 125 monitor of {id}: {e.Message}");
            return 125;
        }
        using (monitor)
            return monitor.Supervise();
    }

    public void Dispose()
    {
        _attachListener.Dispose();
        lock (_clientsLock)
        {
            foreach (var client in _clients)
                client.Dispose();
            _clients.Clear();
        }
        Log(log => log.Dispose());
        _directoryHandle.Dispose();
        _sync?.Dispose();
        _context.Dispose();
    }

    /// <summary>Runs the container until it exited for good; then nothing of its networks stays (see <see cref="ContainerContext.ReleaseNetwork"/>).</summary>
    private int Supervise()
    {
        try
        {
            return SuperviseRuns();
        }
        finally
        {
            ReleaseNetwork();
        }
    }

    /// <summary>
    /// Frees the container's networks once it exited for good, unless another command holds the container: `stop`
    /// and `rm` free them themselves, and a `start` that took over frees what it finds before it attaches, so that
    /// a late release here never takes the networks of the container's next run.
    /// </summary>
    private void ReleaseNetwork()
    {
        try
        {
            using var held = _directory.TryLock();
            if (held is null || _store.Get(_id) is not { } current || current.State.MonitorPid != Libc.GetPid() || ContainerContext.IsActive(current.State.Status))
                return;
            _context.ReleaseNetwork(_container);
        }
        catch (Exception e) when (ErrorKinds.IsExpected(e))
        {
            _logger.LogError("cannot release the networks of container {Id}: {Message}", _id, e.Message);
        }
    }

    /// <summary>
    /// Opens the store's networks (their database, recovered from its WAL) on a thread of its own while the container
    /// runs, so that its release, which `run --rm` waits for, does not open them first (docs/networking.md, "Set-up cost").
    /// </summary>
    private void OpenNetworksAhead()
    {
        if (_container.Config.Options.Network != NetworkMode.Bridge || Interlocked.Exchange(ref _networksOpened, 1) == 1)
            return;
        new Thread(() =>
        {
            try
            {
                _ = _context.Networks;
            }
            catch (Exception)
            {
                // Lazy keeps the exception: the release meets it again, and reports it as it always did.
            }
        }) { IsBackground = true, Name = "open networks" }.Start();
    }

    private int _networksOpened;

    private int SuperviseRuns()
    {
        Libc.BecomeChildSubreaper();
        _store.ChangeState(_id, s => s with { MonitorPid = Libc.GetPid(), MonitorStartTime = ProcessIdentity.StartTime(Libc.GetPid()) ?? 0 });
        new Thread(AcceptClients) { IsBackground = true, Name = "attach" }.Start();
        var backoff = InitialBackoff;
        while (true)
        {
            var run = StartOnce();
            if (run is null)
            {
                RemoveIfAutoRemove(() => { }); // docker run --rm of a program that is not found leaves no container either
                return 1;
            }
            var started = DateTimeOffset.UtcNow;
            OpenNetworksAhead();
            var health = HealthMonitor.Start(_context, _container, _runtime, _children, _logger, started);
            var exitCode = Reap(run.Value.Pid);
            health?.Stop();
            Thread? earlyRelease = null;
            if (_container.Config.AutoRemove)
            {
                earlyRelease = new Thread(ReleaseEarly) { Name = "release early" };
                earlyRelease.Start();
            }
            foreach (var pump in run.Value.Pumps)
                pump.Join(TimeSpan.FromSeconds(2));
            Log(log => log.Flush());
            CloseStdio();
            // The cgroup's OOM counter is read before the runtime deletes the cgroup with it.
            var oomKilled = OomKills() > 0;
            if (oomKilled)
                RecordEvent("oom");
            _runtime.Run("delete", "--force", _id);
            // Before the exit is recorded: a `stop` waiting for that records its own event next, and die comes first.
            RecordEvent("die", ("exitCode", exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var state = _store.ChangeState(_id, s => s with
            {
                Status = ContainerStatus.Exited, ExitCode = exitCode, FinishedAt = DateTimeOffset.UtcNow, Pid = 0, PidStartTime = 0, OomKilled = oomKilled,
            });
            earlyRelease?.Join();
            if (state is null)
            {
                DisconnectClients(exitCode);
                return 0; // removed while it ran (rm -f)
            }
            if (!_container.Config.RestartPolicy.ShouldRestart(exitCode, state.RestartCount, state.StoppedByUser))
            {
                // Before the exit is reported: a script's next `network rm` must not find the container still on it.
                ReleaseNetwork();
                // Removed before the exit is reported: `run --rm` returns when it gets the exit status, and a script's
                // next command (or the same --name) must not find the container still there, as with docker. Should
                // another command hold the container (rm -f, which may end this monitor), clients get the status first.
                RemoveIfAutoRemove(() => DisconnectClients(exitCode));
                DisconnectClients(exitCode);
                return 0;
            }
            // docker's attach ends with the run it attached to, even when the restart policy starts another.
            DisconnectClients(exitCode);
            backoff = DateTimeOffset.UtcNow - started >= StableRun ? InitialBackoff : backoff;
            _store.ChangeState(_id, s => s with { Status = ContainerStatus.Restarting, RestartCount = s.RestartCount + 1 });
            if (!SleepUnlessStopped(backoff))
                return 0; // --rm cannot be combined with a restart policy: nothing to remove
            backoff = backoff * 2 > MaximumBackoff ? MaximumBackoff : backoff * 2;
        }
    }

    /// <summary>
    /// Removes an auto-removed container once it exited for good. <paramref name="beforeWaitingForLock"/> runs when
    /// another command holds the container's lock (an `rm -f` that may end this monitor before it gets the lock).
    /// </summary>
    private void RemoveIfAutoRemove(Action beforeWaitingForLock)
    {
        if (!_container.Config.AutoRemove)
            return;
        using (_directory.Lock(beforeWaitingForLock))
        {
            if (_store.Get(_id) is { } container)
                _context.RemoveFiles(container, volumes: true);
        }
    }

    /// <summary>
    /// What an auto-removing monitor does as soon as its container's process is reaped, while the runtime deletes its
    /// state: unmounting (the kernel waits for an RCU grace period each time) its network namespace and its rootfs, and
    /// deleting the rootfs, then overlap that delete instead of following it. Skipped when another command holds the
    /// container: an `rm -f`, which releases them itself. Failures are left to <see cref="ReleaseNetwork"/> and
    /// <see cref="RemoveIfAutoRemove"/>, which release them again and report them.
    /// </summary>
    private void ReleaseEarly()
    {
        try
        {
            using var held = _directory.TryLock();
            if (held is null)
                return;
            if (_container.Config.Options.Network == NetworkMode.Bridge)
                _context.Networks.DeleteNamespace(_id);
            _context.Rootfs.Release(_id);
        }
        catch (Exception)
        {
            // See above: RemoveIfAutoRemove tries again and reports.
        }
    }

    /// <summary>Sleeps through the restart backoff; false (and the container recorded as exited) when the user stopped it meanwhile.</summary>
    private bool SleepUnlessStopped(TimeSpan backoff)
    {
        var until = DateTimeOffset.UtcNow + backoff;
        while (DateTimeOffset.UtcNow < until)
        {
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(100, (until - DateTimeOffset.UtcNow).TotalMilliseconds + 1)));
            var current = _store.Get(_id);
            if (current is null || current.State.StoppedByUser)
            {
                _store.ChangeState(_id, s => s with { Status = ContainerStatus.Exited });
                return false;
            }
        }
        return true;
    }

    private readonly record struct ContainerRun(int Pid, Thread[] Pumps);

    /// <summary>runtime run --detach, or create + start with -t, with fresh stdio; null (and the failure reported and recorded) when it fails.</summary>
    private ContainerRun? StartOnce()
    {
        var directory = _directory.Path;
        var pidFile = _directory.File(ContainerDirectory.PidFileName);
        File.Delete(pidFile);
        // A run whose monitor was killed leaves the runtime's state behind; the runtime would refuse the id.
        if (Directory.Exists(Path.Combine(_context.Options.RuntimeRoot, _id)))
            _runtime.Run("delete", "--force", _id);
        var config = _container.Config;
        var pumps = new List<Thread>();
        using var devNull = RuntimeClient.OpenDevNull();
        RuntimeCommand runtime;
        Socket? consoleListener = null;
        Task<Socket>? consoleConnection = null;
        // With -t the program starts only once the CLI sized the terminal (below); without, nothing has to happen
        // between create and start: the CLI attaches first, and one runtime call does both.
        string verb = config.Options.Tty ? "create" : "run";
        try
        {
            ContainerCreation.RejoinNamespaces(_context, _container);
            var args = new List<string> { verb };
            if (!config.Options.Tty)
            {
                AwaitGo();
                args.Add("--detach");
            }
            args.AddRange(["--bundle", directory, "--pid-file", pidFile]);
            if (config.Options.Tty)
            {
                // The runtime connects to this path from its own process: name it through our pid, not "self".
                File.Delete(_directory.File(ContainerDirectory.ConsoleSocketName));
                consoleListener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                consoleListener.Bind(AttachProtocol.EndPoint(_directoryHandle, ContainerDirectory.ConsoleSocketName));
                consoleListener.Listen(1);
                consoleConnection = consoleListener.AcceptAsync();
                args.AddRange(["--console-socket", $"/proc/{Libc.GetPid()}/fd/{_directoryHandle.Fd}/{ContainerDirectory.ConsoleSocketName}"]);
                args.Add(_id);
                runtime = _runtime.Spawn(args, devNull, devNull, devNull);
            }
            else
            {
                args.Add(_id);
                var (stdoutRead, stdoutWrite) = Libc.Pipe();
                var (stderrRead, stderrWrite) = Libc.Pipe();
                FileDescriptor? stdinRead = null;
                if (config.OpenStdin)
                    (stdinRead, _input) = Libc.Pipe();
                using (stdoutWrite)
                using (stderrWrite)
                using (stdinRead)
                    runtime = _runtime.Spawn(args, stdinRead ?? devNull, stdoutWrite, stderrWrite);
                pumps.Add(Pump(stdoutRead, "stdout", AttachProtocol.Stdout));
                pumps.Add(Pump(stderrRead, "stderr", AttachProtocol.Stderr));
            }
            var (code, error) = runtime.Wait();
            if (code != 0)
                return Failed(error ?? $"{Path.GetFileName(_runtime.Executable)} {verb} failed with exit status {code}");
            if (consoleConnection is not null)
            {
                if (!consoleConnection.Wait(TimeSpan.FromSeconds(10)))
                    return Failed("the runtime did not send the terminal of the container on its console socket");
                using var connection = consoleConnection.Result;
                _terminal = connection.ReceiveDescriptor()
                    ?? throw new EngineException(ErrorKind.Internal, "the runtime closed its console socket without sending the terminal");
                // docker -t without -i: the terminal shows output, but nobody types into it.
                _input = config.OpenStdin ? _terminal : null;
                pumps.Add(Pump(_terminal, "stdout", AttachProtocol.Stdout, owns: false));
            }
        }
        catch (Exception e) when (e is EngineException or SyscallException or IOException or SocketException)
        {
            return Failed(e.Message);
        }
        finally
        {
            consoleListener?.Dispose();
            if (consoleListener is not null)
                File.Delete(_directory.File(ContainerDirectory.ConsoleSocketName));
        }

        int pid = int.Parse(File.ReadAllText(pidFile).Trim());
        if (_terminal is not null)
        {
            if (AwaitGo() is { } size)
                Libc.SetWindowSize(_terminal, size.Rows, size.Columns);
            var start = _runtime.Run("start", _id);
            if (start.ExitCode != 0)
                return Failed(start.Error);
        }
        _store.ChangeState(_id, s => s with
        {
            Status = ContainerStatus.Running, Pid = pid, PidStartTime = ProcessIdentity.StartTime(pid) ?? 0, StartedAt = DateTimeOffset.UtcNow,
            FinishedAt = null, ExitCode = 0, Error = "", OomKilled = false,
            Health = Healthchecks.Command(config.Healthcheck) is null ? s.Health : Healthchecks.Started(s.Health),
        });
        RecordEvent("start");
        if (_sync is not null)
        {
            SyncSocket.Send(_sync, "started");
            _sync.Dispose();
            _sync = null;
        }
        return new ContainerRun(pid, [.. pumps]);

        ContainerRun? Failed(string message)
        {
            CloseStdio();
            _runtime.Run("delete", "--force", _id);
            int exitCode = ProgramFailure.ExitCodeOf(message);
            var first = _sync is not null;
            _store.ChangeState(_id, s => s with
            {
                Status = first ? ContainerStatus.Created : ContainerStatus.Exited, Pid = 0, PidStartTime = 0, ExitCode = exitCode, Error = message,
                FinishedAt = first ? s.FinishedAt : DateTimeOffset.UtcNow,
            });
            if (_sync is not null)
                SyncSocket.Send(_sync, $"error {exitCode} {message}");
            return null;
        }
    }

    /// <summary>Records a container event with the container's current name (it may have been renamed since the monitor started).</summary>
    private void RecordEvent(string action, params (string Key, string Value)[] extra)
        => _context.RecordEvent(_store.Get(_id) ?? _container, action, extra);

    /// <summary>OOM kills in the container's memory cgroup during this run (each run gets a new cgroup); 0 when it cannot be told.</summary>
    private ulong OomKills()
    {
        try
        {
            // The path the engine gave the container, not config.json read back: parsing the whole spec
            // would cost every exit more than the counter read itself.
            var inner = CgroupPathResolver.ResolveInner(_id, _context.Options.CgroupsPathOf(_id, _container.Config.Options.CgroupParent));
            return OomNotifier.CountKills(CgroupSystem.Detect(), inner, CgroupFileSystem.Host);
        }
        catch (Exception e) when (e is IOException or SyscallException or CgroupException or UnauthorizedAccessException)
        {
            _logger.LogWarning("container {Id}: cannot tell whether the OOM killer acted: {Error}", _id[..12], e.Message);
            return 0;
        }
    }

    /// <summary>
    /// Reaps children until the container's process is among them (orphans of the container's runtime are
    /// reparented here too). Should the container not have become our child, waits for it through a pidfd;
    /// its status is then unknown and recorded as 255.
    /// </summary>
    private int Reap(int containerPid)
    {
        if (_children.ReapUntil(containerPid) is { } status)
            return status;
        if (Pidfd.TryOpen(containerPid, out var pidfd))
        {
            using (pidfd)
                Pidfd.WaitReadable(pidfd!, -1);
        }
        return 255;
    }

    private Thread Pump(FileDescriptor source, string stream, byte kind, bool owns = true)
    {
        var thread = new Thread(() => Copy(source, stream, kind, owns)) { IsBackground = true, Name = stream };
        thread.Start();
        return thread;
    }

    private void Copy(FileDescriptor source, string stream, byte kind, bool owns)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int n;
            while ((n = source.Read(buffer, "container " + stream)) > 0)
            {
                var chunk = buffer[..n];
                Log(log => log.Write(stream, chunk));
                Broadcast(kind, chunk);
            }
        }
        catch (SyscallException)
        {
            // EIO from a pty master whose last slave closed: its end of file
        }
        finally
        {
            if (owns)
                source.Dispose();
        }
    }

    /// <summary>
    /// A full disk must not take the container's output down with it: attach clients still get it, and the
    /// container must never block on a pipe nobody reads (docker drops the lines too).
    /// </summary>
    private void Log(Action<JsonFileLog> write)
    {
        try
        {
            if (_log is not null)
                write(_log);
        }
        catch (IOException e)
        {
            _logger.LogWarning("container {Id}: log write failed, output dropped: {Error}", _id[..12], e.Message);
        }
    }

    private void Broadcast(byte kind, ReadOnlySpan<byte> data)
    {
        lock (_clientsLock)
        {
            for (int i = _clients.Count - 1; i >= 0; i--)
            {
                try
                {
                    AttachProtocol.Write(_clients[i], kind, data);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    _clients[i].Dispose();
                    _clients.RemoveAt(i);
                }
            }
        }
    }

    private void AcceptClients()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _attachListener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_clientsLock)
                _clients.Add(client);
            _firstClientAccepted.Set();
            new Thread(() => ReadClient(client)) { IsBackground = true, Name = "attach-client" }.Start();
        }
    }

    private void ReadClient(Socket client)
    {
        try
        {
            while (AttachProtocol.Read(client) is var (kind, payload))
            {
                switch (kind)
                {
                    case AttachProtocol.Stdin when payload.Length == 0:
                        // A terminal has no end of file of its own: only a pipe can be closed.
                        if (_terminal is null)
                            Interlocked.Exchange(ref _input, null)?.Dispose();
                        break;
                    case AttachProtocol.Stdin:
                        if (_input is { } input)
                            input.WriteAll(payload, "container stdin");
                        break;
                    case AttachProtocol.Resize when payload.Length == 4 && _terminal is { } terminal:
                        Libc.SetWindowSize(terminal, (ushort)(payload[0] << 8 | payload[1]), (ushort)(payload[2] << 8 | payload[3]));
                        break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or SyscallException or ObjectDisposedException)
        {
            // A client that went away or a container that closed its stdin: the other clients carry on.
        }
    }

    private void DisconnectClients(int exitCode)
    {
        lock (_clientsLock)
        {
            foreach (var client in _clients)
            {
                try
                {
                    AttachProtocol.WriteExit(client, exitCode);
                    client.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
                client.Dispose();
            }
            _clients.Clear();
        }
    }

    private void CloseStdio()
    {
        Interlocked.Exchange(ref _input, null)?.Dispose();
        Interlocked.Exchange(ref _terminal, null)?.Dispose();
    }

    /// <summary>
    /// On the first run (the CLI is waiting on the sync socket): reports "ready" and waits for the CLI's go ("go",
    /// "go attached" when it connected to the attach socket, either followed by ROWS COLUMNS, the terminal's first
    /// size) or its EOF. Restarts have nobody to wait for.
    /// </summary>
    private (ushort Rows, ushort Columns)? AwaitGo()
    {
        if (_sync is null)
            return null;
        SyncSocket.Send(_sync, "ready");
        var words = SyncSocket.Receive(_sync).Split(' ').ToList();
        if (words.Remove("attached"))
        {
            // The CLI's connect() returned once the kernel queued it; AcceptClients may not have taken it yet.
            // Bounded: a client that vanished from the backlog must not keep the container from starting.
            _firstClientAccepted.Wait(TimeSpan.FromSeconds(10));
        }
        if (words.Count == 3 && ushort.TryParse(words[1], out var rows) && ushort.TryParse(words[2], out var columns))
            return (rows, columns);
        return null;
    }
}
