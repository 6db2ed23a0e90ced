namespace Skiff.Interop;

/// <summary>
/// A stream of plain read(2) and write(2) calls on a descriptor it does not own (the caller's stdin, stdout or
/// stderr). Not a FileStream: on a regular file that one writes with pwrite(2) at an offset of its own and leaves the
/// file's shared offset where it was, so the shell's next write to the same file (`(skiff run ...; echo done) > f`)
/// lands over what was written.
/// </summary>
public sealed class DescriptorStream(int fd, bool write) : Stream
{
    private readonly FileDescriptor _fd = new(fd, ownsHandle: false);
    private readonly string _name = fd switch { 0 => "stdin", 1 => "stdout", 2 => "stderr", _ => $"fd {fd}" };

    public override bool CanRead => !write;
    public override bool CanWrite => write;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => _fd.Read(buffer, _name);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => _fd.WriteAll(buffer, _name);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
