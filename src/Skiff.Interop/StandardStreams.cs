namespace Skiff.Interop;

/// <summary>
/// Makes stdout and stderr best effort for a command-line program. containerd's shim hands the runtime
/// /dev/null opened read-only as stdout and stderr, and a pipe reader may be gone or a disk full: a
/// write that fails there must neither crash the program nor change its exit status, which belongs
/// to the command (and its error, which goes to --log as well).
/// </summary>
public static class StandardStreams
{
    /// <summary>
    /// Call first in Main. A closed fd 0-2 gets /dev/null, as Go's runtime does for runc: otherwise the
    /// next file opened would take its number and receive the program's (and its children's) output.
    /// The streams are opened on first write, so a later dup2 onto fd 1 or 2 (the monitor's log) counts.
    /// </summary>
    public static void MakeBestEffort()
    {
        for (int fd = 0; fd <= 2; fd++)
            if (Interop.Libc.Fcntl(fd, Interop.Libc.F_GETFD, 0) < 0 && Errno.Last == Errno.EBADF)
                Interop.Libc.Open("/dev/null", fd == 0 ? Interop.Libc.O_RDONLY : Interop.Libc.O_WRONLY, 0);
        Console.SetOut(new StreamWriter(new BestEffortStream(Console.OpenStandardOutput)) { AutoFlush = true });
        Console.SetError(new StreamWriter(new BestEffortStream(Console.OpenStandardError)) { AutoFlush = true });
    }

    /// <summary>A write-only stream that drops what the underlying one cannot take.</summary>
    private sealed class BestEffortStream(Func<Stream> open) : WriteOnlyStream
    {
        private Stream? _inner;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try
            {
                (_inner ??= open()).Write(buffer);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _inner?.Dispose();
            base.Dispose(disposing);
        }
    }
}
