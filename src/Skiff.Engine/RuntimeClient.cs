using System.Text.Json;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using Pidfd = Skiff.Interop.Interop.Pidfd;
using PosixSpawn = Skiff.Interop.Interop.Spawn;

namespace Skiff.Engine;

/// <summary>What a runtime command printed and how it ended.</summary>
public sealed record RuntimeResult(int ExitCode, string Stdout, string Error);

/// <summary>
/// Drives a runc-compatible runtime (skiff-runtime, runc, crun) through its command line, started with
/// posix_spawn: the caller is a multithreaded .NET process and must not fork. Errors come back from the
/// runtime's JSON --log, the one place both runc and skiff-runtime write them in a machine-readable way.
/// </summary>
public sealed class RuntimeClient(string executable, string root)
{
    public string Executable { get; } = executable;

    /// <summary>Runs a command that needs no stdio of its own; stdout is captured (state, ps), stdin is /dev/null.</summary>
    public RuntimeResult Run(params string[] args)
    {
        var (read, write) = Libc.Pipe();
        using (read)
        {
            RuntimeCommand command;
            using (write)
            using (var devNull = OpenDevNull())
                command = Spawn(args, devNull, write, devNull);
            // Read to EOF before waiting: its stderr is /dev/null and its log a memfd, so only this pipe can fill up,
            // and no thread-pool thread has to start for it (the monitor's delete is on `run --rm`'s critical path).
            string stdout = read.ReadAllText("runtime output");
            var (code, error) = command.Wait();
            return new RuntimeResult(code, stdout, code == 0 ? "" : error ?? $"{Path.GetFileName(Executable)} {args[0]} failed with exit status {code}");
        }
    }

    /// <summary>
    /// Starts a command with the given stdio (create and exec: the container's process inherits it) and no other
    /// descriptor of ours or our caller's, in a session of its own: the container's processes must not share the
    /// caller's controlling terminal (/dev/tty, TIOCSTI).
    /// </summary>
    public RuntimeCommand Spawn(IReadOnlyList<string> args, FileDescriptor stdin, FileDescriptor stdout, FileDescriptor stderr)
    {
        // The log is a memfd the runtime reopens through its own fd 3: nothing to clean up on disk, even after a crash.
        var log = FileDescriptor.Wrap(Libc.MemfdCreate("runtime-log", Libc.MFD_CLOEXEC), "memfd_create", "runtime-log");
        var argv = new List<string> { Executable, "--root", root, "--log", "/proc/self/fd/3", "--log-format", "json" };
        argv.AddRange(args);
        try
        {
            var pid = PosixSpawn.Start(Executable, argv, null, [(stdin.Fd, 0), (stdout.Fd, 1), (stderr.Fd, 2), (log.Fd, 3)], newSession: true, onlyGivenFds: true);
            return new RuntimeCommand(pid, log);
        }
        catch (SyscallException e)
        {
            log.Dispose();
            throw new EngineException(ErrorKind.Unavailable, $"cannot run the container runtime {Executable}: {SyscallException.Describe(e.Errno)}; install it or choose another runtime");
        }
    }

    public static FileDescriptor OpenDevNull() => FileDescriptor.Wrap(Libc.Open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open", "/dev/null");
}

/// <summary>A started runtime command; <see cref="Wait"/> reaps it and reads the error it logged.</summary>
public sealed class RuntimeCommand(int pid, FileDescriptor log)
{
    public int Pid { get; } = pid;

    /// <summary>The exit status, and the last error the runtime logged (null when it logged none).</summary>
    public (int ExitCode, string? Error) Wait()
    {
        int code;
        using (var pidfd = Pidfd.Open(Pid))
            code = Pidfd.WaitExit(pidfd);
        using (log)
        {
            if (code == 0)
                return (0, null);
            log.Rewind("runtime log");
            return (code, LastError(log.ReadAllText("runtime log")));
        }
    }

    private static string? LastError(string text)
    {
        string? message = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.TryGetProperty("level", out var level) && level.GetString() is "error" or "fatal" && root.TryGetProperty("msg", out var msg))
                    message = msg.GetString();
            }
            catch (JsonException)
            {
                message = line;
            }
        }
        return message;
    }
}
