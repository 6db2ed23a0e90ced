using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Tests;

/// <summary>lstat of a path for assertions: type, mode bits, owner, inode, device numbers, times.</summary>
internal sealed record FileStatus(uint Type, uint Permissions, uint Uid, uint Gid, ulong Inode, uint RdevMajor, uint RdevMinor, long MtimeSeconds, uint Nlink)
{
    public static FileStatus? Of(string path)
    {
        using var directory = FileDescriptor.Wrap(Libc.Open(Path.GetDirectoryName(path)!, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", path);
        if (Libc.TryStatAt(directory, Path.GetFileName(path)) is not { } s)
            return null;
        return new FileStatus(s.Mode & Libc.S_IFMT, s.Mode & 0xfffu, s.Uid, s.Gid, s.Ino, s.RdevMajor, s.RdevMinor, s.Mtime.Seconds, s.Nlink);
    }

    public static byte[]? Xattr(string path, string name) => Libc.GetXattrNoFollow(path, name);
}
