using System.Formats.Tar;
using System.IO.Pipes;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Interop;
using Skiff.Storage.Snapshots;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// Files in and out of a container as archives (<c>host.ContainerFiles</c>), running or not, with docker cp's path
/// rules: a directory source is copied as that directory (or its contents with "SRC/."), into an existing
/// directory destination or as a new name; a file over an existing file takes its name; a destination that ends
/// in "/" must be a directory; a destination that is a symlink is written through. Container paths are resolved
/// inside the container's root only (<see cref="ContainerFiles"/>), host paths as the host resolves them. Files
/// copied into a container are root's unless their owners are kept, files copied out are the caller's. Safe for
/// concurrent calls: each opens the container's files for itself.
/// </summary>
public sealed class ContainerArchives(ContainerQueries containers)
{
    /// <summary>
    /// Where one side of the copy is: a directory descriptor, the path below it ("." for it) and how to resolve it;
    /// <see cref="Raw"/> as the caller wrote it (its trailing "/" or "/." matter) and <see cref="Name"/>, its last
    /// component once "." and ".." are applied.
    /// </summary>
    private sealed record Place(FileDescriptor Root, string Path, ulong Resolve, string Raw, string Name, string? Container, bool Writable = true)
    {
        public string Display => Container is null ? Raw : $"{Container}:{Raw}";
    }

    /// <summary>What is copied: <see cref="Name"/> in <see cref="Parent"/> ("" for Parent itself), archived as <see cref="EntryName"/>.</summary>
    private sealed record Source(FileDescriptor Parent, string Name, string EntryName, bool IsDirectory);

    /// <summary>docker's GET /containers/{id}/archive: <paramref name="path"/> as a tar stream, its entries named after its last component ("dir/." for its contents).</summary>
    public void CopyOut(string container, string path, Stream output, bool followLink = false)
    {
        using var files = containers.OpenFiles(container);
        var source = FindSource(InContainer(files, path), followLink);
        using (source.Parent)
            WriteTar(output, source, files.MayEnter);
    }

    /// <summary>docker's PUT /containers/{id}/archive: unpacks <paramref name="archive"/> into the existing directory <paramref name="directory"/>.</summary>
    public void CopyIn(string container, string directory, Stream archive, bool keepOwnership = false)
    {
        using var files = containers.OpenFiles(container);
        var into = WritablePlace(files, directory);
        using var opened = OpenExisting(into, Libc.O_DIRECTORY);
        Unpack(archive, opened, Unpacker(keepOwnership), into);
    }

    /// <summary>docker cp CONTAINER:PATH HOSTPATH.</summary>
    public void CopyToHost(string container, string path, string hostPath, bool followLink = false)
    {
        using var files = containers.OpenFiles(container);
        using var host = HostRoot();
        var source = FindSource(InContainer(files, path), followLink);
        using (source.Parent)
            Copy(source, OnHost(host, hostPath), files.MayEnter, new LayerUnpacker { Whiteouts = false, ApplyOwnership = false });
    }

    /// <summary>docker cp HOSTPATH CONTAINER:PATH.</summary>
    public void CopyFromHost(string hostPath, string container, string path, bool followLink = false, bool keepOwnership = false)
    {
        using var files = containers.OpenFiles(container);
        using var host = HostRoot();
        var into = WritablePlace(files, path);
        var source = FindSource(OnHost(host, hostPath), followLink);
        using (source.Parent)
            Copy(source, into, _ => true, Unpacker(keepOwnership));
    }

    /// <summary>
    /// docker export: the container's whole filesystem as a tar stream, from the host's mount of its rootfs, where
    /// its volumes and the engine's /etc files are not (they are mounted only in the container's own mount
    /// namespace), so they are left out as docker leaves them out.
    /// </summary>
    public void Export(string container, Stream output)
    {
        var record = containers.Get(container);
        string rootfs = record.Config.RootfsPath;
        if (!MountInfo.IsMountPoint(rootfs))
            throw new EngineException(ErrorKind.FailedPrecondition,
                $"the rootfs of container {record.Name} is not mounted at {rootfs} (was the host restarted?); start the container once, then export it");
        TreeArchiver.WriteTree(rootfs, output);
    }

    private static LayerUnpacker Unpacker(bool keepOwnership)
        => new() { Whiteouts = false, ApplyOwnership = true, Owner = keepOwnership ? null : (0, 0) };

    private static FileDescriptor HostRoot() => FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/");

    private static Place WritablePlace(ContainerFiles files, string path)
    {
        var place = InContainer(files, path);
        return place.Writable ? place
            : throw new EngineException(ErrorKind.PermissionDenied, $"cannot copy into {place.Display}: it is on a read-only volume or rootfs of the container");
    }

    private static Place InContainer(ContainerFiles files, string path)
    {
        var (root, relative, writable) = files.Locate("/" + path);
        return new Place(root, relative, ContainerFiles.Resolve, path, NameOf("/" + path), files.Name, writable);
    }

    private static Place OnHost(FileDescriptor host, string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return new Place(host, full == "/" ? "." : full.TrimEnd('/')[1..], 0, path, NameOf(full), Container: null);
    }

    /// <summary>The last component of a path once "." and ".." are applied ("." for the root), as docker cp names what it copies.</summary>
    internal static string NameOf(string absolutePath)
        => System.IO.Path.GetFileName(System.IO.Path.GetFullPath(absolutePath).TrimEnd('/')) is { Length: > 0 } name ? name : ".";

    private static Source FindSource(Place place, bool followLink)
    {
        if (EndsWithDot(place.Raw))
            return new Source(OpenExisting(place, Libc.O_DIRECTORY), "", ".", IsDirectory: true);
        if (followLink || place.Raw.EndsWith('/') || place.Path == ".")
        {
            var target = OpenExisting(place, place.Raw.EndsWith('/') ? Libc.O_DIRECTORY : 0);
            bool isDirectory = Libc.TryStatAt(target, "") is { } status && (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
            return new Source(target, "", place.Name, isDirectory);
        }
        var parent = OpenParent(place);
        if (Libc.TryStatAt(parent, Base(place.Path)) is not { } entry)
        {
            parent.Dispose();
            throw NotFound(place);
        }
        return new Source(parent, Base(place.Path), place.Name, (entry.Mode & Libc.S_IFMT) == Libc.S_IFDIR);
    }

    /// <summary>docker's PrepareArchiveCopy: which directory receives the archive, and under which name the source lands there.</summary>
    private static void Copy(Source source, Place target, Func<Libc.Statx, bool> mayEnter, LayerUnpacker unpacker)
    {
        target = ThroughSymlinks(target);
        int fd = Libc.TryOpenAt2(target.Root, target.Path, Libc.O_PATH | Libc.O_CLOEXEC, target.Resolve);
        if (fd < 0 && Errno.Last != Errno.ENOENT)
            throw Failure(target, Errno.Last);
        using var existing = fd >= 0 ? new FileDescriptor(fd) : null;
        bool targetIsDirectory = existing is not null && Libc.TryStatAt(existing, "") is { } status && (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
        if (existing is not null && targetIsDirectory)
        {
            Transfer(source, existing, mayEnter, unpacker, target);
            return;
        }
        if (existing is not null && source.IsDirectory)
            throw new EngineException(ErrorKind.InvalidArgument, $"cannot copy a directory over the file {target.Display}");
        if (existing is null && !source.IsDirectory && (target.Raw.EndsWith('/') || EndsWithDot(target.Raw)))
            throw new EngineException(ErrorKind.NotFound, $"no such directory: {target.Display} (a destination ending in / must be an existing directory)");
        using var parent = OpenParent(target);
        Transfer(source with { EntryName = target.Name }, parent, mayEnter, unpacker, target);
    }

    /// <summary>
    /// docker's CopyInfoDestinationPath: a destination that is a symlink stands for what it points to (resolved
    /// inside the same root), so the copy writes through it, even to a target that does not exist yet, instead of
    /// replacing the link.
    /// </summary>
    private static Place ThroughSymlinks(Place target)
    {
        for (int hops = 0; hops < 40; hops++)
        {
            int fd = Libc.TryOpenAt2(target.Root, target.Path, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, target.Resolve);
            if (fd < 0)
                return target;
            using var link = new FileDescriptor(fd);
            if (Libc.TryStatAt(link, "") is not { } status || (status.Mode & Libc.S_IFMT) != Libc.S_IFLNK)
                return target;
            string resolved = ResolveLink("/" + target.Path, Libc.ReadLink(link));
            target = target with { Path = resolved == "/" ? "." : resolved.TrimEnd('/')[1..], Name = NameOf(resolved) };
        }
        throw new EngineException(ErrorKind.InvalidArgument, $"{target.Display}: too many levels of symbolic links");
    }

    /// <summary>Where the symlink at <paramref name="linkPath"/> pointing to <paramref name="destination"/> leads, never above the root it is resolved in.</summary>
    internal static string ResolveLink(string linkPath, string destination)
    {
        string parent = System.IO.Path.GetDirectoryName(linkPath) ?? "/";
        // GetFullPath on an absolute path applies ".." without going above "/".
        return System.IO.Path.GetFullPath(destination.StartsWith('/') ? destination : System.IO.Path.Combine(parent, destination));
    }

    /// <summary>Archives the source and unpacks it at the same time, through a pipe: nothing is staged on disk.</summary>
    private static void Transfer(Source source, FileDescriptor directory, Func<Libc.Statx, bool> mayEnter, LayerUnpacker unpacker, Place target)
    {
        using var output = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new AnonymousPipeClientStream(PipeDirection.In, output.ClientSafePipeHandle);
        var writer = Task.Run(() =>
        {
            using (output)
                WriteTar(output, source, mayEnter);
        });
        Exception? unpackError = null;
        try
        {
            Unpack(input, directory, unpacker, target);
        }
        catch (Exception error)
        {
            unpackError = error;
            input.Dispose(); // the writer then fails on its next write instead of blocking
        }
        try
        {
            writer.GetAwaiter().GetResult();
        }
        catch (IOException) when (unpackError is not null)
        {
            // the pipe closed under it: the unpack error says why
        }
        if (unpackError is not null)
            throw unpackError;
    }

    private static void Unpack(Stream archive, FileDescriptor directory, LayerUnpacker unpacker, Place target)
    {
        try
        {
            unpacker.Unpack(archive, directory);
        }
        catch (InvalidDataException error)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"cannot copy into {target.Display}: the archive is not a valid tar stream: {error.Message}", error);
        }
    }

    private static void WriteTar(Stream output, Source source, Func<Libc.Statx, bool> mayEnter)
    {
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
            TreeArchive.Write(tar, output, source.Parent, source.Name, source.EntryName, mayEnter);
        output.Flush();
    }

    private static FileDescriptor OpenExisting(Place place, int flags)
    {
        int fd = Libc.TryOpenAt2(place.Root, place.Path, Libc.O_PATH | Libc.O_CLOEXEC | flags, place.Resolve);
        return fd >= 0 ? new FileDescriptor(fd) : throw Failure(place, Errno.Last);
    }

    private static FileDescriptor OpenParent(Place place)
    {
        var parent = System.IO.Path.GetDirectoryName("/" + place.Path)!.TrimStart('/');
        int fd = Libc.TryOpenAt2(place.Root, parent.Length == 0 ? "." : parent, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, place.Resolve);
        return fd >= 0 ? new FileDescriptor(fd) : throw Failure(place, Errno.Last);
    }

    private static Exception Failure(Place place, int errno) => errno switch
    {
        Errno.ENOENT => NotFound(place),
        ENOTDIR => new EngineException(ErrorKind.InvalidArgument, $"{place.Display}: not a directory"),
        _ => new SyscallException("openat2", place.Display, errno),
    };

    private static EngineException NotFound(Place place) => place.Container is { } container
        ? new EngineException(ErrorKind.NotFound, $"Could not find the file {place.Raw} in container {container}: no such file or directory")
        : new EngineException(ErrorKind.NotFound, $"lstat {place.Raw}: no such file or directory");

    internal static bool EndsWithDot(string path) => path == "." || path.EndsWith("/.", StringComparison.Ordinal);

    private static string Base(string path) => path == "." ? "." : path[(path.LastIndexOf('/') + 1)..];

    private const int ENOTDIR = 20;
}
