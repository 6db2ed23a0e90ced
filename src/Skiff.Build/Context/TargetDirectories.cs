using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>
/// The directories a copy writes into, below a rootfs: each resolved once by the kernel inside the rootfs (openat2
/// RESOLVE_IN_ROOT: "..", absolute and relative symlinks all stay in it) and kept open; the missing ones are created
/// 0755 and given <paramref name="owner"/>: a COPY's --chown owner (root's without), as BuildKit's and buildah's
/// copies give it to every directory they create (fsutil's MkdirAll), an existing directory keeping its own.
/// </summary>
internal sealed class TargetDirectories(FileDescriptor root, string instruction, (uint Uid, uint Gid) owner) : IDisposable
{
    private const ulong InRoot = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;
    private readonly Dictionary<string, FileDescriptor> _open = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes the absolute container path <paramref name="directory"/> under <paramref name="rootfs"/> with its missing
    /// parents (given <paramref name="createdOwner"/>), resolved inside the rootfs; false when it was a directory
    /// already (nothing written).
    /// </summary>
    public static bool Ensure(string rootfs, string directory, string instruction, (uint Uid, uint Gid) createdOwner)
    {
        using var root = FileDescriptor.Wrap(Libc.Open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", rootfs);
        using var targets = new TargetDirectories(root, instruction, createdOwner);
        string relative = directory.Trim('/') is { Length: > 0 } inner ? inner : ".";
        if (targets.IsDirectory(relative))
            return false;
        targets.Open(relative);
        return true;
    }

    /// <summary>Whether <paramref name="path"/> (relative to the rootfs) is a directory, following symlinks inside the rootfs.</summary>
    public bool IsDirectory(string path)
    {
        int fd = Libc.TryOpenAt2(root, path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, InRoot);
        if (fd < 0)
            return false;
        Libc.Close(fd);
        return true;
    }

    /// <summary>The directory <paramref name="path"/> (relative to the rootfs, "." for it), created with its parents when missing.</summary>
    public FileDescriptor Open(string path)
    {
        if (_open.TryGetValue(path, out var open))
            return open;
        int fd = Libc.TryOpenAt2(root, path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, InRoot);
        if (fd < 0 && Errno.Last != Errno.ENOENT)
            throw Failure(path, Errno.Last);
        var directory = fd >= 0 ? new FileDescriptor(fd) : Create(path);
        _open[path] = directory;
        return directory;
    }

    public void Dispose()
    {
        foreach (var directory in _open.Values)
            directory.Dispose();
    }

    private FileDescriptor Create(string path)
    {
        int slash = path.LastIndexOf('/');
        var parent = Open(slash < 0 ? "." : path[..slash]);
        string name = path[(slash + 1)..];
        if (Libc.MkdirAt(parent.Fd, name, 0x1ed) == 0)
        {
            Errno.Check(Libc.FchownAt(parent.Fd, name, owner.Uid, owner.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", "/" + path);
            // mkdir's mode went through the umask.
            Errno.Check(Libc.FchmodAt(parent.Fd, name, 0x1ed, 0), "fchmodat", "/" + path);
        }
        else if (Errno.Last != Errno.EEXIST)
        {
            throw new SyscallException("mkdirat", "/" + path, Errno.Last);
        }
        int fd = Libc.TryOpenAt2(root, path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, InRoot);
        return fd >= 0 ? new FileDescriptor(fd) : throw Failure(path, Errno.Last);
    }

    private Exception Failure(string path, int errno) => errno switch
    {
        Errno.ENOTDIR => new BuildException($"{instruction} destination /{path}: it or one of its parents is a file, not a directory"),
        Errno.ENOENT => new BuildException($"{instruction} destination /{path} is a symlink to a directory that does not exist in the image"),
        _ => new SyscallException("openat2", "/" + path, errno),
    };
}
