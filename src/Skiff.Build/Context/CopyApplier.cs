using Skiff.Engine.Specs;
using Skiff.Images.Layers;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>How one COPY/ADD writes: its flags as the Dockerfile gives them (after variable expansion).</summary>
public sealed record CopyOptions
{
    /// <summary>--chown: "user", "user:group", names (looked up in the destination's /etc/passwd and /etc/group) or numbers; null: root's.</summary>
    public string? Chown { get; init; }

    /// <summary>--chmod: octal or symbolic (<see cref="ModeChange"/>); null: the sources' own modes.</summary>
    public string? Chmod { get; init; }

    /// <summary>ADD: a source that is a tar archive (plain, gzip or zstd) is extracted instead of copied.</summary>
    public bool ExtractArchives { get; init; }

    /// <summary>
    /// COPY --from without --chown: files keep the owners they have in the stage or image, as BuildKit's and buildah's
    /// copies do (a context's files are root's because BuildKit's file sync resets their owners, not by copy rules).
    /// </summary>
    public bool KeepOwners { get; init; }

    /// <summary>The instruction's name, for errors.</summary>
    public string Instruction { get; init; } = "COPY";
}

/// <summary>
/// Writes a <see cref="CopyPlan"/> into a root filesystem (the merged view of a build step), with docker's rules:
/// the destination is resolved inside the rootfs (a symlink in it leads where it would in the container, never out
/// of it: openat2 RESOLVE_IN_ROOT, as <c>skiff cp</c> resolves), relative to the WORKDIR unless absolute; its
/// missing parents are created 0755 and root's unless --chown (then the owner's); files are root's unless --chown, keep their modes unless --chmod,
/// their symlinks, extended attributes and modification times; files hard-linked to each other in the sources are
/// hard-linked in the copy; an existing file is replaced, an existing directory merged into, and a directory is
/// never replaced by a file.
/// </summary>
public static class CopyApplier
{
    public static void Apply(SourceTree tree, CopyPlan plan, string rootfs, string destination, string workingDirectory, CopyOptions options)
    {
        string instruction = options.Instruction;
        var owner = ResolveOwner(rootfs, options.Chown, instruction);
        var chmod = options.Chmod is null ? null : ModeChange.Parse(options.Chmod, instruction);
        if (destination.Length == 0)
            throw new BuildException($"{instruction} has no destination; name where the sources go");
        string absolute = destination.StartsWith('/') ? destination : workingDirectory.TrimEnd('/') + "/" + destination;
        bool namesDirectory = destination.EndsWith('/') || destination == "." || destination.EndsWith("/.", StringComparison.Ordinal);
        string clean = IgnorePatterns.Clean("/" + absolute.TrimStart('/'));
        if (plan.SourceCount > 1 && !namesDirectory)
            throw new BuildException($"{instruction} with more than one source needs a directory destination ending in /: write \"{destination}/\"");

        using var root = FileDescriptor.Wrap(Libc.Open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", rootfs);
        using var sourceRoot = tree.OpenRoot();
        using var targets = new TargetDirectories(root, instruction, owner);
        using var sources = new ParentDirectories(tree, sourceRoot);

        bool archive = options.ExtractArchives && plan.SingleFile && IsArchive(tree, sourceRoot, plan.Entries[0], instruction);
        string directory = Relative(clean);
        string? rename = null;
        if (plan.SingleFile && !namesDirectory && !archive && !targets.IsDirectory(directory))
        {
            if (directory == ".")
                throw new BuildException($"{instruction} cannot write a file over the root directory; name a file or a directory below it");
            (directory, rename) = Split(directory);
        }

        var links = new Dictionary<(uint, uint, ulong), string>();
        var directoryTimes = new List<(string Path, Libc.Statx Status)>();
        targets.Open(directory);
        foreach (var entry in plan.Entries)
        {
            if (entry.Target.Length == 0 && entry.Type == Libc.S_IFDIR)
                continue; // a directory source copies its contents; the destination stays as it is
            string path = Join(directory, rename ?? entry.Target);
            if (options.ExtractArchives && entry.IsSource && entry.Type == Libc.S_IFREG && (archive || IsArchive(tree, sourceRoot, entry, instruction)))
            {
                Extract(tree, sourceRoot, entry, targets.Open(directory), options.Chown is null ? null : owner, instruction);
                continue;
            }
            var (parentPath, name) = Split(path);
            var parent = targets.Open(parentPath);
            var existing = Replace(parent, name, entry, path, targets, instruction);
            if (existing == Existing.ThroughSymlink)
                continue; // a directory merged into where the rootfs's symlink leads (/lib -> usr/lib): the link stays
            if (existing == Existing.None && !Create(tree, sourceRoot, entry, parent, name, path, links, targets, instruction))
                continue;
            ApplyMetadata(entry, parent, name, options.KeepOwners ? (entry.Status.Uid, entry.Status.Gid) : owner, chmod, sources.PathOf(entry.Source));
            if (entry.Type == Libc.S_IFDIR)
                directoryTimes.Add((path, entry.Status));
            else
                SetTimes(parent, name, entry.Status);
        }
        // Creating each child moved its directory's mtime: the directories' own times go last.
        foreach (var (path, status) in directoryTimes)
        {
            var (parentPath, name) = Split(path);
            SetTimes(targets.Open(parentPath), name, status);
        }
    }

    /// <summary>
    /// docker's --chown: names are looked up in the rootfs's /etc/passwd and /etc/group (a missing name is an error),
    /// numbers are taken as they are; a user without a group takes its passwd group when named, the same number when
    /// numeric, as BuildKit does. Without --chown: root's. An error names <paramref name="subject"/> (the instruction
    /// and its --chown when null).
    /// </summary>
    public static (uint Uid, uint Gid) ResolveOwner(string rootfs, string? chown, string instruction = "COPY", string? subject = null)
    {
        if (string.IsNullOrEmpty(chown))
            return (0, 0);
        ResolvedUser user;
        try
        {
            user = UserResolver.Resolve(rootfs, chown);
        }
        catch (SkiffException error) when (error.Kind == ErrorKind.InvalidArgument)
        {
            throw new BuildException($"{subject ?? $"{instruction} --chown={chown}"}: {error.Message}", error);
        }
        bool numericUserOnly = !chown.Contains(':') && uint.TryParse(chown, out _);
        return (user.Uid, numericUserOnly ? user.Uid : user.Gid);
    }

    private enum Existing { None, Directory, ThroughSymlink }

    /// <summary>
    /// Makes room for an entry: an existing directory is merged into by a directory (also through a symlink in the
    /// rootfs that leads to one), anything else is removed; a directory is never replaced by a file.
    /// </summary>
    private static Existing Replace(FileDescriptor parent, string name, CopyEntry entry, string path, TargetDirectories targets, string instruction)
    {
        if (Libc.TryStatAt(parent, name) is not { } existing)
            return Existing.None;
        uint type = existing.Mode & Libc.S_IFMT;
        if (type == Libc.S_IFDIR && entry.Type == Libc.S_IFDIR)
            return Existing.Directory;
        if (type == Libc.S_IFLNK && entry.Type == Libc.S_IFDIR && targets.IsDirectory(path))
            return Existing.ThroughSymlink;
        if (type == Libc.S_IFDIR)
            throw new BuildException(ErrorKind.FailedPrecondition, $"{instruction} cannot replace the directory /{path} with a file; copy to another path or remove the directory in an earlier step");
        Errno.Check(Libc.UnlinkAt(parent.Fd, name, 0), "unlinkat", "/" + path);
        return Existing.None;
    }

    /// <summary>Creates the entry (its data copied in the kernel, or linked to the copy of a file it is hard-linked to); false for what cannot be copied (a socket).</summary>
    private static bool Create(SourceTree tree, FileDescriptor sourceRoot, CopyEntry entry, FileDescriptor parent, string name, string path,
        Dictionary<(uint, uint, ulong), string> links, TargetDirectories targets, string instruction)
    {
        string display = "/" + path;
        switch (entry.Type)
        {
            case Libc.S_IFDIR:
                Errno.Check(Libc.MkdirAt(parent.Fd, name, 0x1c0 /* 0700 until its mode is set */), "mkdirat", display);
                return true;
            case Libc.S_IFREG:
                var key = (entry.Status.DevMajor, entry.Status.DevMinor, entry.Status.Ino);
                if (entry.Status.Nlink > 1 && links.TryGetValue(key, out var first))
                {
                    var (firstParent, firstName) = Split(first);
                    Errno.Check(Libc.LinkAt(targets.Open(firstParent).Fd, firstName, parent.Fd, name, 0), "linkat", $"{display} -> /{first}");
                    return false; // it shares the first copy's inode, and with it its owner, mode and times
                }
                int fd = tree.TryOpenEntry(sourceRoot, entry.Source, Libc.O_RDONLY);
                using (var source = fd >= 0 ? new FileDescriptor(fd) : throw SourceVanished(tree, entry, instruction))
                using (var copy = FileDescriptor.Wrap(
                    Libc.OpenAt(parent.Fd, name, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180), "openat", display))
                    FileTree.CopyContents(source, copy, $"{tree.Root}/{entry.Source} -> {display}");
                if (entry.Status.Nlink > 1)
                    links[key] = path;
                return true;
            case Libc.S_IFLNK:
                Errno.Check(Libc.SymlinkAt(ContentHasher.ReadLink(tree, sourceRoot, entry), parent.Fd, name), "symlinkat", display);
                return true;
            case Libc.S_IFCHR or Libc.S_IFBLK or Libc.S_IFIFO:
                Errno.Check(Libc.MknodAt(parent.Fd, name, entry.Type | 0x180, Libc.MakeDev(entry.Status.RdevMajor, entry.Status.RdevMinor)), "mknodat", display);
                return true;
            default:
                return false; // a socket: nothing a copy can recreate, as tar skips it
        }
    }

    /// <summary>Owner, then mode, then extended attributes: chown clears setuid bits and security.capability.</summary>
    private static void ApplyMetadata(CopyEntry entry, FileDescriptor parent, string name, (uint Uid, uint Gid) owner, ModeChange? chmod, string sourcePath)
    {
        Errno.Check(Libc.FchownAt(parent.Fd, name, owner.Uid, owner.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", name);
        if (entry.Type == Libc.S_IFLNK)
            return; // a symlink has no mode, and Linux allows no user xattrs on it
        uint mode = chmod?.Apply(entry.Status.Mode) ?? (uint)(entry.Status.Mode & 0xFFF);
        // Following is safe: the last component was just created (or checked to be a directory) by this copy.
        Errno.Check(Libc.FchmodAt(parent.Fd, name, mode, 0), "fchmodat", name);
        string target = $"/proc/self/fd/{parent.Fd}/{name}";
        foreach (var xattr in Libc.ListXattrsNoFollow(sourcePath))
        {
            if (Libc.GetXattrNoFollow(sourcePath, xattr) is { } value)
                Libc.SetXattrNoFollow(target, xattr, value);
        }
    }

    private static unsafe void SetTimes(FileDescriptor parent, string name, Libc.Statx status)
    {
        var times = stackalloc Libc.Timespec[2];
        times[0] = new Libc.Timespec { Seconds = status.Atime.Seconds, Nanoseconds = status.Atime.Nanoseconds };
        times[1] = new Libc.Timespec { Seconds = status.Mtime.Seconds, Nanoseconds = status.Mtime.Nanoseconds };
        Errno.Check(Libc.UtimensAt(parent.Fd, name, times, Libc.AT_SYMLINK_NOFOLLOW), "utimensat", name);
    }

    /// <summary>
    /// ADD's test for a local archive, as docker's: after the compression its magic bytes announce (gzip, zstd, or
    /// none) comes a valid tar header. xz and bzip2 are announced too, but .NET has no decoder for them: a clear error
    /// rather than copying the archive as a file, which the Dockerfile did not ask for.
    /// </summary>
    private static bool IsArchive(SourceTree tree, FileDescriptor sourceRoot, CopyEntry entry, string instruction)
    {
        if (entry.Type != Libc.S_IFREG)
            return false;
        int fd = tree.TryOpenEntry(sourceRoot, entry.Source, Libc.O_RDONLY);
        using var file = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd >= 0 ? fd : throw SourceVanished(tree, entry, instruction), ownsHandle: true), FileAccess.Read, bufferSize: 0);
        Span<byte> magic = stackalloc byte[6];
        int count = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        try
        {
            LayerDecompression.Detect(magic[..count]);
        }
        catch (LayerException error)
        {
            // Detect refuses exactly the compressions it recognizes but cannot decode: xz and bzip2.
            throw new BuildException(ErrorKind.FailedPrecondition,
                $"{instruction} source {entry.Source} is an {(magic[0] == 0xfd ? "xz" : "bzip2")}-compressed archive, which skiff cannot extract (the .NET runtime has no decoder for it); recompress it with gzip or zstd, or COPY it to keep it as a file", error);
        }
        file.Position = 0;
        try
        {
            using var decompressed = LayerDecompression.Open(file, out _);
            var header = new byte[512];
            return decompressed.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length && IsTarHeader(header);
        }
        catch (Exception error) when (error is InvalidDataException or IOException or ZstdSharp.ZstdException)
        {
            return false; // compressed-looking, but not a stream that decompresses: a plain file to copy
        }
    }

    /// <summary>Whether <paramref name="block"/> is a tar header: its checksum field holds the sum of its bytes (that field counted as spaces).</summary>
    internal static bool IsTarHeader(ReadOnlySpan<byte> block)
    {
        var field = block.Slice(148, 8);
        long stored = 0;
        bool digits = false;
        foreach (byte b in field)
        {
            if (b is >= (byte)'0' and <= (byte)'7')
            {
                stored = stored * 8 + (b - '0');
                digits = true;
            }
            else if (b is not (0 or (byte)' '))
            {
                return false;
            }
        }
        if (!digits)
            return false;
        long unsigned = 0, signed = 0;
        for (int i = 0; i < block.Length; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        return stored == unsigned || stored == signed;
    }

    /// <summary>ADD of a local archive: unpacked into the destination directory, owners kept unless --chown; OCI whiteouts are ordinary names here.</summary>
    private static void Extract(SourceTree tree, FileDescriptor sourceRoot, CopyEntry entry, FileDescriptor directory, (uint Uid, uint Gid)? owner, string instruction)
    {
        int fd = tree.TryOpenEntry(sourceRoot, entry.Source, Libc.O_RDONLY);
        using var file = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd >= 0 ? fd : throw SourceVanished(tree, entry, instruction), ownsHandle: true), FileAccess.Read, bufferSize: 0);
        var unpacker = new LayerUnpacker { Whiteouts = false, ApplyOwnership = true, Owner = owner is { } o ? ((int)o.Uid, (int)o.Gid) : null };
        try
        {
            unpacker.Unpack(file, directory);
        }
        catch (Exception error) when (error is InvalidDataException or LayerException or EndOfStreamException or FormatException)
        {
            throw new BuildException($"{instruction} cannot extract the archive {entry.Source}: {error.Message}", error);
        }
    }

    private static BuildException SourceVanished(SourceTree tree, CopyEntry entry, string instruction)
        => new(ErrorKind.NotFound, $"{instruction} source {entry.Source} was removed from {tree.Root} while it was copied; build again");

    private static string Relative(string absolute) => absolute == "/" ? "." : absolute[1..];

    private static string Join(string directory, string target) => target.Length == 0 ? directory : directory == "." ? target : directory + "/" + target;

    private static (string Parent, string Name) Split(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? (".", path) : (path[..slash], path[(slash + 1)..]);
    }
}
