using System.Text;

namespace Skiff.Interop;

/// <summary>
/// Reading and writing a <see cref="FileDescriptor"/> with EINTR retried: a signal (a forwarded ^C, the runtime's
/// SIGCHLD) arriving during a read must not look like an error or an end of file to the engine or the monitor.
/// </summary>
public static unsafe class FileDescriptorIo
{
    /// <summary>Reads what is there, blocking until something is: the count, 0 at end of file.</summary>
    /// <exception cref="SyscallException">read failed (EIO from a pty master whose last slave closed, among others).</exception>
    public static int Read(this FileDescriptor fd, Span<byte> buffer, string target)
        => fd.ReadAvailable(buffer, target) is var n and >= 0 ? n : throw new SyscallException("read", target, Errno.EAGAIN);

    /// <summary>
    /// <see cref="Read"/> of a non-blocking descriptor: -1 when nothing is there yet (EAGAIN), instead of waiting.
    /// </summary>
    public static int ReadAvailable(this FileDescriptor fd, Span<byte> buffer, string target)
    {
        fixed (byte* start = buffer)
            return Transfer(fd, start, buffer.Length, write: false, target);
    }

    /// <summary>Everything up to end of file, as UTF-8 text (a runtime's stdout or its log).</summary>
    public static string ReadAllText(this FileDescriptor fd, string target)
    {
        var output = new MemoryStream();
        Span<byte> buffer = stackalloc byte[16384];
        int n;
        while ((n = fd.Read(buffer, target)) > 0)
            output.Write(buffer[..n]);
        return Encoding.UTF8.GetString(output.GetBuffer(), 0, (int)output.Length);
    }

    /// <summary>Moves a file's offset back to its start (a log the child wrote through a descriptor of its own).</summary>
    public static void Rewind(this FileDescriptor fd, string target)
    {
        if (Interop.Libc.Lseek(fd.Fd, 0, 0 /* SEEK_SET */) < 0)
            throw new SyscallException("lseek", target, Errno.Last);
    }

    /// <summary>Writes all of <paramref name="data"/>, retrying short writes and EINTR.</summary>
    public static void WriteAll(this FileDescriptor fd, ReadOnlySpan<byte> data, string target)
        => Interop.Libc.WriteAll(fd, data, target);

    /// <summary>
    /// Writes what a non-blocking descriptor takes now: the count written, -1 when it is full (EAGAIN).
    /// </summary>
    public static int WriteAvailable(this FileDescriptor fd, ReadOnlySpan<byte> data, string target)
    {
        fixed (byte* start = data)
            return Transfer(fd, start, data.Length, write: true, target);
    }

    /// <summary>One read or write, retried on EINTR: the count, or -1 for EAGAIN.</summary>
    private static int Transfer(FileDescriptor fd, byte* start, int length, bool write, string target)
    {
        while (true)
        {
            nint n = write ? Interop.Libc.Write(fd.Fd, start, length) : Interop.Libc.Read(fd.Fd, start, length);
            if (n >= 0)
                return (int)n;
            if (Errno.Last == Errno.EAGAIN)
                return -1;
            if (Errno.Last != Errno.EINTR)
                throw new SyscallException(write ? "write" : "read", target, Errno.Last);
        }
    }

    /// <summary>
    /// Waits until <paramref name="fd"/> is ready for <paramref name="events"/> (or hung up) or <paramref name="other"/>
    /// is readable, or <paramref name="timeoutMs"/> passed (-1: no timeout, the default); says which (neither: the timeout).
    /// </summary>
    public static (bool Ready, bool OtherReadable) PollEither(this FileDescriptor fd, short events, FileDescriptor other, string target, int timeoutMs = -1)
    {
        var polls = stackalloc Interop.Libc.PollFd[2];
        polls[0] = new Interop.Libc.PollFd { Fd = fd.Fd, Events = events };
        polls[1] = new Interop.Libc.PollFd { Fd = other.Fd, Events = Interop.Libc.POLLIN };
        while (Interop.Libc.Poll(polls, 2, timeoutMs) < 0)
        {
            if (Errno.Last != Errno.EINTR)
                throw new SyscallException("poll", target, Errno.Last);
        }
        return (polls[0].ReturnedEvents != 0, polls[1].ReturnedEvents != 0);
    }

    /// <summary>Makes an inherited descriptor close-on-exec: no program this process starts may hold it open.</summary>
    public static void SetCloseOnExec(this FileDescriptor fd)
        => Errno.Check(Interop.Libc.Fcntl(fd.Fd, Interop.Libc.F_SETFD, 1 /* FD_CLOEXEC */), "fcntl F_SETFD FD_CLOEXEC");

    /// <summary>
    /// Receives one descriptor sent with SCM_RIGHTS on a connected socket (runc's console-socket protocol: the pty
    /// master, with its name as the data). Null when the peer closed without sending one.
    /// </summary>
    public static FileDescriptor? ReceiveDescriptor(this System.Net.Sockets.Socket socket)
    {
        using var borrowed = new FileDescriptor(socket.SafeHandle.DangerousGetHandle().ToInt32(), ownsHandle: false);
        Span<byte> name = stackalloc byte[4096];
        Interop.Socket.ReceiveWithFd(borrowed, name, out var passed, "console socket");
        return passed;
    }
}
