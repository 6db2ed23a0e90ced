using System.Buffers.Binary;
using System.Net.Sockets;
using Skiff.Engine.Containers;

namespace Skiff.Engine.Monitor;

/// <summary>A CLI's connection to a container's attach socket (see <see cref="AttachProtocol"/>).</summary>
public sealed class AttachSession : IDisposable
{
    private readonly Socket _socket;
    private readonly Lock _sendLock = new();
    private CancellationTokenRegistration _cancellation;

    private AttachSession(Socket socket) => _socket = socket;

    /// <exception cref="EngineException">Unavailable: the container's monitor does not answer (it is exiting, or was killed).</exception>
    public static AttachSession Connect(ContainerDirectory container)
    {
        using var directory = container.Open();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(AttachProtocol.EndPoint(directory, ContainerDirectory.AttachSocketName));
            return new AttachSession(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new EngineException(ErrorKind.Unavailable, $"cannot attach to the container: its monitor does not answer on {container.File(ContainerDirectory.AttachSocketName)} ({e.Message})");
        }
    }

    /// <summary>Ends the session when <paramref name="cancel"/> fires: its copies stop, a pending <see cref="CopyOutput"/> returns null.</summary>
    internal void EndOn(CancellationToken cancel)
    {
        if (cancel.CanBeCanceled)
            _cancellation = cancel.Register(_socket.Dispose);
    }

    public void SendStdin(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
            return;
        lock (_sendLock)
            AttachProtocol.Write(_socket, AttachProtocol.Stdin, data);
    }

    /// <summary>End of file on the container's stdin (without a terminal).</summary>
    public void CloseStdin()
    {
        lock (_sendLock)
            AttachProtocol.Write(_socket, AttachProtocol.Stdin, []);
    }

    public void Resize(ushort rows, ushort columns)
    {
        lock (_sendLock)
            AttachProtocol.WriteResize(_socket, rows, columns);
    }

    /// <summary>The output streams <see cref="CopyOutput"/> passes on; the others' output is read and dropped (it is in the log).</summary>
    public Specs.AttachStreams Streams { get; internal set; } = Specs.AttachStreams.Default;

    /// <summary>True once the user typed the detach keys: the container runs on, the session is over.</summary>
    public bool Detached { get; private set; }

    /// <summary>
    /// Copies <paramref name="stdin"/> to the container in the background, then closes its stdin. With
    /// <paramref name="detachKeys"/>, typing them ends the session instead (<see cref="Detached"/>; the pending
    /// <see cref="CopyOutput"/> returns null).
    /// </summary>
    public Thread ForwardStdin(Stream stdin, DetachKeys? detachKeys = null)
    {
        var thread = new Thread(() =>
        {
            var buffer = new byte[32 * 1024];
            try
            {
                int n;
                while ((n = stdin.Read(buffer)) > 0)
                {
                    var (forward, detach) = detachKeys?.Feed(buffer.AsSpan(0, n)) ?? (buffer[..n], false);
                    SendStdin(forward);
                    if (detach)
                    {
                        Detached = true;
                        _socket.Shutdown(SocketShutdown.Both);
                        return;
                    }
                }
                CloseStdin();
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // the container exited, or the session was closed
            }
        }) { IsBackground = true, Name = "attach-stdin" };
        thread.Start();
        return thread;
    }

    /// <summary>
    /// Copies the container's output until it exits; returns its exit status, or null when the connection ended
    /// without one (the monitor was killed: ask <see cref="ContainerLifecycle.WaitAsync"/>).
    /// </summary>
    public int? CopyOutput(Stream stdout, Stream stderr)
    {
        try
        {
            while (AttachProtocol.Read(_socket) is var (kind, payload))
            {
                switch (kind)
                {
                    case AttachProtocol.Stdout when Streams.HasFlag(Specs.AttachStreams.Stdout):
                        stdout.Write(payload);
                        stdout.Flush();
                        break;
                    case AttachProtocol.Stderr when Streams.HasFlag(Specs.AttachStreams.Stderr):
                        stderr.Write(payload);
                        stderr.Flush();
                        break;
                    case AttachProtocol.Exit when payload.Length == 4:
                        return BinaryPrimitives.ReadInt32BigEndian(payload);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed by the monitor's death or by our own Dispose (a cancelled wait)
        }
        return null;
    }

    /// <summary>
    /// Discards the container's output until it exits; its exit status, or null when the connection ended without
    /// one (the monitor was killed).
    /// </summary>
    internal async Task<int?> WaitExitAsync(CancellationToken cancel)
    {
        try
        {
            while (await AttachProtocol.ReadAsync(_socket, cancel) is var (kind, payload))
                if (kind == AttachProtocol.Exit && payload.Length == 4)
                    return BinaryPrimitives.ReadInt32BigEndian(payload);
        }
        catch (SocketException)
        {
            // closed by the monitor's death
        }
        return null;
    }

    public void Dispose()
    {
        _cancellation.Dispose();
        _socket.Dispose();
    }
}
