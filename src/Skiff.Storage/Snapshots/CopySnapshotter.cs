using Skiff.Interop;
using Skiff.Oci.Image;
using static Skiff.Interop.Interop;

namespace Skiff.Storage.Snapshots;

/// <summary>
/// The fallback for hosts without overlayfs (some nested or rootless setups, file systems overlay cannot use as
/// upper): a snapshot is a private copy of its layers applied bottom to top, bind-mounted (read-only for a
/// view). Layers are stored exactly as for <see cref="OverlaySnapshotter"/>, overlay whiteouts included, and the
/// copy applies them the way overlayfs would show them: a 0/0 character device deletes the path below it, and a
/// directory marked <c>trusted.overlay.opaque=y</c> hides everything lower layers had in it.
/// Costs a full copy per container (file data through copy_file_range/reflink where the file system can).
/// </summary>
public sealed class CopySnapshotter(string root) : SnapshotterBase(root)
{
    protected override void Populate(string directory, IReadOnlyList<Digest> chainIds, bool readOnly)
    {
        string rootfs = Path.Combine(directory, "rootfs");
        Directory.CreateDirectory(rootfs);
        Errno.Check(Libc.Chmod(rootfs, 0x1ed), "chmod", rootfs);
        foreach (var chainId in chainIds)
            LayerApplier.Apply(LayerPath(chainId), rootfs);
    }

    protected override SnapshotMount Describe(string directory, IReadOnlyList<Digest> chainIds, bool readOnly)
        => new() { Type = "bind", Source = Path.Combine(directory, "rootfs"), ReadOnly = readOnly, LowerDirs = [.. chainIds.Reverse().Select(LayerPath)] };
}

/// <summary>Applies one layer directory (with overlay whiteouts) onto a root filesystem copy.</summary>
internal static class LayerApplier
{
    private const string OpaqueXattr = "trusted.overlay.opaque";
    private const string OverlayXattrPrefix = "trusted.overlay.";
    public static void Apply(string layer, string target)
    {
        // Hard links only ever join names inside one layer, so the inode map is per layer.
        var links = new Dictionary<(uint, uint, ulong), string>();
        var status = Stat(layer) ?? throw new SnapshotException(ErrorKind.NotFound, $"layer directory {layer} does not exist");
        ApplyDirectory(layer, target, links);
        CopyMetadata(layer, target, status);
    }

    private static void ApplyDirectory(string source, string target, Dictionary<(uint, uint, ulong), string> links)
    {
        // Names through FileTree and Libc: a layer may hold names that are not UTF-8.
        foreach (string name in FileTree.Names(source))
        {
            string entry = Path.Combine(source, name);
            string destination = Path.Combine(target, name);
            var status = Stat(entry) ?? throw new SnapshotException(ErrorKind.Conflict, $"{entry} vanished while it was copied");
            uint type = status.Mode & Libc.S_IFMT;
            var existing = Stat(destination);

            if (type == Libc.S_IFCHR && status.RdevMajor == 0 && status.RdevMinor == 0)
            {
                Delete(destination, existing); // whiteout
                continue;
            }
            if (type == Libc.S_IFDIR)
            {
                if (existing is { } e && (e.Mode & Libc.S_IFMT) == Libc.S_IFDIR)
                {
                    if (Libc.GetXattrNoFollow(entry, OpaqueXattr) is [(byte)'y'])
                    {
                        foreach (string lower in FileTree.Names(destination).Select(name => Path.Combine(destination, name)))
                            Delete(lower, Stat(lower));
                    }
                }
                else
                {
                    Delete(destination, existing);
                    Errno.Check(Libc.MkdirAt(Libc.AT_FDCWD, destination, 0x1c0), "mkdirat", destination);
                }
                ApplyDirectory(entry, destination, links);
                CopyMetadata(entry, destination, status); // after the children, whose creation moves the mtime
                continue;
            }

            Delete(destination, existing);
            var inode = (status.DevMajor, status.DevMinor, status.Ino);
            if (status.Nlink > 1 && links.TryGetValue(inode, out string? first))
            {
                Errno.Check(Libc.LinkAt(Libc.AT_FDCWD, first, Libc.AT_FDCWD, destination, 0), "linkat", $"{destination} -> {first}");
                continue;
            }
            switch (type)
            {
                case Libc.S_IFREG:
                    FileTree.CopyFile(entry, destination);
                    break;
                case Libc.S_IFLNK:
                    Errno.Check(Libc.SymlinkAt(Libc.ReadLink(entry), Libc.AT_FDCWD, destination), "symlinkat", destination);
                    break;
                case Libc.S_IFCHR or Libc.S_IFBLK or Libc.S_IFIFO:
                    Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, destination, type | 0x180, Libc.MakeDev(status.RdevMajor, status.RdevMinor)), "mknodat", destination);
                    break;
                default:
                    continue; // sockets are not content
            }
            CopyMetadata(entry, destination, status);
            if (status.Nlink > 1)
                links[inode] = destination;
        }
    }

    /// <summary>
    /// Owner, then mode, then xattrs (chown clears setuid bits and capabilities), then times. Every xattr a layer
    /// carries is content except overlayfs' own markers, which the copy has already applied.
    /// </summary>
    private static unsafe void CopyMetadata(string source, string destination, Libc.Statx status)
    {
        bool symlink = (status.Mode & Libc.S_IFMT) == Libc.S_IFLNK;
        Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, destination, status.Uid, status.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", destination);
        if (!symlink)
            Errno.Check(Libc.FchmodAt(Libc.AT_FDCWD, destination, (uint)(status.Mode & 0xfff), 0), "fchmodat", destination);
        foreach (string xattr in Libc.ListXattrsNoFollow(source))
        {
            if (!xattr.StartsWith(OverlayXattrPrefix, StringComparison.Ordinal) && Libc.GetXattrNoFollow(source, xattr) is { } value)
                Libc.SetXattrNoFollow(destination, xattr, value);
        }
        var times = stackalloc Libc.Timespec[2];
        times[0] = new Libc.Timespec { Seconds = status.Atime.Seconds, Nanoseconds = status.Atime.Nanoseconds };
        times[1] = new Libc.Timespec { Seconds = status.Mtime.Seconds, Nanoseconds = status.Mtime.Nanoseconds };
        Errno.Check(Libc.UtimensAt(Libc.AT_FDCWD, destination, times, Libc.AT_SYMLINK_NOFOLLOW), "utimensat", destination);
    }

    /// <summary>Removes <paramref name="path"/> (a whole tree for a directory, never following symlinks).</summary>
    private static void Delete(string path, Libc.Statx? status)
    {
        if (status is not { } s)
            return;
        if ((s.Mode & Libc.S_IFMT) == Libc.S_IFDIR)
            FileTree.Delete(path);
        else
            Errno.Check(Libc.UnlinkAt(Libc.AT_FDCWD, path, 0), "unlinkat", path);
    }

    private static Libc.Statx? Stat(string path) => Libc.TryStatAt(FileDescriptor.CurrentDirectory, path);
}
