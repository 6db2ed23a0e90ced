using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// Carries an exec'd process's stdio between the caller's descriptors and the engine's own pipes (or the pty master
/// the runtime sent), so that the process never holds a descriptor of the caller's: it cannot push input into the
/// caller's terminal (TIOCSTI), read what the user types next, or reopen through /proc/self/fd a file the caller
/// redirected to. Each direction is a thread with a fixed buffer, so memory is bounded whatever the process writes.
/// <see cref="Stop"/> ends them once the process has exited: a background child of it may hold the pipes open for
/// ever, and docker's exec returns when its process exits.
/// </summary>
internal sealed class StdioRelay : IDisposable
{
    /// <summary>
    /// The most output <see cref="Stop"/> still copies: all that an exited process can have left in a pipe (a pipe
    /// holds at most fs.pipe-max-size, 1 MiB by default, without CAP_SYS_RESOURCE), but not a background child's
    /// endless stream.
    /// </summary>
    private const int MaximumDrain = 1 << 20;
    private const int BufferSize = 16 * 1024;

    /// <summary>Written once by <see cref="Stop"/>; never read, so it stays readable for every thread's poll.</summary>
    private readonly FileDescriptor _stopRead, _stopWrite;
    private readonly List<Thread> _threads = [];
    private bool _stopped;

    public StdioRelay() => (_stopRead, _stopWrite) = Libc.Pipe();

    /// <summary>
    /// Copies the process's output from <paramref name="source"/> (the engine's: made non-blocking here) to the
    /// caller's <paramref name="destination"/> until end of file, or until <see cref="Stop"/>, which copies what is
    /// left. Disposes <paramref name="source"/> when <paramref name="ownsSource"/>.
    /// </summary>
    public void Output(FileDescriptor source, FileDescriptor destination, string name, bool ownsSource = true)
    {
        Libc.SetNonBlocking(source);
        Start(name, () =>
        {
            try
            {
                CopyOutput(source, destination);
            }
            finally
            {
                if (ownsSource)
                    source.Dispose();
            }
        });
    }

    /// <summary>
    /// Copies the caller's <paramref name="source"/> to the process's <paramref name="destination"/> (the engine's:
    /// made non-blocking here) until end of file or <see cref="Stop"/>, then runs <paramref name="atEnd"/> (a pipe's
    /// writer closes it, so the process reads end of file).
    /// </summary>
    public void Input(FileDescriptor source, FileDescriptor destination, Action? atEnd)
    {
        Libc.SetNonBlocking(destination);
        Start("exec-stdin", () =>
        {
            try
            {
                CopyInput(source, destination);
            }
            finally
            {
                atEnd?.Invoke();
            }
        });
    }

    /// <summary>Ends every copy (output after what the process left is copied) and waits for them.</summary>
    public void Stop()
    {
        if (!_stopped)
        {
            _stopped = true;
            _stopWrite.WriteAll([1], "exec relay");
        }
        foreach (var thread in _threads)
            thread.Join();
    }

    public void Dispose()
    {
        Stop();
        _stopRead.Dispose();
        _stopWrite.Dispose();
    }

    private void Start(string name, Action copy)
    {
        var thread = new Thread(() => copy()) { IsBackground = true, Name = name };
        _threads.Add(thread);
        thread.Start();
    }

    private void CopyOutput(FileDescriptor source, FileDescriptor destination)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                var (readable, stopped) = Wait(source, Libc.POLLIN);
                if (stopped)
                {
                    for (int drained = 0; drained < MaximumDrain && Read(source, buffer) is > 0 and var n; drained += n)
                        destination.WriteAll(buffer.AsSpan(0, n), "exec output");
                    return;
                }
                if (!readable)
                    continue;
                int count = Read(source, buffer);
                if (count == 0)
                    return; // end of file, or EIO from a pty master whose every slave is closed
                if (count > 0)
                    destination.WriteAll(buffer.AsSpan(0, count), "exec output");
            }
        }
        catch (SyscallException)
        {
            // the caller's output went away (EPIPE): nothing left to copy to
        }
    }

    private void CopyInput(FileDescriptor source, FileDescriptor destination)
    {
        var buffer = new byte[BufferSize];
        while (true)
        {
            var (readable, stopped) = Wait(source, Libc.POLLIN);
            if (stopped)
                return;
            if (!readable)
                continue;
            int count = Read(source, buffer);
            if (count == 0)
                return;
            if (count > 0 && !WriteAll(destination, buffer.AsSpan(0, count)))
                return;
        }
    }

    /// <summary>Writes to a non-blocking descriptor of the engine's, waiting while it is full; false once stopped or when nobody reads it any more.</summary>
    private bool WriteAll(FileDescriptor destination, ReadOnlySpan<byte> data)
    {
        try
        {
            while (data.Length > 0)
            {
                int written = destination.WriteAvailable(data, "exec input");
                if (written >= 0)
                    data = data[written..];
                else if (Wait(destination, Libc.POLLOUT).Stopped)
                    return false;
            }
            return true;
        }
        catch (SyscallException)
        {
            return false; // the process closed its stdin (EPIPE)
        }
    }

    /// <summary>Reads what is there: the count, 0 at end of file or on an error, -1 when nothing is there yet.</summary>
    private static int Read(FileDescriptor source, byte[] buffer)
    {
        try
        {
            return source.ReadAvailable(buffer, "exec output");
        }
        catch (SyscallException)
        {
            return 0; // EIO from a pty master whose every slave is closed: its end
        }
    }

    /// <summary>Waits until <paramref name="fd"/> is ready for <paramref name="events"/> (or hung up) or the relay is stopped.</summary>
    private (bool Ready, bool Stopped) Wait(FileDescriptor fd, short events) => fd.PollEither(events, _stopRead, "exec relay");
}
