namespace Skiff.Engine;

/// <summary>
/// A file read forward line by line, possibly while a writer appends to it: each <see cref="ReadNew{T}"/> goes on where the
/// last one stopped, in chunks, holding at most one line. Owns the file.
/// </summary>
internal sealed class LineReader(FileStream file, long offset, int chunkSize = JsonLines.ChunkSize, int maximumLine = JsonLines.MaximumLine) : IDisposable
{
    private byte[] _buffer = new byte[Math.Min(chunkSize, maximumLine)];

    /// <summary>The line at <see cref="Offset"/> is too long to hold: its bytes are passed over up to its newline.</summary>
    private bool _skipping;

    public FileStream File { get; } = file;

    /// <summary>Where the first line not read yet starts (or how far one too long to hold was passed over).</summary>
    public long Offset { get; private set; } = offset;

    /// <summary>
    /// The complete lines from <see cref="Offset"/> up to <paramref name="end"/> (by default all there is), parsed;
    /// lines <paramref name="parse"/> refuses (a JSON line torn by a crash) and lines too long to hold are skipped.
    /// A trailing partial line is being written: it is read next time.
    /// </summary>
    public IEnumerable<T> ReadNew<T>(Func<ReadOnlyMemory<byte>, T?> parse, long end = long.MaxValue) where T : class
    {
        long length = RandomAccess.GetLength(File.SafeFileHandle);
        if (length < Offset)
        {
            // Truncated in place (a json-file log with max-file=1 rotates so): what is there now is new.
            Offset = 0;
            _skipping = false;
        }
        length = Math.Min(length, end);
        long bufferStart = Offset; // the file offset of _buffer[0]
        int held = 0;
        while (bufferStart + held < length)
        {
            if (held == _buffer.Length)
            {
                if (held < maximumLine)
                    Array.Resize(ref _buffer, Math.Min(2 * held, maximumLine));
                else
                {
                    _skipping = true;
                    bufferStart += held;
                    Offset = bufferStart;
                    held = 0;
                }
            }
            int read = RandomAccess.Read(File.SafeFileHandle, _buffer.AsSpan(held, (int)Math.Min(_buffer.Length - held, length - bufferStart - held)), bufferStart + held);
            if (read == 0)
                yield break;
            int lineStart = 0, scanned = held;
            held += read;
            for (int newline; (newline = _buffer.AsSpan(scanned, held - scanned).IndexOf((byte)'\n')) >= 0;)
            {
                newline += scanned;
                var item = _skipping ? null : JsonLines.TryParse(_buffer.AsMemory(lineStart, newline - lineStart), parse);
                _skipping = false;
                lineStart = scanned = newline + 1;
                Offset = bufferStart + lineStart;
                if (item is not null)
                    yield return item;
            }
            _buffer.AsSpan(lineStart, held - lineStart).CopyTo(_buffer);
            bufferStart += lineStart;
            held -= lineStart;
        }
    }

    /// <summary>Goes on from <paramref name="offset"/>, the start of a line.</summary>
    public void Seek(long offset)
    {
        Offset = offset;
        _skipping = false;
    }

    public static LineReader? Open(string path, long offset = 0)
        => JsonLines.OpenForReading(path) is { } file ? new LineReader(file, offset) : null;

    public void Dispose() => File.Dispose();
}
