using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>A failed system call, named with what it was applied to, so the one-line message a user sees says what to look at.</summary>
public sealed class SyscallException : Exception
{
    public SyscallException(string syscall, string? target, int errno, string? context = null)
        : base(Format(syscall, target, errno, context))
    {
        Syscall = syscall;
        Target = target;
        Errno = errno;
    }

    public string Syscall { get; }
    public string? Target { get; }
    public int Errno { get; }

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    private static string Format(string syscall, string? target, int errno, string? context)
    {
        var what = target is null ? syscall : $"{syscall} {target}";
        var message = $"{what}: {Describe(errno)}";
        return context is null ? message : $"{context}: {message}";
    }
}

public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int ECHILD = 10;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENXIO = 6;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;

    /// <summary>The errno of the last P/Invoke declared with SetLastError.</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>Throws when a libc call returned -1, naming the call and its target.</summary>
    public static int Check(int result, string syscall, string? target = null)
    {
        if (result == -1)
            throw new SyscallException(syscall, target, Last);
        return result;
    }

    public static long Check(long result, string syscall, string? target = null)
    {
        if (result == -1)
            throw new SyscallException(syscall, target, Last);
        return result;
    }
}
