using System.Buffers.Binary;
using System.Net.Sockets;

namespace Skiff.Engine.Monitor;

/// <summary>
/// The attach socket (containers/ID/attach.sock, a unix stream socket served by the container's monitor).
/// Both directions carry frames with docker's stdcopy header: one byte stream kind, three zero bytes, a 32-bit
/// big-endian payload length, then the payload.
///
/// client → monitor: <see cref="Stdin"/> data (an empty payload closes the container's stdin: EOF), and
///   <see cref="Resize"/> (rows, columns: two 16-bit big-endian numbers) for a terminal.
/// monitor → client: <see cref="Stdout"/> and <see cref="Stderr"/> data as the container writes it (a terminal's
///   output is all stdout), then one <see cref="Exit"/> frame (the exit status as a 32-bit big-endian number)
///   when the container exits, after which the monitor closes the connection.
/// A client sees output from the moment it connects; earlier output is in the log.
/// </summary>
public static class AttachProtocol
{
    public const byte Stdin = 0;
    public const byte Stdout = 1;
    public const byte Stderr = 2;
    public const byte Exit = 3;
    public const byte Resize = 4;

    public const int HeaderSize = 8;
    /// <summary>Larger frames are refused: a peer that sends one is not speaking this protocol.</summary>
    public const int MaximumPayload = 1 << 20;

    public static void Write(Socket socket, byte kind, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        header.Clear();
        header[0] = kind;
        BinaryPrimitives.WriteInt32BigEndian(header[4..], payload.Length);
        SendAll(socket, header);
        SendAll(socket, payload);
    }

    public static void WriteExit(Socket socket, int exitCode)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, exitCode);
        Write(socket, Exit, payload);
    }

    public static void WriteResize(Socket socket, ushort rows, ushort columns)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(payload, rows);
        BinaryPrimitives.WriteUInt16BigEndian(payload[2..], columns);
        Write(socket, Resize, payload);
    }

    /// <summary>Reads one frame; null at end of stream.</summary>
    public static (byte Kind, byte[] Payload)? Read(Socket socket)
    {
        var header = new byte[HeaderSize];
        if (!ReceiveExactly(socket, header))
            return null;
        int length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        if (length < 0 || length > MaximumPayload)
            throw new IOException($"attach socket: frame of {length} bytes is not a frame of this protocol");
        var payload = new byte[length];
        if (!ReceiveExactly(socket, payload))
            return null;
        return (header[0], payload);
    }

    /// <summary><see cref="Read"/> without holding a thread while the container runs (a wait on many containers).</summary>
    public static async ValueTask<(byte Kind, byte[] Payload)?> ReadAsync(Socket socket, CancellationToken cancel)
    {
        var header = new byte[HeaderSize];
        if (!await ReceiveExactlyAsync(socket, header, cancel))
            return null;
        int length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        if (length < 0 || length > MaximumPayload)
            throw new IOException($"attach socket: frame of {length} bytes is not a frame of this protocol");
        var payload = new byte[length];
        if (!await ReceiveExactlyAsync(socket, payload, cancel))
            return null;
        return (header[0], payload);
    }

    private static async ValueTask<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancel)
    {
        int offset = 0;
        while (offset < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[offset..], SocketFlags.None, cancel);
            if (n == 0)
                return false;
            offset += n;
        }
        return true;
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
            data = data[socket.Send(data)..];
    }

    private static bool ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        int offset = 0;
        while (offset < buffer.Length)
        {
            int n = socket.Receive(buffer[offset..]);
            if (n == 0)
                return false;
            offset += n;
        }
        return true;
    }

    /// <summary>
    /// The socket path as seen through an open directory descriptor: sun_path holds 108 bytes, and an engine
    /// root plus a 64-digit container id can be longer than that.
    /// </summary>
    public static UnixDomainSocketEndPoint EndPoint(Skiff.Interop.FileDescriptor directory, string name)
        => new($"/proc/self/fd/{directory.Fd}/{name}");
}
