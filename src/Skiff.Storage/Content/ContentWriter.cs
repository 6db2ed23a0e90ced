using System.Security.Cryptography;
using Skiff.Interop;
using Skiff.Oci.Image;

namespace Skiff.Storage.Content;

/// <summary>
/// One blob being written. Bytes are hashed as they are written, so the blob is read once; a resumed writer
/// re-hashes the partial data already on disk first (an IncrementalHash's state cannot be saved).
/// </summary>
public sealed class ContentWriter : IDisposable
{
    private readonly ContentStore _store;
    private readonly string _directory;
    private readonly string _dataPath;
    private readonly bool _resumable;
    private readonly FileStream _data;
    private readonly IncrementalHash _hash;
    private bool _finished;

    internal ContentWriter(ContentStore store, string directory, Digest expected, long expectedSize, bool resumable, string name)
    {
        _store = store;
        _directory = directory;
        _dataPath = Path.Combine(directory, "data");
        _resumable = resumable;
        Expected = expected;
        ExpectedSize = expectedSize;
        try
        {
            // FileShare.None is an exclusive flock on Unix: a second writer of the same ingest, in this process or
            // another, fails here instead of interleaving its bytes with ours.
            _data = new FileStream(_dataPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        }
        catch (IOException error)
        {
            // Either the lock is held, or the holder committed between our mkdir and open and removed the ingest
            // directory (DirectoryNotFoundException): both mean "another writer has it", never a caller's bug.
            throw new ContentException(ErrorKind.Conflict, $"ingest {name}: already being written by another writer", error);
        }
        _hash = expected.CreateHash();
        try
        {
            if (_data.Length > expectedSize)
                throw Fail($"blob {expected}: partial ingest {name} holds {_data.Length} bytes, more than the expected {expectedSize}");
            var buffer = new byte[ContentStore.CopyBufferSize];
            int read;
            while ((read = _data.Read(buffer)) > 0)
                _hash.AppendData(buffer, 0, read);
            Offset = _data.Position;
        }
        catch
        {
            _hash.Dispose();
            _data.Dispose();
            throw;
        }
    }

    public Digest Expected { get; }
    public long ExpectedSize { get; }

    /// <summary>Bytes written so far, including those of an earlier, interrupted attempt.</summary>
    public long Offset { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        CheckRoom(bytes.Length);
        _data.Write(bytes);
        _hash.AppendData(bytes);
        Offset += bytes.Length;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        CheckRoom(bytes.Length);
        await _data.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        _hash.AppendData(bytes.Span);
        Offset += bytes.Length;
    }

    /// <summary>
    /// Verifies size and digest and moves the blob into the store. On a mismatch the partial data is removed
    /// (it can never become the expected blob, so resuming it would only fail again).
    /// </summary>
    public BlobInfo Commit()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (Offset != ExpectedSize)
            throw Fail($"blob {Expected}: expected {ExpectedSize} bytes, got {Offset}");
        var actual = Digest.FromHash(Expected.Algorithm, _hash.GetHashAndReset());
        if (actual != Expected)
            throw Fail($"blob {Expected}: content has digest {actual}");
        BlobInfo info;
        try
        {
            info = _store.CommitVerified(_data, _dataPath, Expected, Offset);
        }
        catch (IOException) when (_store.Exists(Expected))
        {
            // Another writer of the same ingest committed and removed the directory while we held an inode it had
            // already unlinked (we opened "data" after its rename): its blob has exactly the bytes we verified.
            info = _store.Info(Expected);
        }
        Finish(removeDirectory: true);
        return info;
    }

    /// <summary>Closes the writer. A resumable ingest that was not committed keeps its partial data; a temporary one is removed.</summary>
    public void Dispose() => Finish(removeDirectory: !_resumable);

    private void CheckRoom(int count)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (Offset + count > ExpectedSize)
            throw Fail($"blob {Expected}: expected {ExpectedSize} bytes, got more ({Offset + count} so far)");
    }

    /// <summary>Content that is not the blob it was announced as (size or digest): the caller's to fix, never retried as is.</summary>
    private ContentException Fail(string message)
    {
        Finish(removeDirectory: true);
        return new ContentException(ErrorKind.InvalidArgument, message);
    }

    private void Finish(bool removeDirectory)
    {
        if (_finished)
            return;
        _finished = true;
        _hash.Dispose();
        _data.Dispose();
        if (removeDirectory)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException error) when (error.HResult == Errno.ENOTEMPTY)
            {
                // Another writer of the same ingest wrote its "ref" or opened a fresh "data" in it after our commit;
                // the directory is that writer's now, and it removes it when it finishes. Not "when the directory
                // still exists": that writer may have finished and removed it before the filter looks.
            }
        }
    }
}
