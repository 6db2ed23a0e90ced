namespace Skiff.Interop;

/// <summary>
/// A stream that is only written to, where every write goes through <see cref="Write(ReadOnlySpan{byte})"/>:
/// the reading and seeking half of <see cref="Stream"/> refused once for all of them.
/// </summary>
public abstract class WriteOnlyStream : Stream
{
    public abstract override void Write(ReadOnlySpan<byte> buffer);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
