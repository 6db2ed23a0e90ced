using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>An owned file descriptor. Every fd above Skiff.Interop travels in one of these.</summary>
public sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor() : base(invalidHandleValue: -1, ownsHandle: true) { }

    public FileDescriptor(int fd, bool ownsHandle = true) : base(invalidHandleValue: -1, ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    /// <summary>AT_FDCWD for the *at calls: a relative path from the working directory, an absolute one as it is.</summary>
    public static FileDescriptor CurrentDirectory { get; } = new(Interop.Libc.AT_FDCWD, ownsHandle: false);

    protected override bool ReleaseHandle() => Interop.Libc.Close((int)handle) == 0;

    /// <summary>Wraps a raw result of a libc call, throwing the named error when it is -1.</summary>
    public static FileDescriptor Wrap(int fd, string syscall, string? target = null)
        => new(Errno.Check(fd, syscall, target));
}
