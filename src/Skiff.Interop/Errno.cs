using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>A failed system call, named with what it was applied to, so the one-line message a user sees says what to look at.</summary>
public sealed class SyscallException : SkiffException
{
    public SyscallException(string syscall, string? target, int errno, string? context = null)
        : base(ErrorKinds.OfErrno(errno), Format(syscall, target, errno, context))
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

/// <summary>errno values: asm-generic's, which x86-64 and arm64 share.</summary>
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
    public const int E2BIG = 7;
    public const int ENOMEM = 12;
    public const int EXDEV = 18;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ETXTBSY = 26;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int EOPNOTSUPP = 95;
    public const int ENETUNREACH = 101;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
    public const int EDQUOT = 122;

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
