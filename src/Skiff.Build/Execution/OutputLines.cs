using System.Text;
using Skiff.Interop;

namespace Skiff.Build.Execution;

/// <summary>
/// A step's output (bytes) cut into lines for a progress view, each handed to <paramref name="line"/> without its
/// newline (nor a trailing carriage return); a last line without a newline when the stream is disposed. A line is
/// kept to <see cref="MaxLine"/> bytes, the rest dropped: a step writing no newline must not fill the memory.
/// </summary>
internal sealed class OutputLines(Action<string> line) : WriteOnlyStream
{
    public const int MaxLine = 16 * 1024;
    private readonly MemoryStream _buffer = new();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        foreach (byte b in buffer)
        {
            if (b == '\n')
                Emit();
            else if (_buffer.Length < MaxLine)
                _buffer.WriteByte(b);
        }
    }

    private void Emit()
    {
        line(Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length).TrimEnd('\r'));
        _buffer.SetLength(0);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer.Length > 0)
            Emit();
        base.Dispose(disposing);
    }
}
