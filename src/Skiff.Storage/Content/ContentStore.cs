using System.Security.Cryptography;
using System.Text;
using Skiff.Oci.Image;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Storage.Content;

/// <summary>
/// A content-addressed blob store in the layout containerd uses: <c>blobs/&lt;algorithm&gt;/&lt;hex&gt;</c> for
/// committed content, <c>ingest/</c> for writes in progress. A blob path exists only once its bytes were
/// verified against its digest and size and fsynced, because commit is a rename on the same filesystem:
/// readers see either nothing or the complete blob, never a partial one, whatever crashes in between.
/// </summary>
public sealed class ContentStore
{
    public ContentStore(string root)
    {
        Root = System.IO.Path.GetFullPath(root);
        PrivateStore.EnsureDirectory(Root);
        Directory.CreateDirectory(BlobsDirectory);
        Directory.CreateDirectory(IngestDirectory);
    }

    public string Root { get; }

    internal string BlobsDirectory => System.IO.Path.Combine(Root, "blobs");
    internal string IngestDirectory => System.IO.Path.Combine(Root, "ingest");

    /// <summary>Where the blob lives once committed (it may not exist).</summary>
    public string BlobPath(Digest digest) => System.IO.Path.Combine(BlobsDirectory, digest.Algorithm, digest.Encoded);

    public bool Exists(Digest digest) => File.Exists(BlobPath(digest));

    /// <summary>Size of a committed blob; throws <see cref="ContentException"/> when it is absent.</summary>
    public BlobInfo Info(Digest digest)
    {
        var file = new FileInfo(BlobPath(digest));
        return file.Exists ? new BlobInfo(digest, file.Length) : throw NotFound(digest);
    }

    /// <summary>Opens a committed blob for reading.</summary>
    /// <remarks>
    /// Opened with open(2) rather than a FileStream path: .NET takes an flock on every path it opens, and the writer
    /// that just committed this blob may still hold its exclusive one on the same inode (the lock moves with the
    /// rename), so a concurrent pull reading the blob would fail with a sharing violation. Readers need no lock.
    /// </remarks>
    public Stream Open(Digest digest)
    {
        string path = BlobPath(digest);
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Errno.Last;
            throw errno == Errno.ENOENT ? NotFound(digest) : new ContentException(ErrorKinds.OfErrno(errno), $"blob {digest}: {new SyscallException("open", path, errno).Message}");
        }
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 1);
    }


    /// <summary>Removes a blob; false when it was not there. Readers that have it open keep their copy.</summary>
    public bool Delete(Digest digest)
    {
        string path = BlobPath(digest);
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        return true;
    }

    /// <summary>Every committed blob of a supported algorithm; files whose names are not digests are skipped.</summary>
    public IEnumerable<BlobInfo> List()
    {
        foreach (string algorithm in new[] { Digest.Sha256, Digest.Sha512 })
        {
            var directory = new DirectoryInfo(System.IO.Path.Combine(BlobsDirectory, algorithm));
            if (!directory.Exists)
                continue;
            foreach (var file in directory.EnumerateFiles())
            {
                if (Digest.TryParse($"{algorithm}:{file.Name}", out var digest))
                    yield return new BlobInfo(digest, file.Length);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> as the blob <paramref name="expected"/>: into a private temporary file,
    /// hashing as it goes, then verified, fsynced and renamed into place. A blob already present is not written
    /// again. On a wrong size or digest nothing is left behind and a <see cref="ContentException"/> names both values.
    /// </summary>
    public BlobInfo Ingest(Digest expected, long expectedSize, Stream content)
    {
        if (Exists(expected))
            return Info(expected);
        using var writer = CreateWriter(TemporaryIngestName(), expected, expectedSize, resumable: false);
        var buffer = new byte[CopyBufferSize];
        int read;
        while ((read = content.Read(buffer)) > 0)
            writer.Write(buffer.AsSpan(0, read));
        return writer.Commit();
    }

    /// <inheritdoc cref="Ingest"/>
    public async Task<BlobInfo> IngestAsync(Digest expected, long expectedSize, Stream content, CancellationToken cancellationToken = default)
    {
        if (Exists(expected))
            return Info(expected);
        using var writer = CreateWriter(TemporaryIngestName(), expected, expectedSize, resumable: false);
        var buffer = new byte[CopyBufferSize];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        return writer.Commit();
    }

    /// <summary>
    /// Writes <paramref name="content"/>, whose digest is not known in advance (a docker-archive layer, an imported
    /// rootfs), as a blob named by the <paramref name="algorithm"/> digest computed while writing; fsynced and renamed
    /// into place like <see cref="Ingest"/>. <paramref name="added"/> says whether the blob was new to the store, so
    /// a caller that fails later knows which blobs are its own to remove.
    /// </summary>
    public BlobInfo Add(Stream content, out bool added, string algorithm = Digest.Sha256)
        => Add(output => content.CopyTo(output, CopyBufferSize), out added, algorithm);

    /// <summary>
    /// Like <see cref="Add(Stream, out bool, string)"/> for content that is produced rather than read (a layer
    /// compressed as it is made): <paramref name="write"/> writes it to the stream it is given, which hashes it on
    /// the way to a temporary file. If <paramref name="write"/> throws, nothing is left behind.
    /// </summary>
    public BlobInfo Add(Action<Stream> write, out bool added, string algorithm = Digest.Sha256)
    {
        string directory = System.IO.Path.Combine(IngestDirectory, TemporaryIngestName());
        Directory.CreateDirectory(directory);
        try
        {
            string dataPath = System.IO.Path.Combine(directory, "data");
            using var data = new FileStream(dataPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            Digest digest;
            using (var hashing = new HashingStream(data, algorithm))
            {
                write(hashing);
                digest = hashing.Digest;
            }
            added = !Exists(digest);
            return added ? CommitVerified(data, dataPath, digest, data.Length) : Info(digest);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Opens (or continues) the resumable ingest named <paramref name="reference"/>, e.g.
    /// <c>docker.io/library/busybox@sha256:..</c>. Its partial data is kept under a name derived from the reference,
    /// so after a crash or a dropped connection the next call returns a writer whose <see cref="ContentWriter.Offset"/>
    /// is the number of bytes already there (ask the registry for <c>Range: bytes=Offset-</c>). Disposing the writer
    /// without committing keeps the partial data; <see cref="AbortIngest"/> drops it. Only one writer per reference
    /// at a time (an exclusive lock on the data file): a second gets a <see cref="ContentException"/>.
    /// </summary>
    public ContentWriter OpenIngest(string reference, Digest expected, long expectedSize)
    {
        if (string.IsNullOrEmpty(reference))
            throw new ArgumentException("an ingest needs a reference name", nameof(reference));
        return CreateWriter(IngestKey(reference), expected, expectedSize, resumable: true, reference);
    }

    /// <summary>Drops the partial data of a resumable ingest; false when there was none.</summary>
    public bool AbortIngest(string reference)
    {
        string directory = System.IO.Path.Combine(IngestDirectory, IngestKey(reference));
        if (!Directory.Exists(directory))
            return false;
        Directory.Delete(directory, recursive: true);
        return true;
    }

    /// <summary>Resumable ingests in progress: their reference and the bytes written so far.</summary>
    public IEnumerable<(string Reference, long Offset)> ListIngests()
    {
        foreach (var directory in new DirectoryInfo(IngestDirectory).EnumerateDirectories())
        {
            var referenceFile = System.IO.Path.Combine(directory.FullName, "ref");
            var dataFile = new FileInfo(System.IO.Path.Combine(directory.FullName, "data"));
            if (File.Exists(referenceFile) && dataFile.Exists)
                yield return (File.ReadAllText(referenceFile), dataFile.Length);
        }
    }

    internal const int CopyBufferSize = 1 << 20;

    private ContentWriter CreateWriter(string key, Digest expected, long expectedSize, bool resumable, string? reference = null)
    {
        if (expectedSize < 0)
            throw new ArgumentOutOfRangeException(nameof(expectedSize), "the size of a blob must be known before it is ingested");
        string directory = System.IO.Path.Combine(IngestDirectory, key);
        try
        {
            Directory.CreateDirectory(directory);
            if (reference is not null)
                File.WriteAllText(System.IO.Path.Combine(directory, "ref"), reference);
        }
        catch (IOException error)
        {
            // The writer holding this ingest committed and removed its directory between our mkdir and write.
            throw new ContentException(ErrorKind.Conflict, $"ingest {reference ?? key}: already being written by another writer", error);
        }
        try
        {
            return new ContentWriter(this, directory, expected, expectedSize, resumable, reference ?? key);
        }
        catch
        {
            if (!resumable)
                Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Commits a verified ingest: fsync the data, rename it to its blob path, fsync the blob directory.</summary>
    internal BlobInfo CommitVerified(FileStream data, string dataPath, Digest digest, long size)
    {
        data.Flush(flushToDisk: true);
        string blobDirectory = System.IO.Path.Combine(BlobsDirectory, digest.Algorithm);
        Directory.CreateDirectory(blobDirectory);
        // rename(2) is atomic and replaces: when two writers race on the same blob, the second replaces identical
        // bytes with identical bytes, and a reader that opened the first keeps a valid inode either way.
        File.Move(dataPath, BlobPath(digest), overwrite: true);
        Libc.FsyncDirectory(blobDirectory);
        return new BlobInfo(digest, size);
    }

    private static string TemporaryIngestName() => "tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>A fixed-length, path-safe key for a reference of any length or character set.</summary>
    private static string IngestKey(string reference)
        => "ref-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reference)));

    private static ContentException NotFound(Digest digest) => new(ErrorKind.NotFound, $"blob {digest}: not found in the content store");
}
