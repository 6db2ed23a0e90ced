using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>What the container engine and its per-container monitor need beyond the runtime's calls.</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        public const int O_APPEND = 0x400;
        private const int LOCK_EX = 2;
        private const int LOCK_NB = 4;
        private const int PR_SET_CHILD_SUBREAPER = 36;
        private const ulong TIOCSWINSZ = 0x5414;

        [LibraryImport(LibC, EntryPoint = "flock", SetLastError = true)]
        private static partial int Flock(int fd, int operation);

        [LibraryImport(LibC, EntryPoint = "dup2", SetLastError = true)]
        private static partial int Dup2Raw(int oldFd, int newFd);

        [LibraryImport(LibC, EntryPoint = "prctl", SetLastError = true)]
        private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

        [LibraryImport(LibC, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(int fd, ulong request, void* argument);

        /// <summary>
        /// Opens (creating) <paramref name="path"/> and takes an exclusive flock on it, waiting for other holders.
        /// The lock goes with the returned descriptor, so a crashed holder never leaves it taken.
        /// <paramref name="beforeWaiting"/>, if given, runs once when another process holds the lock, before waiting.
        /// </summary>
        public static FileDescriptor LockFile(string path, Action? beforeWaiting = null)
        {
            var fd = FileDescriptor.Wrap(Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */), "open", path);
            int operation = beforeWaiting is null ? LOCK_EX : LOCK_EX | LOCK_NB;
            while (Flock(fd.Fd, operation) == -1)
            {
                if (Errno.Last == Errno.EINTR)
                    continue;
                if (Errno.Last == Errno.EAGAIN && operation != LOCK_EX)
                {
                    beforeWaiting!();
                    operation = LOCK_EX;
                    continue;
                }
                int errno = Errno.Last;
                fd.Dispose();
                throw new SyscallException("flock", path, errno);
            }
            return fd;
        }

        /// <summary>The exclusive lock on <paramref name="path"/> if nobody holds it now, else null.</summary>
        public static FileDescriptor? TryLockFile(string path)
        {
            var fd = FileDescriptor.Wrap(Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */), "open", path);
            while (Flock(fd.Fd, LOCK_EX | LOCK_NB) == -1)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                    continue;
                fd.Dispose();
                return errno == Errno.EAGAIN ? null : throw new SyscallException("flock", path, errno);
            }
            return fd;
        }

        /// <summary>Makes <paramref name="newFd"/> (0, 1 or 2: a process's own stdio) a copy of <paramref name="file"/>.</summary>
        public static void Dup2(FileDescriptor file, int newFd) => Errno.Check(Dup2Raw(file.Fd, newFd), "dup2");

        /// <summary>Makes orphaned descendants (a container whose runtime parent exited) children of this process.</summary>
        public static void BecomeChildSubreaper() => Errno.Check(Prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl PR_SET_CHILD_SUBREAPER");

        public static void SetWindowSize(FileDescriptor terminal, ushort rows, ushort columns)
        {
            ushort* size = stackalloc ushort[4] { rows, columns, 0, 0 };
            Errno.Check(Ioctl(terminal.Fd, TIOCSWINSZ, size), "ioctl TIOCSWINSZ");
        }

        /// <summary>waitpid for one child, retrying EINTR; returns the shell-style status (exit code, or 128+signal).</summary>
        public static int WaitChild(int pid)
        {
            int status;
            while (WaitPid(pid, &status, 0) == -1)
            {
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("waitpid", pid.ToString(), Errno.Last);
            }
            return DecodeWaitStatus(status);
        }

        /// <summary>Reaps any child, blocking; returns its pid and shell-style status, or pid -1 when there is no child left.</summary>
        public static (int Pid, int Status) WaitAnyChild()
        {
            int status;
            while (true)
            {
                int pid = WaitPid(-1, &status, 0);
                if (pid > 0)
                    return (pid, DecodeWaitStatus(status));
                if (Errno.Last == Errno.ECHILD)
                    return (-1, 0);
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("waitpid", "-1", Errno.Last);
            }
        }

        private static int DecodeWaitStatus(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }
}

public static unsafe partial class Interop
{
    public static partial class Libc
    {
        /// <summary>glibc's struct dirent on 64-bit Linux: d_ino (8), d_off (8), d_reclen (2), then d_type.</summary>
        private const int DirentTypeOffset = 18;
        private const byte DT_UNKNOWN = 0;

        [LibraryImport(LibC, EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial nint OpenDir(string path);

        [LibraryImport(LibC, EntryPoint = "readdir", SetLastError = true)]
        private static partial nint ReadDir(nint directory);

        [LibraryImport(LibC, EntryPoint = "closedir")]
        private static partial int CloseDir(nint directory);

        /// <summary>
        /// Whether the filesystem of <paramref name="directory"/> tells entry types in readdir (d_type), which overlayfs
        /// needs (docker's "Supports d_type"; xfs made with ftype=0 does not): false if any entry comes back DT_UNKNOWN.
        /// </summary>
        public static bool ReportsEntryTypes(string directory)
        {
            nint stream = OpenDir(directory);
            if (stream == 0)
                throw new SyscallException("opendir", directory, Errno.Last);
            try
            {
                nint entry;
                while ((entry = ReadDir(stream)) != 0)
                {
                    if (*((byte*)entry + DirentTypeOffset) == DT_UNKNOWN)
                        return false;
                }
                return true;
            }
            finally
            {
                CloseDir(stream);
            }
        }
    }
}
