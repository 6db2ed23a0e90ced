using System.Formats.Tar;
using System.IO.Pipes;
using Skiff.Engine;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff cp [-a] [-L] SRC DEST`, one side CONTAINER:PATH, either side "-" for a tar stream, with docker's path
/// rules: a directory source is copied as that directory (or its contents with "SRC/."), into an existing
/// directory destination or as a new name; a file over an existing file takes its name; a destination that ends
/// in "/" must be a directory. The host side is resolved as the host resolves paths; the container side inside
/// the container's root only (<see cref="ContainerFiles"/>). Files copied into a container are root's unless -a,
/// files copied out are the caller's, as with docker. Every failure exits 1, as docker cp's do.
/// </summary>
internal static class CpCommand
{
    public static readonly CliCommand Definition = new(
        "cp", "SRC_PATH DEST_PATH (one of them CONTAINER:PATH; \"-\" streams a tar)", "Copy files between a container and the host.",
        [new("archive", 'a', Help: "keep the files' uid and gid (else copied files are owned by the container's root)"),
         new("follow-link", 'L', Help: "copy what a source symlink points to"), CliCommand.Help],
        Run, MinPositionals: 2, MaxPositionals: 2, Aliases: ["container cp"]);

    /// <summary>
    /// Where one side of the copy is: a directory descriptor, the path below it ("." for it) and how to resolve it;
    /// <see cref="Raw"/> as the user wrote it (its trailing "/" or "/." matter) and <see cref="Name"/>, its last
    /// component once "." and ".." are applied.
    /// </summary>
    private sealed record Place(FileDescriptor Root, string Path, ulong Resolve, string Raw, string Name, string? Container, bool Writable = true)
    {
        public string Display => Container is null ? Raw : $"{Container}:{Raw}";
    }

    /// <summary>What is copied: <see cref="Name"/> in <see cref="Parent"/> ("" for Parent itself), archived as <see cref="EntryName"/>.</summary>
    private sealed record Source(FileDescriptor Parent, string Name, string EntryName, bool IsDirectory);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var (sourceContainer, sourcePath) = Split(args.Positionals[0]);
        var (targetContainer, targetPath) = Split(args.Positionals[1]);
        if (sourceContainer is not null && targetContainer is not null)
            throw new CliFailure(ErrorKind.InvalidArgument, "cp: copying between containers is not supported; copy through the host");
        if (sourceContainer is null && targetContainer is null)
            throw new CliFailure(ErrorKind.InvalidArgument, "cp: one of the paths must be CONTAINER:PATH");
        try
        {
            using var files = context.Engine.ContainerQueries.OpenFiles(sourceContainer ?? targetContainer!);
            using var host = FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/");
            if (sourceContainer is not null)
            {
                var source = FindSource(InContainer(files, sourcePath), args.Bool("follow-link"));
                using (source.Parent)
                {
                    if (targetPath == "-")
                        return WriteTar(Console.OpenStandardOutput(), source, files.MayEnter);
                    Copy(source, OnHost(host, targetPath), files.MayEnter, new LayerUnpacker { Whiteouts = false, ApplyOwnership = false });
                    return 0;
                }
            }
            var into = InContainer(files, targetPath);
            if (!into.Writable)
                throw new CliFailure(ErrorKind.PermissionDenied, $"cannot copy into {into.Display}: it is on a read-only volume or rootfs of the container");
            var unpacker = new LayerUnpacker { Whiteouts = false, ApplyOwnership = true, Owner = args.Bool("archive") ? null : (0, 0) };
            if (sourcePath == "-")
            {
                using var directory = OpenExisting(into, Libc.O_DIRECTORY);
                using var stdin = Console.OpenStandardInput();
                unpacker.Unpack(stdin, directory);
                return 0;
            }
            var hostSource = FindSource(OnHost(host, sourcePath), args.Bool("follow-link"));
            using (hostSource.Parent)
                Copy(hostSource, into, _ => true, unpacker);
            return 0;
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) || error is InvalidDataException)
        {
            throw new CliFailure(ErrorKinds.Of(error), error.Message, error);
        }
    }

    /// <summary>docker's split: "NAME:PATH" names a container unless the argument starts like a local path (/, ., or has no colon).</summary>
    private static (string? Container, string Path) Split(string argument)
    {
        if (argument == "-" || argument.StartsWith('/') || argument.StartsWith('.'))
            return (null, argument);
        int colon = argument.IndexOf(':');
        return colon <= 0 ? (null, argument) : (argument[..colon], argument[(colon + 1)..]);
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

    private static string NameOf(string absolutePath) => System.IO.Path.GetFileName(System.IO.Path.GetFullPath(absolutePath).TrimEnd('/')) is { Length: > 0 } name ? name : ".";

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
            Transfer(source, existing, mayEnter, unpacker);
            return;
        }
        if (existing is not null && source.IsDirectory)
            throw new EngineException($"cannot copy a directory over the file {target.Display}");
        if (existing is null && !source.IsDirectory && (target.Raw.EndsWith('/') || EndsWithDot(target.Raw)))
            throw new EngineException($"no such directory: {target.Display} (a destination ending in / must be an existing directory)");
        using var parent = OpenParent(target);
        Transfer(source with { EntryName = target.Name }, parent, mayEnter, unpacker);
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
            string destination = Libc.ReadLink(link);
            string parent = System.IO.Path.GetDirectoryName("/" + target.Path) ?? "/";
            // GetFullPath on an absolute path applies ".." without going above "/": the root it is resolved in.
            string resolved = System.IO.Path.GetFullPath(destination.StartsWith('/') ? destination : System.IO.Path.Combine(parent, destination));
            target = target with { Path = resolved == "/" ? "." : resolved.TrimEnd('/')[1..], Name = NameOf(resolved) };
        }
        throw new EngineException($"{target.Display}: too many levels of symbolic links");
    }

    /// <summary>Archives the source and unpacks it at the same time, through a pipe: nothing is staged on disk.</summary>
    private static void Transfer(Source source, FileDescriptor directory, Func<Libc.Statx, bool> mayEnter, LayerUnpacker unpacker)
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
            unpacker.Unpack(input, directory);
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) || error is InvalidDataException)
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

    private static int WriteTar(Stream output, Source source, Func<Libc.Statx, bool> mayEnter)
    {
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
            TreeArchive.Write(tar, output, source.Parent, source.Name, source.EntryName, mayEnter);
        output.Flush();
        return 0;
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
        ENOTDIR => new EngineException($"{place.Display}: not a directory"),
        _ => new SyscallException("openat2", place.Display, errno),
    };

    private static EngineException NotFound(Place place) => place.Container is { } container
        ? new EngineException($"Could not find the file {place.Raw} in container {container}: no such file or directory")
        : new EngineException($"lstat {place.Raw}: no such file or directory");

    private static bool EndsWithDot(string path) => path == "." || path.EndsWith("/.", StringComparison.Ordinal);

    private static string Base(string path) => path == "." ? "." : path[(path.LastIndexOf('/') + 1)..];

    private const int ENOTDIR = 20;
}
