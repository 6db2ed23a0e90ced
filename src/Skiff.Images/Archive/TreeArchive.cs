using System.Formats.Tar;
using Skiff.Images.Layers;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Archive;

/// <summary>
/// Writes a file or directory tree as tar entries (owners, modes, times, symlinks, hard links and device nodes
/// kept), as `docker cp` archives a path. The tree is walked through file descriptors: every entry is opened
/// relative to its parent's descriptor without following symlinks, so a tree whose owner swaps a directory for a
/// symlink while it is read (a running container) cannot make it read anything outside that tree.
/// </summary>
public static class TreeArchive
{
    /// <summary>
    /// Writes <paramref name="name"/> in the directory <paramref name="parent"/> (an O_PATH descriptor; "" for
    /// <paramref name="parent"/> itself) under <paramref name="entryName"/>, and for a directory everything below.
    /// <paramref name="mayEnter"/> decides which directories are descended into (a container's /proc is not);
    /// the others are written as empty directories. Sockets are skipped, as tar cannot hold them. Names that are
    /// not UTF-8 are written byte for byte (on <paramref name="output"/>, the stream under <paramref name="tar"/>).
    /// </summary>
    public static void Write(TarWriter tar, Stream output, FileDescriptor parent, string name, string entryName, Func<Libc.Statx, bool> mayEnter)
        => new Run(tar, output, mayEnter).WriteEntry(parent, name, entryName);

    private sealed class Run(TarWriter tar, Stream output, Func<Libc.Statx, bool> mayEnter)
    {
        private readonly Dictionary<(uint, uint, ulong), string> _links = [];

        public void WriteEntry(FileDescriptor parent, string name, string entryName)
        {
            using var item = name.Length == 0
                ? null
                : FileDescriptor.Wrap(Libc.OpenAt(parent.Fd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "openat", entryName);
            var self = item ?? parent;
            if (Libc.TryStatAt(self, "") is not { } status)
                return; // removed while the tree was read
            uint type = status.Mode & Libc.S_IFMT;
            if (type == Libc.S_IFSOCK)
                return;
            var key = (status.DevMajor, status.DevMinor, status.Ino);
            if (type == Libc.S_IFREG && status.Nlink > 1 && _links.TryGetValue(key, out var first))
            {
                Add(Entry(TarEntryType.HardLink, entryName, status, linkName: first));
                return;
            }
            switch (type)
            {
                case Libc.S_IFDIR:
                    Add(Entry(TarEntryType.Directory, entryName.EndsWith('/') ? entryName : entryName + "/", status));
                    if (!mayEnter(status))
                        return;
                    foreach (var child in FileTree.Names(ProcPath(self)).Order(StringComparer.Ordinal))
                        WriteEntry(self, child, entryName.TrimEnd('/') + "/" + child);
                    return;
                case Libc.S_IFREG:
                    using (var file = new FileStream(File.OpenHandle(ProcPath(self), FileMode.Open, FileAccess.Read), FileAccess.Read))
                    {
                        var entry = Entry(TarEntryType.RegularFile, entryName, status);
                        entry.DataStream = file;
                        Add(entry);
                    }
                    if (status.Nlink > 1)
                        _links[key] = entryName;
                    return;
                case Libc.S_IFLNK:
                    // Read through the parent: a /proc/self/fd link of the symlink's own descriptor names the descriptor, not its target.
                    Add(Entry(TarEntryType.SymbolicLink, entryName, status, linkName: Libc.ReadLink($"{ProcPath(parent)}/{name}")));
                    return;
                default:
                    var device = Entry(type switch
                    {
                        Libc.S_IFCHR => TarEntryType.CharacterDevice,
                        Libc.S_IFBLK => TarEntryType.BlockDevice,
                        _ => TarEntryType.Fifo,
                    }, entryName, status);
                    if (type != Libc.S_IFIFO)
                    {
                        device.DeviceMajor = (int)status.RdevMajor;
                        device.DeviceMinor = (int)status.RdevMinor;
                    }
                    Add(device);
                    return;
            }
        }

        private void Add(PaxTarEntry entry) => BinaryPaxEntryWriter.WriteEntry(tar, output, entry);
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, Libc.Statx status, string? linkName = null)
    {
        var entry = new PaxTarEntry(type, name)
        {
            Mode = (UnixFileMode)(status.Mode & 0xFFF),
            Uid = (int)status.Uid,
            Gid = (int)status.Gid,
            ModificationTime = DateTimeOffset.FromUnixTimeSeconds(status.Mtime.Seconds),
        };
        if (linkName is not null)
            entry.LinkName = linkName;
        return entry;
    }

    private static string ProcPath(FileDescriptor descriptor) => $"/proc/self/fd/{descriptor.Fd}";
}
