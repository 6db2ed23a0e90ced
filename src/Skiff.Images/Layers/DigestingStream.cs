using System.Security.Cryptography;
using Skiff.Oci.Image;

namespace Skiff.Images.Layers;

/// <summary>A read-only pass-through that hashes every byte read, for digests of streams consumed by someone else.</summary>
internal sealed class DigestingStream(Stream source, string algorithm) : Stream
{
    private readonly IncrementalHash _hash = Oci.Image.Digest.CreateHash(algorithm);

    /// <summary>The digest of everything read so far (call once, at the end).</summary>
    public Digest Digest() => Oci.Image.Digest.FromHash(algorithm, _hash.GetHashAndReset());

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = source.Read(buffer);
        _hash.AppendData(buffer[..read]);
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
