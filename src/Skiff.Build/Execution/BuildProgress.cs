using System.Text;

namespace Skiff.Build.Execution;

/// <summary>Where a build reports its steps, its RUN output and its warnings (a front end renders them).</summary>
public interface IBuildProgress
{
    /// <summary>Step <paramref name="number"/> of <paramref name="total"/> starts: <paramref name="description"/> names it.</summary>
    void Step(int number, int total, string description);

    /// <summary>A stream for step <paramref name="number"/>'s output (RUN's stdout and stderr); disposed when the step ends.</summary>
    Stream Output(int number);

    /// <summary>Step <paramref name="number"/> ended: from the cache, or made in <paramref name="elapsed"/>.</summary>
    void Done(int number, bool cached, TimeSpan elapsed);

    void Warning(string message);
}

/// <summary>
/// docker build's plain progress (BuildKit's <c>--progress=plain</c>): "#N [stage n/m] INSTRUCTION", the step's output
/// lines prefixed "#N ", then "#N CACHED" or "#N DONE 1.2s"; warnings as they come. Thread-safe: lines of two streams never mix within a line.
/// </summary>
public sealed class PlainBuildProgress(TextWriter writer, bool quiet = false) : IBuildProgress
{
    private readonly Lock _lock = new();

    public void Step(int number, int total, string description)
    {
        if (!quiet)
            WriteLine($"#{number} {description}");
    }

    public Stream Output(int number) => quiet ? Stream.Null : new PrefixedLines(this, $"#{number} ");

    public void Done(int number, bool cached, TimeSpan elapsed)
    {
        if (!quiet)
            WriteLine(cached ? $"#{number} CACHED" : $"#{number} DONE {elapsed.TotalSeconds:0.0}s");
    }

    public void Warning(string message) => WriteLine(message);

    private void WriteLine(string line)
    {
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>Bytes cut into lines, each written with the step's prefix; a last line without a newline when it ends.</summary>
    private sealed class PrefixedLines(PlainBuildProgress progress, string prefix) : Stream
    {
        private readonly MemoryStream _line = new();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            foreach (byte b in buffer)
            {
                if (b == '\n')
                    Emit();
                else
                    _line.WriteByte(b);
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        private void Emit()
        {
            progress.WriteLine(prefix + Encoding.UTF8.GetString(_line.GetBuffer(), 0, (int)_line.Length).TrimEnd('\r'));
            _line.SetLength(0);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _line.Length > 0)
                Emit();
            base.Dispose(disposing);
        }

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
}
