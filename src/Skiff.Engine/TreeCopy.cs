using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// Copies a directory tree as `cp -a` would for what containers need: symlinks stay links (never followed),
/// directories and files keep their mode and owner.
/// </summary>
public static class TreeCopy
{
    public static void Copy(string source, string target)
    {
        using var root = FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/");
        CopyDirectory(root, new DirectoryInfo(source), target);
    }

    private static void CopyDirectory(FileDescriptor root, DirectoryInfo source, string target)
    {
        Directory.CreateDirectory(target);
        KeepOwnerAndMode(root, source.FullName, target, isLink: false);
        foreach (var entry in source.EnumerateFileSystemInfos())
        {
            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(destination, link);
                KeepOwnerAndMode(root, entry.FullName, destination, isLink: true);
            }
            else if (entry is DirectoryInfo directory)
            {
                CopyDirectory(root, directory, destination);
            }
            else
            {
                File.Copy(entry.FullName, destination);
                KeepOwnerAndMode(root, entry.FullName, destination, isLink: false);
            }
        }
    }

    private static void KeepOwnerAndMode(FileDescriptor root, string source, string target, bool isLink)
    {
        var status = Libc.TryStatAt(root, source) ?? throw new IOException($"{source} vanished while it was copied");
        Errno.Check(Libc.FchownAt(root.Fd, target, status.Uid, status.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", target);
        // chown clears setuid/setgid bits, so the mode comes after it; a symlink has no mode of its own.
        if (!isLink)
            Errno.Check(Libc.Chmod(target, (uint)(status.Mode & 0xFFF)), "chmod", target);
    }
}
