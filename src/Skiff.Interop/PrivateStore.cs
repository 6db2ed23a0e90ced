namespace Skiff.Interop;

/// <summary>
/// Directories and files of a store (images, containers, volumes, runtime state) that only their owner may reach.
/// A container writes files into its rootfs and volumes as root, setuid bits included; if any other host user could
/// walk into the store, they could run those (CVE-2021-41091) or read every layer, volume and log. So the modes are
/// set explicitly, never left to the umask, and a store made looser by an older version is tightened when it is
/// next opened.
/// </summary>
public static class PrivateStore
{
    public const uint DirectoryMode = 0x1c0; // 0700
    public const uint FileMode = 0x180; // 0600

    /// <summary>
    /// Creates <paramref name="path"/> 0700 (its missing parents with the usual 0755: they are the system's, such as
    /// /var/lib), or tightens it to 0700 when it exists with more. A symlink to a directory is followed: a store
    /// moved to another disk and linked back is common.
    /// </summary>
    public static void EnsureDirectory(string path)
    {
        if (Interop.Libc.Mkdir(path, DirectoryMode) == 0)
        {
            // mkdir's mode passes through the umask, which may take the owner's bits too.
            Errno.Check(Interop.Libc.Chmod(path, DirectoryMode), "chmod", path);
            return;
        }
        int errno = Errno.Last;
        if (errno == Errno.ENOENT && Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path)) is { Length: > 0 } parent)
        {
            Directory.CreateDirectory(parent);
            EnsureDirectory(path);
            return;
        }
        if (errno != Errno.EEXIST)
            throw new SyscallException("mkdir", path, errno);
        var status = Interop.Libc.TryStatAt(FileDescriptor.CurrentDirectory, path, followLastSymlink: true) ?? throw new SyscallException("stat", path, Errno.ENOENT);
        if ((status.Mode & 0xF000) != 0x4000)
            throw new IOException($"{path} is not a directory: move it away so that the store can be created there");
        if ((status.Mode & 0xFFF) != DirectoryMode)
            Errno.Check(Interop.Libc.Chmod(path, DirectoryMode), "chmod", path);
    }

    /// <summary>Creates <paramref name="path"/> empty and 0600 if it is missing, or tightens it to 0600 if it is looser.</summary>
    public static void EnsureFile(string path)
    {
        using var fd = FileDescriptor.Wrap(
            Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CREAT | Interop.Libc.O_NOFOLLOW | Interop.Libc.O_CLOEXEC, (int)FileMode), "open", path);
        Tighten(fd, path);
    }

    /// <summary>Tightens <paramref name="path"/> to 0600 when it exists (a database's -wal and -shm files).</summary>
    public static void TightenIfPresent(string path)
    {
        int fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_NOFOLLOW | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            if (Errno.Last == Errno.ENOENT)
                return;
            throw new SyscallException("open", path, Errno.Last);
        }
        using var owned = FileDescriptor.Wrap(fd, "open", path);
        Tighten(owned, path);
    }

    private static void Tighten(FileDescriptor fd, string path)
    {
        var status = Interop.Libc.TryStatAt(fd, "", followLastSymlink: true) ?? throw new SyscallException("fstat", path, Errno.ENOENT);
        if ((status.Mode & 0xFFF) != FileMode)
            Errno.Check(Interop.Libc.Fchmod(fd.Fd, FileMode), "fchmod", path);
    }
}
