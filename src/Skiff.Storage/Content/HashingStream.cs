using System.Security.Cryptography;
using Skiff.Oci.Image;

namespace Skiff.Storage.Content;

/// <summary>
/// A pass-through stream that hashes and counts the bytes read from or written to <paramref name="inner"/> (a
/// layer's diff ID and uncompressed size on the way in, a blob's digest on the way out). It reads when
/// <paramref name="inner"/> can be read, else writes; one direction per stream.
/// </summary>
public sealed class HashingStream(Stream inner, string algorithm) : Stream
{
    private readonly IncrementalHash _hash = Digest.CreateHash(algorithm);

    /// <summary>The digest of everything passed through so far.</summary>
    public Digest Digest => Digest.FromHash(algorithm, _hash.GetCurrentHash());

    /// <summary>Bytes passed through so far (read or written).</summary>
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer);
        _hash.AppendData(buffer[..read]);
        BytesRead += read;
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        _hash.AppendData(buffer);
        BytesRead += buffer.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _hash.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => !inner.CanRead && inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
