using System.Text;
using Skiff.Interop;
using Skiff.Oci;
using static Skiff.Interop.Interop;

namespace Skiff.Runtime.Hooks;

/// <summary>
/// Runs OCI hooks from the runtime namespace with the container state on stdin
/// (runtime-spec config.md#posix-platform-hooks). The spec's failure semantics differ per
/// phase, so callers decide: <see cref="RunAll"/> throws on the first failure,
/// <see cref="RunAllWarnOnly"/> logs and continues (poststart, poststop).
/// </summary>
public static class HookRunner
{
    public static void RunAll(string phase, IEnumerable<Hook>? hooks, byte[] stateJson)
    {
        if (hooks is null)
            return;
        foreach (var hook in hooks)
            Run(phase, hook, stateJson);
    }

    public static void RunAllWarnOnly(string phase, IEnumerable<Hook>? hooks, byte[] stateJson, Action<string> warn)
    {
        if (hooks is null)
            return;
        foreach (var hook in hooks)
        {
            try
            {
                Run(phase, hook, stateJson);
            }
            catch (RuntimeException e)
            {
                warn(e.Message);
            }
        }
    }

    public static void Run(string phase, Hook hook, byte[] stateJson)
    {
        var argv = hook.Args is { Count: > 0 } args ? args : [hook.Path];
        var (stdinRead, stdinWrite) = Libc.Pipe();
        int pid;
        using (stdinRead)
        {
            try
            {
                pid = Spawn.Start(hook.Path, argv, hook.Env ?? [], [(stdinRead.Fd, 0)]);
            }
            catch (SyscallException e)
            {
                stdinWrite.Dispose();
                throw new RuntimeException(e.Kind, $"{phase} hook {hook.Path}: cannot start: {SyscallException.Describe(e.Errno)}", e);
            }
        }
        using var pidfd = Pidfd.Open(pid);
        using (stdinWrite)
        {
            try
            {
                Libc.WriteAll(stdinWrite, stateJson, "hook stdin");
            }
            catch (SyscallException)
            {
                // A hook may ignore its stdin and exit early (EPIPE): its exit status decides.
            }
        }
        int timeoutMs = hook.Timeout is > 0 ? checked(hook.Timeout.Value * 1000) : -1;
        if (!Pidfd.WaitReadable(pidfd, timeoutMs))
        {
            Pidfd.SendSignal(pidfd, 9);
            Pidfd.WaitExit(pidfd);
            throw new RuntimeException(ErrorKind.Internal, $"{phase} hook {hook.Path} timed out after {hook.Timeout} s");
        }
        int status = Pidfd.WaitExit(pidfd);
        if (status != 0)
            throw new RuntimeException(ErrorKind.Internal, $"{phase} hook {hook.Path} failed with {Describe(status)}");
    }

    private static string Describe(int status)
        => status > 128 ? $"signal {status - 128}" : $"exit status {status}";
}
