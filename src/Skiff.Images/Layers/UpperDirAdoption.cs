using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Layers;

/// <summary>
/// What turns an overlay upper dir, just archived by <see cref="TreeArchiver.WriteLayer"/>, into exactly the
/// snapshot <see cref="LayerUnpacker"/> would make of that archive over the same lower layers, so that the upper
/// dir itself can become the layer's snapshot instead of unpacking the blob again. Both hold overlay whiteouts (0/0
/// character devices) and <c>trusted.overlay.opaque=y</c> directories; what differs is fixed by
/// <see cref="Apply"/>: the paths the layer leaves out (mount targets) are removed, their parents' times kept;
/// overlayfs' other bookkeeping xattrs (origin, impure, ...) and SELinux labels, which the layer does not carry, are
/// removed; the root gets the unpacker's (mode 0755, the caller's owner, no xattrs). <see cref="Plan"/> returns
/// null for a tree the unpacker would read differently than it is, which is then unpacked as before: a name starting
/// with <c>.wh.</c> (the unpacker reads it as a whiteout), a socket (not archived), a whiteout with nothing below to
/// hide or with permission bits or xattrs of its own (the unpacker drops it, or makes it bare), an unpack that
/// would not apply owners (not root).
/// </summary>
public sealed class UpperDirAdoption
{
    private const string OverlayXattrPrefix = "trusted.overlay.";
    private const string SelinuxXattr = "security.selinux";

    private readonly List<string> _removed = [];
    private readonly List<(string Path, string Xattr)> _xattrs = [];

    private UpperDirAdoption()
    {
    }

    /// <summary>
    /// Reads <paramref name="upperDirectory"/> (unmounted, not written while this runs and until <see cref="Apply"/>)
    /// and plans what makes it the layer's snapshot; null when it cannot be (see the class). <paramref name="mountTargets"/>
    /// and <paramref name="lowerDirectories"/> (topmost first) are what the layer was written with.
    /// </summary>
    public static UpperDirAdoption? Plan(string upperDirectory, MountTargets mountTargets, IReadOnlyList<string> lowerDirectories)
    {
        if (Libc.GetEuid() != 0)
            return null;
        upperDirectory = Path.GetFullPath(upperDirectory);
        var lower = new LowerLayersView(lowerDirectories);
        var plan = new UpperDirAdoption();
        var walk = new Walk(plan, upperDirectory, new MountTargetFilter(mountTargets, upperDirectory, lower), lower);
        return walk.Directory("") ? plan : null;
    }

    /// <summary>
    /// Applies the plan to the tree, now at <paramref name="directory"/> (the upper dir moved there whole). A parent
    /// keeps the times it had before a child was removed: they are in the layer, and the unpacker sets them last.
    /// </summary>
    public unsafe void Apply(string directory)
    {
        var times = stackalloc Libc.Timespec[2];
        foreach (var parent in _removed.GroupBy(ParentOf))
        {
            string parentPath = Path.Combine(directory, parent.Key);
            var status = Libc.TryStatAt(FileDescriptor.CurrentDirectory, parentPath)
                ?? throw new LayerException($"cannot make a layer of {directory}: {parentPath} vanished while it was committed");
            foreach (string relative in parent)
                FileTree.Delete(Path.Combine(directory, relative));
            times[0] = new Libc.Timespec { Seconds = status.Atime.Seconds, Nanoseconds = status.Atime.Nanoseconds };
            times[1] = new Libc.Timespec { Seconds = status.Mtime.Seconds, Nanoseconds = status.Mtime.Nanoseconds };
            Errno.Check(Libc.UtimensAt(Libc.AT_FDCWD, parentPath, times, Libc.AT_SYMLINK_NOFOLLOW), "utimensat", parentPath);
        }
        foreach (var (relative, xattr) in _xattrs)
            Libc.RemoveXattrNoFollow(Path.Combine(directory, relative), xattr);
        foreach (string xattr in Libc.ListXattrsNoFollow(directory))
            Libc.RemoveXattrNoFollow(directory, xattr);
        Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, directory, Libc.GetEuid(), Libc.GetEgid(), Libc.AT_SYMLINK_NOFOLLOW), "fchownat", directory);
        Errno.Check(Libc.Chmod(directory, 0x1ed), "chmod", directory);
    }

    private static string ParentOf(string relative)
    {
        int slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    /// <summary>The walk of <see cref="Plan"/>: the archiver's order and decisions, recording instead of writing.</summary>
    private sealed class Walk(UpperDirAdoption plan, string root, MountTargetFilter hidden, LowerLayersView lower)
    {
        // Hard links share their xattrs: an inode's are planned once (removing one twice fails with ENODATA).
        private readonly HashSet<ulong> _linked = [];

        /// <summary>False when the tree cannot be adopted.</summary>
        public bool Directory(string relative)
        {
            string path = relative.Length == 0 ? root : Path.Combine(root, relative);
            foreach (string name in FileTree.Names(path))
            {
                string entry = relative.Length == 0 ? name : relative + "/" + name;
                if (hidden.Hides(entry))
                {
                    plan._removed.Add(entry);
                    continue;
                }
                if (name.StartsWith(".wh.", StringComparison.Ordinal) || !Entry(Path.Combine(path, name), entry))
                    return false;
            }
            return true;
        }

        private bool Entry(string path, string relative)
        {
            if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, path) is not { } status)
                return false;
            uint type = status.Mode & Libc.S_IFMT;
            var xattrs = Libc.ListXattrsNoFollow(path);
            if (LowerLayersView.IsWhiteout(status))
                return (status.Mode & 0xfffu) == 0 && xattrs.Count == 0 && lower.Find(relative.Split('/')) is not null;
            if (type == Libc.S_IFSOCK)
                return false;
            bool directory = type == Libc.S_IFDIR;
            if (!directory && status.Nlink > 1 && !_linked.Add(status.Ino))
                return true;
            foreach (string xattr in xattrs)
            {
                // The archiver marks a directory opaque exactly when this xattr is "y", and the unpacker sets it so.
                if (directory && xattr == LowerLayersView.OpaqueXattr && LowerLayersView.IsOpaque(path))
                    continue;
                if (xattr.StartsWith(OverlayXattrPrefix, StringComparison.Ordinal) || xattr == SelinuxXattr)
                    plan._xattrs.Add((relative, xattr));
            }
            return !directory || Directory(relative);
        }
    }
}
