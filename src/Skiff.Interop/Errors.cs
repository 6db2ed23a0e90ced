using Skiff.Interop;

namespace Skiff;

/// <summary>
/// What kind of failure an error is, as containerd's errdefs: every front end maps kinds, never exception types,
/// to what its callers understand (the CLI to exit codes, the Docker API to HTTP statuses, the CRI to gRPC codes).
/// </summary>
public enum ErrorKind
{
    /// <summary>A failure of the engine or of a program it ran that the caller cannot fix by asking differently.</summary>
    Internal,
    /// <summary>The request itself is wrong: a malformed name, size, signal, path or combination of options.</summary>
    InvalidArgument,
    /// <summary>The object named (container, image, volume, file, blob) does not exist.</summary>
    NotFound,
    /// <summary>The object to be made exists already (a name in use, a volume that exists).</summary>
    AlreadyExists,
    /// <summary>Another operation holds or changed the object meanwhile (a lock, a concurrent removal).</summary>
    Conflict,
    /// <summary>The object is not in the state the operation needs (not running, paused, in use, still referenced).</summary>
    FailedPrecondition,
    /// <summary>The caller may not do this (file modes, capabilities, registry authorization).</summary>
    PermissionDenied,
    /// <summary>A limit ran out: disk space, memory, descriptors, a quota.</summary>
    ResourceExhausted,
    /// <summary>Something the operation needs cannot be reached now (a registry, a runtime, a socket); retrying may work.</summary>
    Unavailable,
    /// <summary>The caller cancelled the operation.</summary>
    Canceled,
}

/// <summary>The base of every error Skiff raises on purpose: a kind, and a one-sentence message naming the object and what to do.</summary>
public abstract class SkiffException : Exception
{
    protected SkiffException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
        => Kind = kind;

    public ErrorKind Kind { get; }
}

/// <summary>The kind of any exception, Skiff's own or the system's, for a front end's one mapping.</summary>
public static class ErrorKinds
{
    /// <summary>
    /// The kind of <paramref name="error"/>: a <see cref="SkiffException"/>'s own, else read from the system exception
    /// (.NET raises an <see cref="IOException"/> whose HResult is the errno on Linux).
    /// </summary>
    public static ErrorKind Of(Exception error) => error switch
    {
        SkiffException skiff => skiff.Kind,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Of(aggregate.InnerExceptions[0]),
        OperationCanceledException => ErrorKind.Canceled,
        UnauthorizedAccessException => ErrorKind.PermissionDenied,
        FileNotFoundException or DirectoryNotFoundException => ErrorKind.NotFound,
        PathTooLongException => ErrorKind.InvalidArgument,
        IOException io => OfErrno(io.HResult),
        // What Process.Start throws when a program cannot be started (the errno of execve), and SocketException, whose
        // NativeErrorCode is the errno on Linux.
        System.ComponentModel.Win32Exception win32 => OfErrno(win32.NativeErrorCode),
        _ => ErrorKind.Internal,
    };

    /// <summary>
    /// Whether <paramref name="error"/> is a failure meant for the user (a message is enough) rather than a bug (whose
    /// stack trace matters): every <see cref="SkiffException"/>, and system exceptions of a kind other than Internal.
    /// </summary>
    public static bool IsExpected(Exception error)
        => error is SkiffException or IOException or UnauthorizedAccessException or OperationCanceledException || Of(error) != ErrorKind.Internal;

    /// <summary>The kind of a failed system call's errno.</summary>
    public static ErrorKind OfErrno(int errno) => errno switch
    {
        Errno.ENOENT or Errno.ESRCH or Errno.ENXIO or Errno.ENODEV => ErrorKind.NotFound,
        Errno.EEXIST or Errno.ENOTEMPTY => ErrorKind.AlreadyExists,
        Errno.EPERM or Errno.EACCES or Errno.EROFS => ErrorKind.PermissionDenied,
        Errno.EINVAL or Errno.ENAMETOOLONG or Errno.ENOTDIR or Errno.EISDIR or Errno.ELOOP
            or Errno.E2BIG or Errno.EXDEV => ErrorKind.InvalidArgument,
        Errno.EBUSY or Errno.ETXTBSY => ErrorKind.FailedPrecondition,
        Errno.ENOSPC or Errno.EDQUOT or Errno.ENOMEM or Errno.EMFILE or Errno.ENFILE
            or Errno.EFBIG => ErrorKind.ResourceExhausted,
        Errno.EAGAIN or Errno.ECONNREFUSED or Errno.ETIMEDOUT or Errno.EHOSTUNREACH
            or Errno.ENETUNREACH => ErrorKind.Unavailable,
        Errno.EINTR => ErrorKind.Canceled,
        _ => ErrorKind.Internal,
    };
}
