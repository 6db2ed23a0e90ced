using System.Formats.Tar;
using System.Text;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Layers;

/// <summary>
/// Writes a directory tree as a PAX tar stream: a container's overlay upper dir as an image layer
/// (<see cref="WriteLayer"/>, overlayfs whiteouts turned into OCI ones), or a whole root filesystem
/// (<see cref="WriteTree"/>, what <c>skiff export</c> sends). Entries come in the order docker's archiver gives
/// them (each directory's names sorted bytewise, a directory before its content), named relative to the tree
/// without a leading "./", directories with a trailing "/". Modes, owners, mtimes, symlinks, fifos, devices,
/// xattrs (as <c>SCHILY.xattr.</c> records, binary values included) and hard links within the tree are kept; sockets are not content
/// and are skipped, as docker skips them.
/// </summary>
public static class TreeArchiver
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueWhiteout = ".wh..wh..opq";
    /// <summary>
    /// Writes <paramref name="upperDirectory"/> (an overlay upper dir: what a container changed) as a layer tar:
    /// a 0/0 character device becomes an empty <c>.wh.NAME</c> file, a directory with
    /// <c>trusted.overlay.opaque=y</c> is followed by an empty <c>DIR/.wh..wh..opq</c>, and overlayfs' own
    /// <c>trusted.overlay.*</c> bookkeeping is left out. Throws <see cref="LayerException"/> for what a layer
    /// cannot carry.
    /// </summary>
    /// Paths only there to be mounted over (<paramref name="mountTargets"/>, checked against
    /// <paramref name="lowerDirectories"/>) are left out, as docker keeps them in its init layer.
    public static void WriteLayer(string upperDirectory, Stream output, MountTargets? mountTargets = null, IReadOnlyList<string>? lowerDirectories = null)
        => Write(upperDirectory, output, overlayWhiteouts: true, mountTargets, lowerDirectories);

    /// <summary>Writes the tree at <paramref name="directory"/> as it is (no whiteout translation).</summary>
    public static void WriteTree(string directory, Stream output) => Write(directory, output, overlayWhiteouts: false, null, null);

    /// <summary>
    /// Writes the entries of <paramref name="tree"/> that <paramref name="changes"/> (from
    /// <see cref="LayerChanges.Compare"/>, a directory before its content) name as a layer tar: an added or changed
    /// path as its entry (a directory without its content, which has changes of its own where it needs them), a
    /// deleted one as an empty <c>.wh.NAME</c>, as docker's ExportChanges writes a naive diff.
    /// </summary>
    public static void WriteChanges(string tree, IReadOnlyList<FileChange> changes, Stream output)
        => Write(tree, output, overlayWhiteouts: false, null, null, changes);

    /// <summary>The whole tree, or with <paramref name="changes"/> only the entries they name.</summary>
    private static void Write(string directory, Stream output, bool overlayWhiteouts, MountTargets? mountTargets, IReadOnlyList<string>? lowerDirectories,
        IReadOnlyList<FileChange>? changes = null)
    {
        directory = Path.GetFullPath(directory);
        var status = Libc.TryStatAt(FileDescriptor.CurrentDirectory, directory, followLastSymlink: true);
        if (status is not { } root || (root.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            throw new LayerException($"cannot archive {directory}: it is not a directory");
        bool tarWriterWrote;
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            var hidden = new MountTargetFilter(mountTargets ?? MountTargets.None, directory, new LowerLayersView(lowerDirectories ?? []));
            var run = new Run(tar, output, overlayWhiteouts, hidden, recursive: changes is null);
            if (changes is null)
                run.WriteDirectory(directory, "");
            else
                run.WriteChanges(directory, changes);
            tarWriterWrote = run.TarWriterWrote;
        }
        // TarWriter ends an archive only when it wrote entries itself; an empty tree is still a valid, empty tar (the
        // two zero blocks), which is what docker's empty layers hold (diff ID sha256:5f70bf18...).
        if (!tarWriterWrote)
            output.Write(new byte[EndOfArchiveSize]);
    }

    private const int EndOfArchiveSize = 1024;

    private sealed class Run(TarWriter tar, Stream output, bool overlayWhiteouts, MountTargetFilter hidden, bool recursive)
    {
        private readonly Dictionary<(uint, uint, ulong), string> _links = [];

        public bool TarWriterWrote { get; private set; }

        public void WriteChanges(string tree, IReadOnlyList<FileChange> changes)
        {
            foreach (var change in changes)
            {
                string name = change.Path.TrimStart('/');
                string path = Path.Combine(tree, name);
                try
                {
                    if (change.Kind == ChangeKind.Deleted)
                    {
                        int slash = name.LastIndexOf('/');
                        string parent = Path.Combine(tree, name[..(slash + 1)]);
                        var parentStatus = Libc.TryStatAt(FileDescriptor.CurrentDirectory, parent) ?? throw new LayerException($"cannot archive the deletion of {path}: {parent} is gone");
                        Add(Empty(name[..(slash + 1)] + WhiteoutPrefix + name[(slash + 1)..], parentStatus with { Uid = 0, Gid = 0 }, mode: 0x180));
                    }
                    else if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, path) is { } status)
                    {
                        WriteEntry(path, name, status);
                    }
                    else
                    {
                        throw new LayerException($"cannot archive {path}: it changed while the layer was written; pause or stop the container and commit again");
                    }
                }
                catch (SyscallException error)
                {
                    throw new LayerException($"cannot archive {path}: {error.Message}", error);
                }
            }
        }

        public void WriteDirectory(string directory, string prefix)
        {
            var names = FileTree.Names(directory);
            names.Sort(StringComparer.Ordinal);
            foreach (string name in names)
            {
                string path = Path.Combine(directory, name);
                string entryName = prefix + name;
                if (hidden.Hides(entryName))
                    continue;
                try
                {
                    if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, path) is { } status)
                        WriteEntry(path, entryName, status);
                }
                catch (SyscallException error)
                {
                    throw new LayerException($"cannot archive {path}: {error.Message}", error);
                }
            }
        }

        private void WriteEntry(string path, string name, Libc.Statx status)
        {
            uint type = status.Mode & Libc.S_IFMT;
            if (overlayWhiteouts && LowerLayersView.IsWhiteout(status))
            {
                int slash = name.LastIndexOf('/');
                string whiteout = name[..(slash + 1)] + WhiteoutPrefix + name[(slash + 1)..];
                Add(Empty(whiteout, status, mode: 0x180 /* 0600, as docker writes it */));
                return;
            }
            if (type == Libc.S_IFSOCK)
                return;

            var inode = (status.DevMajor, status.DevMinor, status.Ino);
            if (type != Libc.S_IFDIR && status.Nlink > 1 && _links.TryGetValue(inode, out string? first))
            {
                Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = first, ModificationTime = Time(status) });
                return;
            }
            if (type != Libc.S_IFDIR && status.Nlink > 1)
                _links[inode] = name;

            var entryType = type switch
            {
                Libc.S_IFDIR => TarEntryType.Directory,
                Libc.S_IFREG => TarEntryType.RegularFile,
                Libc.S_IFLNK => TarEntryType.SymbolicLink,
                Libc.S_IFCHR => TarEntryType.CharacterDevice,
                Libc.S_IFBLK => TarEntryType.BlockDevice,
                _ => TarEntryType.Fifo,
            };
            string entryName = type == Libc.S_IFDIR ? name + "/" : name;
            var xattrs = ContentXattrs(path);
            string? linkTarget = type == Libc.S_IFLNK ? Libc.ReadLink(path) : null;
            if (xattrs.Any(record => !IsUtf8(record.Value)))
            {
                WriteBinary(path, entryName, entryType, status, xattrs, linkTarget);
                if (type == Libc.S_IFDIR)
                    WriteDirectoryContent(path, name, status);
                return;
            }
            var entry = new PaxTarEntry(entryType, entryName, xattrs.Select(record => KeyValuePair.Create(record.Key, Encoding.UTF8.GetString(record.Value))));
            SetMetadata(entry, status);
            FileStream? data = null;
            try
            {
                switch (entryType)
                {
                    case TarEntryType.SymbolicLink:
                        entry.LinkName = linkTarget!;
                        break;
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                        entry.DeviceMajor = (int)status.RdevMajor;
                        entry.DeviceMinor = (int)status.RdevMinor;
                        break;
                    case TarEntryType.RegularFile:
                        data = FileTree.OpenRead(path);
                        entry.DataStream = data;
                        break;
                }
                Add(entry);
            }
            finally
            {
                data?.Dispose();
            }

            if (type == Libc.S_IFDIR)
                WriteDirectoryContent(path, name, status);
        }

        private void WriteDirectoryContent(string path, string name, Libc.Statx status)
        {
            if (!recursive)
                return;
            if (overlayWhiteouts && LowerLayersView.IsOpaque(path))
                Add(Empty(name + "/" + OpaqueWhiteout, status, mode: status.Mode & 0x1ffu));
            WriteDirectory(path, name + "/");
        }

        private void Add(PaxTarEntry entry) => TarWriterWrote |= BinaryPaxEntryWriter.WriteEntry(tar, output, entry);

        /// <summary>A member with a binary xattr value, which TarWriter's string records cannot carry.</summary>
        private void WriteBinary(string path, string name, TarEntryType type, Libc.Statx status, List<(string Key, byte[] Value)> xattrs, string? linkTarget)
        {
            var member = new BinaryPaxEntryWriter.Member(type, name, (int)(status.Mode & 0xfffu), status.Uid, status.Gid, Time(status))
            {
                LinkName = linkTarget,
                DeviceMajor = type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice ? (int)status.RdevMajor : 0,
                DeviceMinor = type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice ? (int)status.RdevMinor : 0,
                Records = xattrs,
            };
            using var data = type == TarEntryType.RegularFile ? FileTree.OpenRead(path) : null;
            BinaryPaxEntryWriter.Write(output, member, data);
        }

        private static bool IsUtf8(byte[] value) => System.Text.Unicode.Utf8.IsValid(value);

        private static PaxTarEntry Empty(string name, Libc.Statx status, uint mode)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name);
            SetMetadata(entry, status);
            entry.Mode = (UnixFileMode)mode;
            return entry;
        }

        private static void SetMetadata(PaxTarEntry entry, Libc.Statx status)
        {
            entry.Mode = (UnixFileMode)(status.Mode & 0xfffu);
            entry.Uid = (int)status.Uid;
            entry.Gid = (int)status.Gid;
            entry.ModificationTime = Time(status);
        }

        private static DateTimeOffset Time(Libc.Statx status)
            => DateTimeOffset.FromUnixTimeSeconds(status.Mtime.Seconds).AddTicks(status.Mtime.Nanoseconds / 100);
    }

    /// <summary>
    /// The xattrs of <paramref name="path"/> that are content, as pax records (key, raw value) sorted by key: all but
    /// overlayfs' own and SELinux labels (host policy, not content, and docker leaves them out too).
    /// </summary>
    internal static List<(string Key, byte[] Value)> ContentXattrs(string path)
    {
        var records = new List<(string Key, byte[] Value)>();
        foreach (string xattr in Libc.ListXattrsNoFollow(path))
        {
            if (xattr.StartsWith("trusted.overlay.", StringComparison.Ordinal) || xattr == "security.selinux")
                continue;
            if (Libc.GetXattrNoFollow(path, xattr) is { } value)
                records.Add((PaxRecords.XattrPrefix + xattr, value));
        }
        records.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return records;
    }
}
