using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>flock(2) locks on files, which the kernel releases with the descriptor.</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        private const int LOCK_SH = 1;
        private const int LOCK_EX = 2;
        private const int LOCK_NB = 4;

        [LibraryImport(LibC, EntryPoint = "flock", SetLastError = true)]
        private static partial int Flock(int fd, int operation);

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

        /// <summary>
        /// Opens (creating) <paramref name="path"/> and takes a shared flock on it, waiting while someone holds it
        /// exclusively: many users at once, none while <see cref="TryLockFile"/>'s holder works.
        /// </summary>
        public static FileDescriptor LockFileShared(string path)
        {
            var fd = FileDescriptor.Wrap(Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */), "open", path);
            while (Flock(fd.Fd, LOCK_SH) == -1)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                    continue;
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
    }
}
