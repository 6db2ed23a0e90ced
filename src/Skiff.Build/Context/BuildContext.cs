using System.Formats.Tar;
using System.IO.Pipes;
using Skiff.Images.Layers;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>
/// What `skiff build` builds from: a directory read in place (never copied whole: only what COPY names is read, and
/// hashed through <see cref="StatCache"/>), or a tar stream (`skiff build -`, the Docker API's body) extracted into a
/// private directory that <see cref="Dispose"/> removes. Its .dockerignore is chosen as BuildKit chooses it:
/// "&lt;Dockerfile&gt;.dockerignore" beside the Dockerfile first, else ".dockerignore" at the root. The Dockerfile and
/// the ignore file stay readable by the builder even when the patterns exclude them.
/// </summary>
public sealed class BuildContext : IDisposable
{
    private readonly string? _extracted;

    private BuildContext(string directory, IgnorePatterns ignore, string? extracted)
    {
        Directory = directory;
        Ignore = ignore;
        _extracted = extracted;
    }

    /// <summary>The context's root directory.</summary>
    public string Directory { get; }

    /// <summary>The .dockerignore patterns in force (<see cref="IgnorePatterns.None"/> without a file).</summary>
    public IgnorePatterns Ignore { get; }

    /// <summary>The context as a root COPY sources are resolved in: symlinks leaving it are refused, ignored files are absent.</summary>
    public SourceTree Sources => new(Directory, SourceScope.Context, Ignore);

    /// <summary>
    /// The directory <paramref name="directory"/> as the context. <paramref name="dockerfile"/> is the Dockerfile's
    /// path (absolute, or relative to the context; it may lie outside it, as with `-f ../x`), used to find its
    /// own ignore file.
    /// </summary>
    public static BuildContext FromDirectory(string directory, string dockerfile = "Dockerfile")
    {
        var full = Path.GetFullPath(directory);
        if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, full, followLastSymlink: true) is not { } status)
            throw new BuildException(ErrorKind.NotFound, $"the build context {directory} does not exist; give an existing directory");
        if ((status.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            throw new BuildException($"the build context {directory} is not a directory; give a directory, or - for a tar stream on stdin");
        return new BuildContext(full, ReadIgnore(full, dockerfile), extracted: null);
    }

    /// <summary>
    /// A tar stream (plain, gzip or zstd) as the context, extracted as it is read (memory stays bounded whatever its
    /// size) into a new 0700 directory under <paramref name="temporaryRoot"/>. Entries are confined to it (names
    /// climbing out with ".." are refused, symlinks are kept as links and never followed while extracting), device
    /// nodes are skipped, owners are not applied. A broken stream leaves nothing behind.
    /// <paramref name="dockerfile"/> is the Dockerfile's path inside the archive.
    /// </summary>
    public static BuildContext FromTar(Stream tar, string temporaryRoot, string dockerfile = "Dockerfile")
    {
        PrivateStore.EnsureDirectory(temporaryRoot);
        var directory = Path.Combine(temporaryRoot, "context-" + Convert.ToHexStringLower(SecureRandom.Bytes(8)));
        Errno.Check(Libc.Mkdir(directory, PrivateStore.DirectoryMode), "mkdir", directory);
        try
        {
            Errno.Check(Libc.Chmod(directory, PrivateStore.DirectoryMode), "chmod", directory);
            Extract(tar, directory);
            // The archive's root entry may have set a looser mode on the directory itself.
            Errno.Check(Libc.Chmod(directory, PrivateStore.DirectoryMode), "chmod", directory);
            return new BuildContext(directory, ReadIgnore(directory, Path.Combine(directory, dockerfile)), directory);
        }
        catch
        {
            FileTree.Delete(directory);
            throw;
        }
    }

    /// <summary>
    /// The bytes of a file of the context (the Dockerfile), whatever .dockerignore says; symlinks are followed only
    /// inside the context.
    /// </summary>
    public byte[] ReadFile(string relativePath)
    {
        using var root = FileDescriptor.Wrap(Libc.Open(Directory, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", Directory);
        int fd = Libc.TryOpenAt2(root, relativePath.TrimStart('/'), Libc.O_RDONLY | Libc.O_CLOEXEC, Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
        {
            throw Errno.Last switch
            {
                Errno.ENOENT => new BuildException(ErrorKind.NotFound, $"{relativePath} does not exist in the build context"),
                Errno.EXDEV => new BuildException($"{relativePath} leads outside the build context through a symlink; name a file inside it"),
                int errno => new SyscallException("openat2", relativePath, errno),
            };
        }
        using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public void Dispose()
    {
        if (_extracted is not null)
            FileTree.Delete(_extracted);
    }

    private static IgnorePatterns ReadIgnore(string directory, string dockerfile)
    {
        var beside = Path.GetFullPath(dockerfile, directory) + ".dockerignore";
        foreach (var candidate in new[] { beside, Path.Combine(directory, ".dockerignore") })
        {
            if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, candidate, followLastSymlink: true) is { } status && (status.Mode & Libc.S_IFMT) == Libc.S_IFREG)
                return IgnorePatterns.ParseDockerignore(File.ReadAllText(candidate), candidate);
        }
        return IgnorePatterns.None;
    }

    /// <summary>
    /// Passes the archive's entries but device nodes through a pipe to <see cref="LayerUnpacker"/>, which confines
    /// every entry to the directory; neither side holds more than a buffer.
    /// </summary>
    private static void Extract(Stream tar, string directory)
    {
        var unpacker = new LayerUnpacker { Whiteouts = false, ApplyOwnership = false };
        using var output = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new AnonymousPipeClientStream(PipeDirection.In, output.ClientSafePipeHandle);
        var unpack = Task.Run(() =>
        {
            using (input)
                unpacker.Unpack(input, directory);
        });
        Exception? filterError = null;
        try
        {
            using var decompressed = LayerDecompression.Open(tar, out _);
            using var reader = new TarReader(decompressed);
            using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.GlobalExtendedAttributes)
                    continue;
                if (entry.EntryType is not (TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile
                    or TarEntryType.SymbolicLink or TarEntryType.HardLink or TarEntryType.Fifo))
                    throw new InvalidDataException($"entry \"{entry.Name}\" has the type {(int)entry.EntryType}, which a build context cannot hold");
                writer.WriteEntry(Passed(entry));
            }
        }
        catch (Exception error)
        {
            filterError = error;
        }
        output.Dispose(); // the unpacker sees the end of the archive
        Exception? unpackError = null;
        try
        {
            unpack.GetAwaiter().GetResult();
        }
        catch (Exception error)
        {
            unpackError = error;
        }
        // When the unpacker refuses an entry it closes the pipe, and the filter then fails writing: the unpacker's error says why.
        var cause = unpackError is not null and not IOException ? unpackError : filterError ?? unpackError;
        // TarReader reports some malformed headers (a bad number field, an unknown format) as these.
        if (cause is InvalidDataException or LayerException or EndOfStreamException or IOException or FormatException or ArgumentException or OverflowException)
            throw new BuildException($"the build context is not a valid tar stream: {cause.Message}", cause);
        if (cause is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
    }

    /// <summary>
    /// A new entry with what the unpacker uses of <paramref name="entry"/>: TarWriter cannot take the read entry itself
    /// into a pipe (its data stream has no length to ask), and setting another stream on it would close its data.
    /// </summary>
    private static PaxTarEntry Passed(TarEntry entry)
    {
        var attributes = entry is PaxTarEntry pax ? pax.ExtendedAttributes : new Dictionary<string, string>();
        var copy = new PaxTarEntry(entry.EntryType is TarEntryType.V7RegularFile or TarEntryType.ContiguousFile ? TarEntryType.RegularFile : entry.EntryType, entry.Name, attributes)
        {
            Mode = entry.Mode,
            Uid = entry.Uid,
            Gid = entry.Gid,
            ModificationTime = entry.ModificationTime,
        };
        if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
            copy.LinkName = entry.LinkName;
        if (entry.DataStream is { } data)
            copy.DataStream = new KnownLength(data, entry.Length);
        return copy;
    }

    /// <summary>
    /// An entry's data as TarWriter takes it into a pipe: it refuses a stream whose length it cannot ask, and the
    /// reader's data stream cannot be asked, although the header read just before says it.
    /// </summary>
    private sealed class KnownLength(Stream data, long length) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _read;
            set
            {
                if (value != _read)
                    throw new NotSupportedException();
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = data.Read(buffer);
            _read += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin)
            => origin == SeekOrigin.Current && offset == 0 ? _read : throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
