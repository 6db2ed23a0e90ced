using System.Security.Cryptography;
using Skiff.Oci.Image;

namespace Skiff.Images.Layers;

/// <summary>A read-only stream that hashes and counts what is read through it (a layer's diff ID and uncompressed size).</summary>
internal sealed class HashingStream(Stream inner, string algorithm) : Stream
{
    private readonly IncrementalHash _hash = Digest.CreateHash(algorithm);

    /// <summary>The digest of everything read so far.</summary>
    public Digest Digest => Digest.FromHash(algorithm, _hash.GetCurrentHash());

    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer);
        _hash.AppendData(buffer[..read]);
        BytesRead += read;
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _hash.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
