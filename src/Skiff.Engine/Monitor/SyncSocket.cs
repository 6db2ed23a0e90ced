using System.Text;
using Skiff.Interop;
using UnixSocket = Skiff.Interop.Interop.Socket;

namespace Skiff.Engine.Monitor;

/// <summary>The messages of the start-up handshake between the CLI and a monitor (a SOCK_SEQPACKET pair: one message per call).</summary>
internal static class SyncSocket
{
    public static unsafe void Send(FileDescriptor socket, string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        fixed (byte* data = bytes)
            UnixSocket.Send(socket.Fd, data, bytes.Length, UnixSocket.MSG_NOSIGNAL);
    }

    /// <summary>The next message; "" when the other end closed the socket.</summary>
    public static unsafe string Receive(FileDescriptor socket)
    {
        var buffer = new byte[4096];
        nint n;
        fixed (byte* data = buffer)
        {
            while ((n = UnixSocket.Receive(socket.Fd, data, buffer.Length, 0)) < 0 && Errno.Last == Errno.EINTR)
            {
            }
        }
        return n <= 0 ? "" : Encoding.UTF8.GetString(buffer, 0, (int)n);
    }
}
