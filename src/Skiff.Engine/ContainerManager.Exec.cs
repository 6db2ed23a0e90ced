using System.Net.Sockets;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using UnixSocket = Skiff.Interop.Interop.Socket;

namespace Skiff.Engine;

/// <summary>The stdio an exec'd process gets: the CLI passes its own 0, 1 and 2.</summary>
public sealed record ExecStdio(FileDescriptor Stdin, FileDescriptor Stdout, FileDescriptor Stderr);

public sealed partial class ContainerManager
{
    /// <summary>
    /// `skiff exec [-i] [-t] [-d] [-e K=V] [-u USER] [-w DIR] CONTAINER CMD...`: runs a process in a running
    /// container through the runtime's exec; returns its exit status (0 with -d), 126/127 when it cannot be
    /// executed or found.
    /// </summary>
    public int Exec(string idOrName, ExecRequest request, ExecStdio stdio)
    {
        if (request.Command.Count == 0)
            throw new EngineException("exec needs a command to run in the container");
        var container = Reconcile(Require(idOrName));
        if (container.State.Status == ContainerStatus.Paused)
            throw new EngineException($"cannot exec in container {container.Name}: it is paused; unpause it first");
        if (container.State.Status != ContainerStatus.Running)
            throw new EngineException($"cannot exec in container {container.Name}: it is not running; start it first");
        if (request.WorkingDir is { } cwd && !cwd.StartsWith('/'))
            throw new EngineException($"invalid working directory \"{cwd}\": it must be an absolute path");
        foreach (var variable in request.Env)
            if (variable.IndexOf('=') <= 0)
                throw new EngineException($"invalid environment variable \"{variable}\": expected KEY=VALUE");

        var user = UserResolver.Resolve(container.Config.RootfsPath, request.User ?? (container.Config.User.Length > 0 ? container.Config.User : null));
        var args = new List<string> { "exec", "--user", $"{user.Uid}:{user.Gid}" };
        foreach (var gid in user.AdditionalGids)
            args.AddRange(["--additional-gids", gid.ToString()]);
        args.AddRange(["--cwd", request.WorkingDir ?? container.Config.WorkingDir]);
        foreach (var variable in request.Env)
            args.AddRange(["--env", variable]);
        if (request.Detach)
            args.Add("--detach");

        // docker's exec events: the action names the command, execID ties them together; a -d process's end is not seen.
        var execId = NameGenerator.NewId();
        var commandLine = string.Join(' ', request.Command);
        RecordEvent(container, $"exec_create: {commandLine}", ("execID", execId));
        RecordEvent(container, $"exec_start: {commandLine}", ("execID", execId));
        int status;
        try
        {
            status = RunExec(container, args, request, stdio);
        }
        catch (EngineException e) when (!request.Detach)
        {
            RecordEvent(container, "exec_die", ("execID", execId), ("exitCode", e.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            throw;
        }
        if (!request.Detach)
            RecordEvent(container, "exec_die", ("execID", execId), ("exitCode", status.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return status;
    }

    private int RunExec(ContainerRecord container, List<string> args, ExecRequest request, ExecStdio stdio)
    {
        var runtime = RuntimeOf(container);
        using var devNull = RuntimeClient.OpenDevNull();
        var stdin = request.Interactive && !request.Detach ? stdio.Stdin : devNull;
        if (!request.Tty)
        {
            args.Add(container.Id);
            args.AddRange(request.Command);
            var command = runtime.Spawn(args, stdin, request.Detach ? devNull : stdio.Stdout, request.Detach ? devNull : stdio.Stderr);
            return ExecStatus(container, command.Wait(), runtimeErrorShown: !request.Detach);
        }
        return ExecWithTerminal(container, runtime, args, request, stdin, stdio.Stdout);
    }

    private static int ExecStatus(ContainerRecord container, (int ExitCode, string? Error) result, bool runtimeErrorShown = false)
    {
        if (result.Error is null)
            return result.ExitCode;
        throw new EngineException($"cannot exec in container {container.Name}: {result.Error}", ContainerMonitor.ExitCodeOf(result.Error))
        {
            AlreadyShown = runtimeErrorShown,
        };
    }

    /// <summary>-t: the runtime sends the pty master on a console socket; its output goes to stdout, stdin to it.</summary>
    private int ExecWithTerminal(ContainerRecord container, RuntimeClient runtime, List<string> args, ExecRequest request, FileDescriptor stdin, FileDescriptor stdout)
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
                return ExecStatus(container, command.Wait());
            FileDescriptor? master = null;
            try
            {
                if (accepted.Wait(TimeSpan.FromSeconds(10)))
                {
                    using var connection = accepted.Result;
                    master = UnixSocket.ReceiveDescriptor((int)connection.Handle);
                }
                var output = master is null ? null : new Thread(() => Copy(master, stdout)) { IsBackground = true, Name = "exec-output" };
                output?.Start();
                if (master is not null && request.Interactive)
                    new Thread(() => Copy(stdin, master)) { IsBackground = true, Name = "exec-input" }.Start();
                var status = ExecStatus(container, command.Wait());
                output?.Join(TimeSpan.FromSeconds(2));
                return status;
            }
            finally
            {
                master?.Dispose();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static unsafe void Copy(FileDescriptor from, FileDescriptor to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                nint n;
                fixed (byte* start = buffer)
                    n = Libc.Read(from.Fd, start, buffer.Length);
                if (n < 0 && Errno.Last == Errno.EINTR)
                    continue;
                if (n <= 0)
                    return; // EOF, or EIO once the terminal's last process exited
                Libc.WriteAll(to, buffer.AsSpan(0, (int)n), "exec terminal");
            }
        }
        catch (Exception e) when (e is SyscallException or ObjectDisposedException)
        {
            // the other side went away
        }
    }
}
