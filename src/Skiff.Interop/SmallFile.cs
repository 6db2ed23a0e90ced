using System.Text;

namespace Skiff.Interop;

/// <summary>
/// Whole-file reads and writes of small files (cgroup control files, /proc files, the runtime's state files)
/// in one open, read or write, close. FileStream's open path adds fstat, flock (its FileShare emulation),
/// fstatfs, ftruncate and lseek: five extra system calls per file, on a container start that touches ~40.
/// Failures are thrown as the exception types File.* throws (FileNotFoundException, UnauthorizedAccessException,
/// IOException whose HResult is the errno), so callers keep one way of handling I/O errors.
/// </summary>
public static unsafe class SmallFile
{
    public static string ReadAllText(string path) => Encoding.UTF8.GetString(ReadAllBytes(path));

    public static byte[] ReadAllBytes(string path)
    {
        int fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw ToException(Errno.Last, "open", path);
        return ReadToEndAndClose(fd, path);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading as seen from <paramref name="root"/> (a container's rootfs): every
    /// component and symlink is resolved inside it (openat2 RESOLVE_IN_ROOT), so an image's /etc/passwd that is a
    /// symlink to /etc/shadow opens the container's file, never the host's. Null when it does not exist. The container
    /// decides its size: read it in bounded pieces, never whole.
    /// </summary>
    public static FileStream? TryOpenInRoot(FileDescriptor root, string path)
    {
        int fd = Interop.Libc.TryOpenAt2(root, path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC,
            Interop.Libc.RESOLVE_IN_ROOT | Interop.Libc.RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
            return Errno.Last == Errno.ENOENT ? null : throw ToException(Errno.Last, "openat2", path);
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
    }

    private static byte[] ReadToEndAndClose(int fd, string path)
    {
        try
        {
            // proc and cgroup files report size 0, so read until EOF instead of trusting fstat.
            var buffer = new byte[4096];
            int length = 0;
            while (true)
            {
                if (length == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2);
                nint n;
                fixed (byte* p = &buffer[length])
                    n = Interop.Libc.Read(fd, p, buffer.Length - length);
                if (n < 0)
                {
                    if (Errno.Last == Errno.EINTR) continue;
                    throw ToException(Errno.Last, "read", path);
                }
                if (n == 0)
                    return buffer.AsSpan(0, length).ToArray();
                length += (int)n;
            }
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }

    public static void WriteAllText(string path, string text, bool create = false, uint mode = 0x1a4 /* 0644 */)
        => WriteAllBytes(path, Encoding.UTF8.GetBytes(text), create, mode);

    /// <summary>
    /// Truncates and writes <paramref name="data"/> with a single write(2), so a kernel control file sees the
    /// whole value at once. Without <paramref name="create"/> a missing file is an error, never created (runc's
    /// cgroups.WriteFile does the same: a control file that is not there must not become a regular file).
    /// </summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data, bool create = false, uint mode = 0x1a4 /* 0644 */)
    {
        int flags = Interop.Libc.O_WRONLY | Interop.Libc.O_TRUNC | Interop.Libc.O_CLOEXEC | (create ? Interop.Libc.O_CREAT : 0);
        int fd = Interop.Libc.Open(path, flags, (int)mode);
        if (fd < 0)
            throw ToException(Errno.Last, "open", path);
        try
        {
            var remaining = data;
            do
            {
                nint n;
                fixed (byte* p = remaining)
                    n = Interop.Libc.Write(fd, p, remaining.Length);
                if (n < 0)
                {
                    if (Errno.Last == Errno.EINTR) continue;
                    throw ToException(Errno.Last, "write", path);
                }
                remaining = remaining[(int)n..];
            }
            while (remaining.Length > 0);
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }

    /// <summary>mkdir(2) of one level; an existing directory is fine, a missing parent is DirectoryNotFoundException.</summary>
    public static void CreateDirectory(string path, uint mode = 0x1ed /* 0755 */)
    {
        if (Interop.Libc.Mkdir(path, mode) == 0)
            return;
        int errno = Errno.Last;
        if (errno == Errno.EEXIST && Directory.Exists(path))
            return;
        throw errno == Errno.ENOENT
            ? new DirectoryNotFoundException($"mkdir {path}: parent directory does not exist")
            : ToException(errno, "mkdir", path);
    }

    private static Exception ToException(int errno, string syscall, string path)
    {
        var message = $"{syscall} {path}: {SyscallException.Describe(errno)}";
        return errno switch
        {
            Errno.ENOENT => new FileNotFoundException(message, path),
            Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException(message),
            _ => new IOException(message, errno),
        };
    }
}
