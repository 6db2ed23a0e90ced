using System.Buffers.Binary;
using Skiff.Interop;

namespace Skiff.Api;

/// <summary>
/// docker's stdcopy framing for streams without a terminal (attach, logs): each write becomes one frame of an
/// 8-byte header (the stream: 0 stdin, 1 stdout, 2 stderr; three zero bytes; the length, 32-bit big-endian) and
/// the payload. With a terminal the bytes go raw (<see cref="For"/>). Several of them share one connection, so a
/// frame is written whole under the connection's lock.
/// </summary>
/// <param name="stream">The stream's number in each frame's header; null writes the bytes raw (a terminal's output).</param>
internal sealed class MultiplexedStream(Stream connection, byte? stream, Lock writeLock) : WriteOnlyStream
{
    public const byte Stdout = 1;
    public const byte Stderr = 2;

    /// <summary>The largest payload of one frame: a longer write is split (docker's own frames are at most 32 KiB).</summary>
    public const int MaxPayload = 32 * 1024;

    /// <summary>A writer of <paramref name="stream"/>'s output onto <paramref name="connection"/>: framed, or raw with a terminal.</summary>
    public static Stream For(Stream connection, byte stream, bool tty, Lock writeLock)
        => new MultiplexedStream(connection, tty ? null : stream, writeLock);

    /// <summary>Writes one frame's header for <paramref name="length"/> bytes of <paramref name="stream"/> into <paramref name="header"/>.</summary>
    public static void WriteHeader(Span<byte> header, byte stream, int length)
    {
        header[..4].Clear();
        header[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(header[4..8], (uint)length);
    }

    /// <summary>One frame (or raw bytes when <paramref name="stream"/> is null) written asynchronously, for streams a request writes alone (logs).</summary>
    public static async Task WriteFrameAsync(Stream connection, byte? stream, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        var header = new byte[8];
        while (stream is { } number && payload.Length > 0)
        {
            var chunk = payload[..Math.Min(payload.Length, MaxPayload)];
            WriteHeader(header, number, chunk.Length);
            await connection.WriteAsync(header, cancel);
            await connection.WriteAsync(chunk, cancel);
            payload = payload[chunk.Length..];
        }
        if (stream is null)
            await connection.WriteAsync(payload, cancel);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Span<byte> header = stackalloc byte[8];
        lock (writeLock)
        {
            if (stream is null)
                connection.Write(buffer);
            while (stream is { } number && buffer.Length > 0)
            {
                var chunk = buffer[..Math.Min(buffer.Length, MaxPayload)];
                WriteHeader(header, number, chunk.Length);
                connection.Write(header);
                connection.Write(chunk);
                buffer = buffer[chunk.Length..];
            }
            connection.Flush();
        }
    }
}
