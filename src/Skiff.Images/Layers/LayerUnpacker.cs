using System.Buffers;
using System.Formats.Tar;
using System.Text;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Content;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Layers;

/// <summary>What one unpack did: the compression found, the entries and whiteouts written, the sha256 of the
/// uncompressed tar (the layer's diff ID, to check against the image config) and the bytes of file data.</summary>
public sealed record UnpackedLayer(LayerCompression Compression, int Entries, int Whiteouts, Digest DiffId, long Size);

/// <summary>
/// Extracts one image layer (plain, gzip or zstd tar) into a directory in a single streaming pass, producing
/// what the overlay snapshotter mounts as a lower dir: OCI whiteouts become overlayfs whiteouts.
///
/// Safety: the target directory is opened once, and every entry's parent is resolved by the kernel with
/// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to it, so symlinks (absolute or relative, from a
/// lower layer or created earlier in this layer) and ".." resolve as they would inside the container's root,
/// never outside. The last component is always created with an *at() call on that parent fd and never
/// followed. Entry names and hardlink targets that climb above the root with ".." are rejected outright, as
/// docker does ("breakout"): no legitimate layer has them, and confining them would silently write files
/// somewhere the image author did not name. Symlink targets are stored as they are, because absolute symlinks
/// (/bin/sh -> /bin/busybox) are normal in images and are only ever resolved inside the root.
/// </summary>
public sealed class LayerUnpacker
{
    private const ulong InRoot = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetaPrefix = ".wh..wh.";
    private const string OpaqueWhiteout = ".wh..wh..opq";

    /// <summary>
    /// Whether to apply the owners recorded in the layer. Only root may give files away, so the default is
    /// "when running as root"; an unprivileged unpack keeps the caller's ids.
    /// </summary>
    public bool ApplyOwnership { get; init; } = Libc.GetEuid() == 0;

    /// <summary>
    /// The content directories of all the layers below this one, nearest first ([] for the bottom layer), or null
    /// when they are not known (layers unpacked in parallel). Two things an overlay mount gets wrong without them:
    /// a parent directory the layer does not list is created here, and the topmost layer holding a directory
    /// decides its mode, owner and time for the whole stack, so creating it 0755 root-owned would reset what a
    /// lower layer set; with the lower layers, it takes the metadata of the directory it stands for below. And a
    /// whiteout of something no lower layer has, in a directory no lower layer has, is listed by overlayfs as an
    /// entry that cannot be stat'ed; with the lower layers, such a whiteout is dropped, as umoci (which applies
    /// layers onto one tree) drops it.
    /// </summary>
    public IReadOnlyList<string>? LowerLayers { get; init; }

    /// <summary>
    /// Whether ".wh." entries are OCI whiteouts (layers). A plain archive (`skiff cp`) has none: such names are
    /// ordinary files there.
    /// </summary>
    public bool Whiteouts { get; init; } = true;

    /// <summary>
    /// The owner every entry gets instead of the one recorded (with <see cref="ApplyOwnership"/>): `skiff cp` into a
    /// container without -a makes everything root's, as docker does.
    /// </summary>
    public (int Uid, int Gid)? Owner { get; init; }

    /// <summary>Unpacks <paramref name="layer"/> (compressed or not) into the existing directory <paramref name="targetDirectory"/>.</summary>
    public UnpackedLayer Unpack(Stream layer, string targetDirectory)
    {
        using var root = FileDescriptor.Wrap(
            Libc.Open(targetDirectory, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", targetDirectory);
        return Unpack(layer, root);
    }

    /// <summary>Unpacks <paramref name="layer"/> into the directory <paramref name="root"/> (an O_PATH descriptor), confined to it.</summary>
    public UnpackedLayer Unpack(Stream layer, FileDescriptor root)
    {
        using var decompressed = LayerDecompression.Open(layer, out var compression);
        // The diff ID is hashed in the same pass, so a layer is read once however it is checked.
        using var tar = new HashingStream(decompressed, Digest.Sha256);
        using var tap = new PaxRecordTap(tar);
        var run = new Run(this, root, tap);
        using (var reader = new TarReader(tap, leaveOpen: true))
        {
            while (reader.GetNextEntry(copyData: false) is { } entry)
                run.Extract(entry);
        }
        // Read to the end of the decompressed stream, so the gzip/zstd trailer is checked and a digest computed
        // over the compressed stream by the caller sees every byte of the blob.
        tar.CopyTo(Stream.Null);
        run.ApplyDirectoryTimes();
        return new UnpackedLayer(compression, run.Entries, run.Whiteouts, tar.Digest, run.Size);
    }

    /// <summary>State of one unpack: the root fd and the directory times applied at the end.</summary>
    private sealed class Run(LayerUnpacker options, FileDescriptor root, PaxRecordTap tap)
    {
        // Directory mtimes are set last: creating each child would move them again.
        private readonly List<(string[] Path, DateTimeOffset Time)> _directoryTimes = [];
        private readonly LowerLayersView _lower = new(options.LowerLayers ?? []);

        public int Entries { get; private set; }
        public int Whiteouts { get; private set; }
        public long Size { get; private set; }

        public void Extract(TarEntry entry)
        {
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
                return;
            Entries++;
            string[] path = CleanPath(Raw(entry, linkTarget: false), entry.Name);
            try
            {
                ExtractResolved(entry, path);
            }
            catch (SyscallException error)
            {
                throw new LayerException($"layer entry \"{entry.Name}\": {error.Message}", error);
            }
        }

        private void ExtractResolved(TarEntry entry, string[] path)
        {
            string name = path.Length == 0 ? "." : path[^1];
            using var parent = OpenDirectory(path.Length == 0 ? [] : path[..^1], create: true, entry.Name);

            if (options.Whiteouts && ExtractWhiteout(entry, path, parent, name))
                return;

            var existing = Libc.TryStatAt(parent, name);
            bool existingIsDirectory = existing is { } status && (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
            if (existing is not null && !(existingIsDirectory && entry.EntryType == TarEntryType.Directory))
            {
                if (path.Length == 0)
                    throw new LayerException($"layer entry \"{entry.Name}\": the root can only be a directory");
                RemoveExisting(parent, name);
            }

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    if (!existingIsDirectory)
                        Errno.Check(Libc.MkdirAt(parent.Fd, name, 0x1c0 /* 0700 until chmod */), "mkdirat", name);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    WriteFile(parent, name, entry.DataStream);
                    Size += entry.Length;
                    break;
                case TarEntryType.SymbolicLink:
                    Errno.Check(Libc.SymlinkAt(Raw(entry, linkTarget: true), parent.Fd, name), "symlinkat", name);
                    break;
                case TarEntryType.HardLink:
                    Link(entry, parent, name);
                    return; // a hard link shares its inode, and with it the owner, mode and times of its target
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                    uint type = entry.EntryType switch
                    {
                        TarEntryType.CharacterDevice => Libc.S_IFCHR,
                        TarEntryType.BlockDevice => Libc.S_IFBLK,
                        _ => Libc.S_IFIFO,
                    };
                    var posix = (PosixTarEntry)entry;
                    Errno.Check(Libc.MknodAt(parent.Fd, name, type | 0x180, Libc.MakeDev((uint)posix.DeviceMajor, (uint)posix.DeviceMinor)), "mknodat", name);
                    break;
                default:
                    throw new LayerException($"layer entry \"{entry.Name}\": entry type {entry.EntryType} is not supported");
            }

            ApplyMetadata(entry, parent, name);
            if (entry.EntryType == TarEntryType.Directory)
                _directoryTimes.Add((path, entry.ModificationTime));
            else
                SetTimes(parent, name, entry.ModificationTime);
        }

        /// <summary>Applies <paramref name="name"/> as a whiteout (opaque directory, hidden entry, aufs bookkeeping); false when it is none.</summary>
        private bool ExtractWhiteout(TarEntry entry, string[] path, FileDescriptor parent, string name)
        {
            if (name == OpaqueWhiteout)
            {
                // The directory hides everything below it in lower layers (overlayfs "opaque" dir).
                Libc.SetXattrNoFollow(ProcPath(parent, "."), LowerLayersView.OpaqueXattr, "y"u8);
                Whiteouts++;
                return true;
            }
            if (name.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
                return true; // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlayfs
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                string hidden = name[WhiteoutPrefix.Length..];
                if (hidden is "" or "." or "..")
                    throw new LayerException($"layer entry \"{entry.Name}\": whiteout of \"{hidden}\" is not valid");
                RemoveExisting(parent, hidden);
                Whiteouts++;
                if (options.LowerLayers is not null && _lower.Find([.. path[..^1], hidden]) is null)
                    return true; // nothing below to hide; see LowerLayers
                // overlayfs reads a 0/0 character device as "deleted in this layer".
                Errno.Check(Libc.MknodAt(parent.Fd, hidden, Libc.S_IFCHR, Libc.MakeDev(0, 0)), "mknodat", hidden);
                if (options.ApplyOwnership)
                    Errno.Check(Libc.FchownAt(parent.Fd, hidden, (uint)entry.Uid, (uint)entry.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", hidden);
                return true;
            }
            return false;
        }

        /// <summary>
        /// Owner, then mode, then xattrs: chown clears setuid/setgid bits and security.capability, so doing it
        /// in another order loses exactly the bits that matter most (ping's cap_net_raw, sudo's setuid).
        /// </summary>
        private void ApplyMetadata(TarEntry entry, FileDescriptor parent, string name)
        {
            if (options.ApplyOwnership)
            {
                var (uid, gid) = options.Owner ?? (entry.Uid, entry.Gid);
                Errno.Check(Libc.FchownAt(parent.Fd, name, (uint)uid, (uint)gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", name);
            }
            if (entry.EntryType != TarEntryType.SymbolicLink)
            {
                // Following is safe: the last component was created (or checked to be a directory) by us just now.
                Errno.Check(Libc.FchmodAt(parent.Fd, name, (uint)entry.Mode, 0), "fchmodat", name);
            }
            if (entry is PaxTarEntry pax)
            {
                foreach (var (key, value) in pax.ExtendedAttributes)
                {
                    if (!key.StartsWith(PaxRecords.XattrPrefix, StringComparison.Ordinal))
                        continue;
                    string xattr = key[PaxRecords.XattrPrefix.Length..];
                    Libc.SetXattrNoFollow(ProcPath(parent, name), xattr, value.Contains('\uFFFD') ? RawValue(entry, key, value) : Encoding.UTF8.GetBytes(value));
                }
            }
        }

        /// <summary>
        /// A value that is not UTF-8 (TarReader decoded its bytes with U+FFFD replacements) read from the raw
        /// record instead, after checking that the raw bytes decode to the very string TarReader gave for this entry.
        /// </summary>
        private byte[] RawValue(TarEntry entry, string key, string decoded)
        {
            if (tap.InStep && PaxRecords.TryFind(tap.CurrentRecords.Span, Encoding.UTF8.GetBytes(key), out var raw) && Encoding.UTF8.GetString(raw) == decoded)
                return raw.ToArray();
            throw new LayerException($"layer entry \"{entry.Name}\": the binary value of {key} could not be read from its pax header");
        }

        /// <summary>
        /// A name or link target as the archive has it: TarReader decodes it as UTF-8, so one with other bytes (Go's
        /// archive/tar, GNU tar and skiff's own commit keep names as bytes) shows U+FFFD and is read from the raw header
        /// instead, as escaped bytes (<see cref="FileNames"/>), after checking that it is the same member's.
        /// </summary>
        private string Raw(TarEntry entry, bool linkTarget)
        {
            string decoded = linkTarget ? entry.LinkName : entry.Name;
            if (!decoded.Contains('\uFFFD'))
                return decoded;
            byte[] raw = linkTarget ? tap.RawLinkName() : tap.RawName();
            if (tap.InStep && Encoding.UTF8.GetString(raw) == decoded)
                return FileNames.Decode(raw);
            throw new LayerException($"layer entry \"{entry.Name}\": its {(linkTarget ? "link target" : "name")} is not UTF-8 and could not be read from its header");
        }

        private void Link(TarEntry entry, FileDescriptor parent, string name)
        {
            string[] target = CleanPath(Raw(entry, linkTarget: true), entry.Name, isLinkTarget: true);
            if (target.Length == 0)
                throw new LayerException($"layer entry \"{entry.Name}\": a hard link cannot point to the root");
            using var targetParent = OpenDirectory(target[..^1], create: false, entry.Name);
            // flags 0: link the target entry itself even when it is a symlink, as tar does.
            Errno.Check(Libc.LinkAt(targetParent.Fd, target[^1], parent.Fd, name, 0), "linkat", $"{name} -> {entry.LinkName}");
        }

        private static unsafe void WriteFile(FileDescriptor parent, string name, Stream? data)
        {
            using var file = FileDescriptor.Wrap(
                Libc.OpenAt(parent.Fd, name, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180), "openat", name);
            if (data is null)
                return;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
            try
            {
                int read;
                while ((read = data.Read(buffer)) > 0)
                    Libc.WriteAll(file, buffer.AsSpan(0, read), name);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public void ApplyDirectoryTimes()
        {
            // Deepest first is not needed (a child's time change does not touch its parent's mtime), but later
            // entries for the same directory must win, as they do in tar.
            foreach (var (path, time) in _directoryTimes)
            {
                try
                {
                    using var parent = OpenDirectory(path.Length == 0 ? [] : path[..^1], create: false, string.Join('/', path));
                    string name = path.Length == 0 ? "." : path[^1];
                    if (Libc.TryStatAt(parent, name) is { } status && (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR)
                        SetTimes(parent, name, time);
                }
                catch (SyscallException error)
                {
                    throw new LayerException($"layer entry \"{string.Join('/', path)}/\": {error.Message}", error);
                }
            }
        }

        private static unsafe void SetTimes(FileDescriptor parent, string name, DateTimeOffset time)
        {
            long ticks = (time - DateTimeOffset.UnixEpoch).Ticks;
            var spec = new Libc.Timespec
            {
                Seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long remainder),
                Nanoseconds = remainder * 100,
            };
            if (spec.Nanoseconds < 0)
            {
                spec.Seconds--;
                spec.Nanoseconds += 1_000_000_000;
            }
            var times = stackalloc Libc.Timespec[2] { spec, spec };
            Errno.Check(Libc.UtimensAt(parent.Fd, name, times, Libc.AT_SYMLINK_NOFOLLOW), "utimensat", name);
        }

        /// <summary>
        /// Opens the directory <paramref name="path"/> inside the root, with the kernel confining every step to
        /// the root. Missing directories are created (mode 0755) when <paramref name="create"/> is set, since
        /// layers need not list parents before children.
        /// </summary>
        private FileDescriptor OpenDirectory(string[] path, bool create, string entryName)
        {
            int flags = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC;
            string joined = path.Length == 0 ? "." : string.Join('/', path);
            int fd = Libc.TryOpenAt2(root, joined, flags, InRoot);
            if (fd >= 0)
                return new FileDescriptor(fd);
            if (Errno.Last != Errno.ENOENT || !create)
                throw NotADirectory(Errno.Last, joined, entryName);

            // Walk down from the root, creating what is missing. Each prefix is re-resolved from the root (not
            // from the previous fd), so a symlink met on the way is confined to the root like everything else.
            var current = Libc.OpenAt2(root, ".", flags, InRoot);
            try
            {
                for (int i = 0; i < path.Length; i++)
                {
                    string prefix = string.Join('/', path, 0, i + 1);
                    fd = Libc.TryOpenAt2(root, prefix, flags, InRoot);
                    if (fd < 0 && Errno.Last == Errno.ENOENT)
                    {
                        int made = Libc.MkdirAt(current.Fd, path[i], 0x1ed /* 0755 */);
                        if (made != 0 && Errno.Last != Errno.EEXIST)
                            throw new SyscallException("mkdirat", prefix, Errno.Last);
                        if (made == 0)
                            InheritFromLowerLayers(current, path[..(i + 1)]);
                        fd = Libc.TryOpenAt2(root, prefix, flags, InRoot);
                        // Still missing although something is there: a symlink whose target (inside the root)
                        // does not exist. Creating its target would mean guessing; the layer is broken.
                        if (fd < 0 && Errno.Last == Errno.ENOENT)
                            throw new LayerException($"layer entry \"{entryName}\": \"{prefix}\" is a symlink to a directory that does not exist");
                    }
                    if (fd < 0)
                        throw NotADirectory(Errno.Last, prefix, entryName);
                    current.Dispose();
                    current = new FileDescriptor(fd);
                }
                return current;
            }
            catch
            {
                current.Dispose();
                throw;
            }
        }

        /// <summary>Gives a parent directory this layer created without an entry the metadata of the same directory below.</summary>
        private void InheritFromLowerLayers(FileDescriptor parent, string[] path)
        {
            if (_lower.Find(path) is not { } lower || (lower.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
                return;
            string name = path[^1];
            if (options.ApplyOwnership)
                Errno.Check(Libc.FchownAt(parent.Fd, name, lower.Uid, lower.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", name);
            Errno.Check(Libc.FchmodAt(parent.Fd, name, lower.Mode & 0xfffu, 0), "fchmodat", name);
            _directoryTimes.Add((path, DateTimeOffset.FromUnixTimeSeconds(lower.Mtime.Seconds).AddTicks(lower.Mtime.Nanoseconds / 100)));
        }

        private static Exception NotADirectory(int errno, string path, string entryName)
            => errno == ENOTDIR
                ? new LayerException($"layer entry \"{entryName}\": \"{path}\" is not a directory")
                : new SyscallException("openat2", path, errno);

        private const int ENOTDIR = 20;
        private const int EISDIR = 21;

        /// <summary>Removes whatever is at <paramref name="name"/> (a later entry replaces an earlier one, as in tar).</summary>
        private static void RemoveExisting(FileDescriptor parent, string name)
        {
            if (Libc.UnlinkAt(parent.Fd, name, 0) == 0 || Errno.Last == Errno.ENOENT)
                return;
            if (Errno.Last != EISDIR)
                throw new SyscallException("unlinkat", name, Errno.Last);
            // A directory: removed by bytes, symlinks inside it not followed.
            FileTree.Delete(ProcPath(parent, name));
        }

        /// <summary>A path through /proc/self/fd to <paramref name="name"/> in an O_PATH directory, for calls with no *at() form (lsetxattr).</summary>
        private static string ProcPath(FileDescriptor directory, string name) => $"/proc/self/fd/{directory.Fd}/{name}";
    }

    /// <summary>
    /// Splits an entry name into components, dropping "." and empty ones and treating an absolute name as
    /// relative to the root (as tar does). A ".." that would climb above the root is an error.
    /// </summary>
    internal static string[] CleanPath(string name, string entryName, bool isLinkTarget = false)
    {
        var components = new List<string>();
        foreach (string component in name.Split('/'))
        {
            if (component is "" or ".")
                continue;
            if (component == "..")
            {
                if (components.Count == 0)
                    throw new LayerException(isLinkTarget
                        ? $"layer entry \"{entryName}\" links to \"{name}\", outside the root"
                        : $"layer entry \"{entryName}\" escapes the root");
                components.RemoveAt(components.Count - 1);
                continue;
            }
            components.Add(component);
        }
        return [.. components];
    }
}
