using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using Pidfd = Skiff.Interop.Interop.Pidfd;

namespace Skiff.Engine;

/// <summary>
/// The caller's side of an exec'd process's stdio (the CLI's own 0, 1 and 2): the engine relays between these and
/// pipes or a pty of its own, the process never gets them.
/// </summary>
public sealed class ExecStdio(FileDescriptor stdin, FileDescriptor stdout, FileDescriptor stderr)
{
    private readonly Lock _lock = new();
    private FileDescriptor? _terminal;
    private (ushort Rows, ushort Columns)? _size;

    public FileDescriptor Stdin { get; } = stdin;
    public FileDescriptor Stdout { get; } = stdout;
    public FileDescriptor Stderr { get; } = stderr;

    /// <summary>Without -t: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the caller's process go to the exec'd process (docker's --sig-proxy).</summary>
    public bool ForwardSignals { get; init; }

    /// <summary>With -t: the caller's window size, given before the exec (the terminal's first size) and whenever it changes.</summary>
    public void Resize(ushort rows, ushort columns)
    {
        lock (_lock)
        {
            _size = (rows, columns);
            if (_terminal is { } terminal)
                SetSize(terminal, rows, columns);
        }
    }

    /// <summary>The exec'd process's terminal while it runs (null after): sized now and on every <see cref="Resize"/>.</summary>
    internal void UseTerminal(FileDescriptor? terminal)
    {
        lock (_lock)
        {
            _terminal = terminal;
            if (terminal is not null && _size is var (rows, columns))
                SetSize(terminal, rows, columns);
        }
    }

    private static void SetSize(FileDescriptor terminal, ushort rows, ushort columns)
    {
        try
        {
            Libc.SetWindowSize(terminal, rows, columns);
        }
        catch (SyscallException)
        {
            // the process exited and its terminal with it
        }
    }
}

/// <summary>
/// Runs processes in running containers through the runtime's exec. Safe for concurrent calls: every exec has its
/// own pipes, terminal and relay.
/// </summary>
public sealed class ContainerExec
{
    private readonly ContainerContext _context;

    internal ContainerExec(ContainerContext context) => _context = context;

    /// <summary>
    /// Runs <see cref="ExecRequest.Command"/> in a running container; returns its exit status (0 when detached).
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for a request that is not valid; NotFound; FailedPrecondition
    /// when it is not running; NotFound/PermissionDenied with <see cref="EngineException.ContainerCommand"/> when the
    /// command cannot be found or executed.</exception>
    public int Exec(string idOrName, ExecRequest request, ExecStdio stdio)
    {
        if (request.Command.Count == 0)
            throw new EngineException(ErrorKind.InvalidArgument, "an exec needs a command to run in the container");
        var container = _context.Reconcile(_context.Require(idOrName));
        if (container.State.Status == ContainerStatus.Paused)
            throw new EngineException(ErrorKind.FailedPrecondition, $"cannot exec in container {container.Name}: it is paused; unpause it first");
        if (container.State.Status != ContainerStatus.Running)
            throw new EngineException(ErrorKind.FailedPrecondition, $"cannot exec in container {container.Name}: it is not running; start it first");
        if (request.WorkingDir is { } cwd && !cwd.StartsWith('/'))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid working directory \"{cwd}\": it must be an absolute path");
        foreach (var variable in request.Env)
            if (variable.IndexOf('=') <= 0)
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid environment variable \"{variable}\": expected KEY=VALUE");

        var args = RuntimeArguments(container, request.User, request.WorkingDir, request.Env);
        if (request.Detach)
            args.Add("--detach");

        var execId = RecordStart(_context, container, request.Command);
        ExecResult result;
        try
        {
            result = RunExec(container, args, request, stdio);
        }
        catch (EngineException) when (!request.Detach)
        {
            RecordExit(_context, container, execId, 125); // the engine's failure: no process ran
            throw;
        }
        int status = result.Error is null ? result.ExitCode : ProgramFailure.ExitCodeOf(result.Error);
        if (!request.Detach)
            RecordExit(_context, container, execId, status);
        if (result.Error is not null)
            throw ProgramFailure.Exception(status, $"cannot exec in container {container.Name}: {result.Error}", alreadyShown: result.ErrorShown);
        return status;
    }

    /// <summary>
    /// `RUNTIME exec` up to its own options: the user (the container's unless given, resolved in its rootfs), the
    /// working directory (the container's unless given) and extra variables. What docker's exec and health checks share.
    /// </summary>
    internal static List<string> RuntimeArguments(ContainerRecord container, string? user, string? workingDir, IReadOnlyList<string> env)
    {
        // docker: an exec'd process (a health check's too) has the container's added groups.
        var resolved = UserResolver.AddGroups(
            UserResolver.Resolve(container.Config.RootfsPath, user ?? (container.Config.User.Length > 0 ? container.Config.User : null)),
            container.Config.RootfsPath, container.Config.Options.GroupAdd);
        var args = new List<string> { "exec", "--user", $"{resolved.Uid}:{resolved.Gid}" };
        foreach (var gid in resolved.AdditionalGids)
            args.AddRange(["--additional-gids", gid.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["--cwd", workingDir ?? container.Config.WorkingDir]);
        foreach (var variable in env)
            args.AddRange(["--env", variable]);
        return args;
    }

    /// <summary>docker's exec_create and exec_start events: the action names the command, the returned execID ties them to exec_die.</summary>
    internal static string RecordStart(ContainerContext context, ContainerRecord container, IReadOnlyList<string> command)
    {
        var execId = NameGenerator.NewId();
        var commandLine = string.Join(' ', command);
        context.RecordEvent(container, $"exec_create: {commandLine}", ("execID", execId));
        context.RecordEvent(container, $"exec_start: {commandLine}", ("execID", execId));
        return execId;
    }

    /// <summary>docker's exec_die, with the status the process ended with (a detached process's end is not seen).</summary>
    internal static void RecordExit(ContainerContext context, ContainerRecord container, string execId, int status)
        => context.RecordEvent(container, "exec_die", ("execID", execId), ("exitCode", status.ToString(CultureInfo.InvariantCulture)));

    /// <summary>How the runtime's exec ended: the process's status, or the runtime's error (already on the caller's stderr when <c>ErrorShown</c>).</summary>
    private readonly record struct ExecResult(int ExitCode, string? Error, bool ErrorShown = false)
    {
        public static ExecResult Of((int ExitCode, string? Error) result, bool errorShown = false) => new(result.ExitCode, result.Error, errorShown);
    }

    /// <summary>
    /// The runtime, and so the process, runs in a session of its own with the engine's pipes for stdio, relayed to and
    /// from the caller's descriptors (see <see cref="StdioRelay"/>): no descriptor or controlling terminal of the
    /// caller's reaches the container. Its stdin without -i is a pipe already at end of file.
    /// </summary>
    private ExecResult RunExec(ContainerRecord container, List<string> args, ExecRequest request, ExecStdio stdio)
    {
        var runtime = _context.RuntimeOf(container);
        if (request.Tty)
            return ExecWithTerminal(container, runtime, args, request, stdio);
        args.Add(container.Id);
        args.AddRange(request.Command);
        if (request.Detach)
        {
            // Nobody reads what a detached process writes: /dev/null, which no ioctl or reopening turns into more.
            using var devNull = RuntimeClient.OpenDevNull();
            return ExecResult.Of(runtime.Spawn(args, devNull, devNull, devNull).Wait());
        }
        var (stdinRead, stdinWrite) = Libc.Pipe();
        var (stdoutRead, stdoutWrite) = Libc.Pipe();
        var (stderrRead, stderrWrite) = Libc.Pipe();
        RuntimeCommand command;
        using (stdinRead)
        using (stdoutWrite)
        using (stderrWrite)
        {
            try
            {
                command = runtime.Spawn(args, stdinRead, stdoutWrite, stderrWrite);
            }
            catch
            {
                stdinWrite.Dispose();
                stdoutRead.Dispose();
                stderrRead.Dispose();
                throw;
            }
        }
        using var relay = new StdioRelay();
        relay.Output(stdoutRead, stdio.Stdout, "exec-stdout");
        relay.Output(stderrRead, stdio.Stderr, "exec-stderr");
        if (request.Interactive)
            relay.Input(stdio.Stdin, stdinWrite, stdinWrite.Dispose);
        else
            stdinWrite.Dispose();
        (int, string?) result;
        using (stdio.ForwardSignals ? new SignalProxy(command.Pid) : null)
            result = command.Wait();
        relay.Stop();
        return ExecResult.Of(result, errorShown: true);
    }

    /// <summary>-t: the runtime sends the pty master on a console socket; it is relayed to the caller's stdout, and stdin to it with -i.</summary>
    private static ExecResult ExecWithTerminal(ContainerRecord container, RuntimeClient runtime, List<string> args, ExecRequest request, ExecStdio stdio)
    {
        var directory = Directory.CreateTempSubdirectory("skiff-exec-").FullName;
        try
        {
            var socketPath = Path.Combine(directory, "console.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);
            var accepted = listener.AcceptAsync();
            args.AddRange(["--tty", "--console-socket", socketPath, container.Id]);
            args.AddRange(request.Command);
            using var devNull = RuntimeClient.OpenDevNull();
            var command = runtime.Spawn(args, devNull, devNull, devNull);
            if (request.Detach)
                return ExecResult.Of(command.Wait());
            FileDescriptor? master = null;
            try
            {
                if (accepted.Wait(TimeSpan.FromSeconds(10)))
                {
                    using var connection = accepted.Result;
                    master = connection.ReceiveDescriptor();
                }
                using var relay = new StdioRelay();
                if (master is not null)
                {
                    stdio.UseTerminal(master);
                    relay.Output(master, stdio.Stdout, "exec-terminal", ownsSource: false);
                    if (request.Interactive)
                        relay.Input(stdio.Stdin, master, atEnd: null);
                }
                var result = command.Wait();
                relay.Stop();
                return ExecResult.Of(result);
            }
            finally
            {
                stdio.UseTerminal(null);
                master?.Dispose();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Without a terminal the runtime is in a session of its own, so ^C at the caller's terminal reaches only the
    /// caller: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to this process go to the runtime, which passes them to the
    /// exec'd process (as runc exec does).
    /// </summary>
    private sealed class SignalProxy : IDisposable
    {
        private readonly FileDescriptor? _runtime;
        private readonly List<PosixSignalRegistration> _registrations = [];

        public SignalProxy(int runtimePid)
        {
            if (!Pidfd.TryOpen(runtimePid, out _runtime))
                return;
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    try
                    {
                        Pidfd.SendSignal(_runtime!, Libc.SignalNumber(context.Signal));
                    }
                    catch (Exception e) when (e is SyscallException or ObjectDisposedException)
                    {
                        // it exited meanwhile: its status is what exec reports
                    }
                }));
            }
        }

        public void Dispose()
        {
            foreach (var registration in _registrations)
                registration.Dispose();
            _runtime?.Dispose();
        }
    }
}
