using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// Files of one JSON document per line (container logs, the event journal), read while writers append. They grow
/// without bound (a container writes what it likes), so they are read in chunks, forward (<see cref="LineReader"/>)
/// or backward from the end (<see cref="Backward"/>), in memory bounded by <see cref="MaximumLine"/> whatever their size.
/// </summary>
internal static class JsonLines
{
    public const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Longer lines are skipped as torn or foreign: a json-file entry carries at most 16 KiB of output, under 100 KiB
    /// once escaped as JSON, and an event is far below the journal's 1 MiB rotation size.
    /// </summary>
    public const int MaximumLine = 1024 * 1024;

    /// <summary>A complete line (without its newline) and the offset where it starts.</summary>
    public readonly record struct Line(long Start, ReadOnlyMemory<byte> Bytes);

    /// <summary><paramref name="line"/> parsed, or null when a crash tore it mid-write or it is not ours: it is skipped, as docker does.</summary>
    public static T? TryParse<T>(ReadOnlyMemory<byte> line, Func<ReadOnlyMemory<byte>, T?> parse) where T : class
    {
        try
        {
            return parse(line);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The complete lines of <paramref name="file"/> before <paramref name="length"/>, the last first; what follows the
    /// last newline is being written and is no line yet. A line's bytes are valid until the next one is asked for.
    /// A line of <paramref name="maximumLine"/> bytes or more is passed over without being held.
    /// </summary>
    public static IEnumerable<Line> Backward(SafeFileHandle file, long length, int chunkSize = ChunkSize, int maximumLine = MaximumLine)
    {
        var buffer = new byte[chunkSize];
        long bufferStart = length; // the buffer holds the file's bytes from here, `held` of them
        int held = 0;
        long segmentEnd = length; // where the bytes not returned yet end: a newline, or the end of the file
        bool skip = true; // the segment is not returned: unterminated, or too long
        while (true)
        {
            int searched = (int)Math.Min(held, segmentEnd - bufferStart);
            int newline = buffer.AsSpan(0, searched).LastIndexOf((byte)'\n');
            if (newline >= 0 || bufferStart == 0)
            {
                long start = newline >= 0 ? bufferStart + newline + 1 : 0;
                if (!skip && segmentEnd - start < maximumLine)
                    yield return new Line(start, buffer.AsMemory((int)(start - bufferStart), (int)(segmentEnd - start)));
                if (newline < 0)
                    yield break;
                segmentEnd = bufferStart + newline;
                skip = false;
                continue;
            }
            // The segment starts before the buffer: read the chunk before it, keeping the segment's bytes if it may be returned.
            int keep = skip ? 0 : (int)(segmentEnd - bufferStart);
            if (keep >= maximumLine)
            {
                skip = true;
                keep = 0;
            }
            int read = (int)Math.Min(chunkSize, bufferStart);
            if (buffer.Length < keep + read)
                Array.Resize(ref buffer, Math.Max(2 * buffer.Length, keep + read));
            buffer.AsSpan(0, keep).CopyTo(buffer.AsSpan(read));
            bufferStart -= read;
            ReadAt(file, buffer.AsSpan(0, read), bufferStart);
            held = read + keep;
        }
    }

    /// <summary>How many of the first <paramref name="length"/> bytes of <paramref name="file"/> are complete lines: up to its last newline.</summary>
    public static long CompleteLength(SafeFileHandle file, long length)
    {
        var buffer = new byte[Math.Min(ChunkSize, length)];
        for (long end = length; end > 0;)
        {
            int read = (int)Math.Min(buffer.Length, end);
            end -= read;
            ReadAt(file, buffer.AsSpan(0, read), end);
            if (buffer.AsSpan(0, read).LastIndexOf((byte)'\n') is var newline and >= 0)
                return end + newline + 1;
        }
        return 0;
    }

    /// <summary>Fills <paramref name="into"/> from <paramref name="offset"/>; what a file truncated meanwhile no longer has reads as zeros (a torn line).</summary>
    private static void ReadAt(SafeFileHandle file, Span<byte> into, long offset)
    {
        while (into.Length > 0)
        {
            int read = RandomAccess.Read(file, into, offset);
            if (read == 0)
            {
                into.Clear();
                return;
            }
            into = into[read..];
            offset += read;
        }
    }

    public static FileStream? OpenForReading(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A rotation renames our file away: the path then names a different inode, or none.</summary>
    public static bool Rotated(FileStream open, string path) => Inode(open) != InodeOf(path);

    public static ulong Inode(FileStream open) => InodeOf($"/proc/self/fd/{open.SafeFileHandle.DangerousGetHandle()}");

    /// <summary>The inode <paramref name="path"/> names, 0 when none.</summary>
    public static ulong InodeOf(string path) => Libc.TryStatAt(FileDescriptor.CurrentDirectory, path, followLastSymlink: true)?.Ino ?? 0;
}
