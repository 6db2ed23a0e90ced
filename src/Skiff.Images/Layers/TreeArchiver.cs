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
/// xattrs (as <c>SCHILY.xattr.</c> records) and hard links within the tree are kept; sockets are not content
/// and are skipped, as docker skips them.
/// </summary>
public static class TreeArchiver
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueWhiteout = ".wh..wh..opq";
    private const string XattrPaxPrefix = "SCHILY.xattr.";
    private static readonly FileDescriptor Cwd = new(Libc.AT_FDCWD, ownsHandle: false);
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Writes <paramref name="upperDirectory"/> (an overlay upper dir: what a container changed) as a layer tar:
    /// a 0/0 character device becomes an empty <c>.wh.NAME</c> file, a directory with
    /// <c>trusted.overlay.opaque=y</c> is followed by an empty <c>DIR/.wh..wh..opq</c>, and overlayfs' own
    /// <c>trusted.overlay.*</c> bookkeeping is left out. Throws <see cref="LayerException"/> for what a layer
    /// cannot carry.
    /// </summary>
    public static void WriteLayer(string upperDirectory, Stream output) => Write(upperDirectory, output, overlayWhiteouts: true);

    /// <summary>Writes the tree at <paramref name="directory"/> as it is (no whiteout translation).</summary>
    public static void WriteTree(string directory, Stream output) => Write(directory, output, overlayWhiteouts: false);

    private static void Write(string directory, Stream output, bool overlayWhiteouts)
    {
        directory = Path.GetFullPath(directory);
        var status = Libc.TryStatAt(Cwd, directory, followLastSymlink: true);
        if (status is not { } root || (root.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            throw new LayerException($"cannot archive {directory}: it is not a directory");
        bool wroteEntries;
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            var run = new Run(tar, overlayWhiteouts);
            run.WriteDirectory(directory, "");
            wroteEntries = run.WroteEntries;
        }
        // TarWriter ends an archive only when it wrote entries; an empty tree is still a valid, empty tar (the two
        // zero blocks), which is what docker's empty layers hold (diff ID sha256:5f70bf18...).
        if (!wroteEntries)
            output.Write(new byte[EndOfArchiveSize]);
    }

    private const int EndOfArchiveSize = 1024;

    private sealed class Run(TarWriter tar, bool overlayWhiteouts)
    {
        private readonly Dictionary<(uint, uint, ulong), string> _links = [];

        public bool WroteEntries { get; private set; }

        public void WriteDirectory(string directory, string prefix)
        {
            var names = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).ToList();
            names.Sort(StringComparer.Ordinal);
            foreach (string? name in names)
            {
                string path = Path.Combine(directory, name!);
                string entryName = prefix + name;
                try
                {
                    if (Libc.TryStatAt(Cwd, path) is { } status)
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
            var entry = new PaxTarEntry(entryType, type == Libc.S_IFDIR ? name + "/" : name, Xattrs(path, name));
            SetMetadata(entry, status);
            FileStream? data = null;
            try
            {
                switch (entryType)
                {
                    case TarEntryType.SymbolicLink:
                        entry.LinkName = new FileInfo(path).LinkTarget!;
                        break;
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                        entry.DeviceMajor = (int)status.RdevMajor;
                        entry.DeviceMinor = (int)status.RdevMinor;
                        break;
                    case TarEntryType.RegularFile:
                        // O_NOFOLLOW through FileStream is not available; the entry was just lstat'ed as a regular file,
                        // and the tree is a container's stopped or paused filesystem, not an adversary racing us.
                        data = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                        entry.DataStream = data;
                        break;
                }
                Add(entry);
            }
            finally
            {
                data?.Dispose();
            }

            if (type != Libc.S_IFDIR)
                return;
            if (overlayWhiteouts && LowerLayersView.IsOpaque(path))
                Add(Empty(name + "/" + OpaqueWhiteout, status, mode: status.Mode & 0x1ffu));
            WriteDirectory(path, name + "/");
        }

        private void Add(TarEntry entry)
        {
            tar.WriteEntry(entry);
            WroteEntries = true;
        }

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

        /// <summary>
        /// The entry's xattrs as PAX records, except overlayfs' own and SELinux labels (host policy, not content,
        /// and docker leaves them out too). PAX records are text to System.Formats.Tar, so a value that is not
        /// UTF-8 cannot be written faithfully (nor read back by <see cref="LayerUnpacker"/>): refused, never mangled.
        /// </summary>
        private static Dictionary<string, string> Xattrs(string path, string name)
        {
            var records = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string xattr in Libc.ListXattrsNoFollow(path))
            {
                if (xattr.StartsWith("trusted.overlay.", StringComparison.Ordinal) || xattr == "security.selinux")
                    continue;
                if (Libc.GetXattrNoFollow(path, xattr) is not { } value)
                    continue;
                try
                {
                    records[XattrPaxPrefix + xattr] = StrictUtf8.GetString(value);
                }
                catch (DecoderFallbackException)
                {
                    throw new LayerException($"{name}: xattr {xattr} has a binary value, which skiff cannot store in a layer yet");
                }
            }
            return records;
        }
    }
}
