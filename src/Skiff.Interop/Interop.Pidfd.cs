using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>
    /// pidfds instead of wait(-1): a waitpid(-1) anywhere in the process races .NET's own
    /// SIGCHLD handling, and a pid can be reused; a pidfd names exactly one process.
    /// </summary>
    public static class Pidfd
    {
        private const long SYS_pidfd_open = 434;
        private const long SYS_pidfd_send_signal = 424;
        private const int P_PIDFD = 3;
        public const int WEXITED = 4;
        public const int WNOHANG = 1;
        private const int CLD_EXITED = 1;

        public static FileDescriptor Open(int pid)
            => FileDescriptor.Wrap((int)Libc.Syscall(SYS_pidfd_open, pid, 0, 0, 0, 0), "pidfd_open", pid.ToString());

        public static bool TryOpen(int pid, out FileDescriptor? pidfd)
        {
            long fd = Libc.Syscall(SYS_pidfd_open, pid, 0, 0, 0, 0);
            pidfd = fd >= 0 ? new FileDescriptor((int)fd) : null;
            return pidfd is not null;
        }

        public static void SendSignal(FileDescriptor pidfd, int signal)
            => Errno.Check(Libc.Syscall(SYS_pidfd_send_signal, pidfd.Fd, signal, 0, 0, 0), "pidfd_send_signal");

        /// <summary>Waits for a child to exit and returns its status the way a shell reports it: the exit code, or 128+signal.</summary>
        public static int WaitExit(FileDescriptor pidfd, bool noHang = false)
        {
            Libc.SigInfo info = default;
            while (true)
            {
                int result = Libc.WaitId(P_PIDFD, pidfd.Fd, &info, WEXITED | (noHang ? WNOHANG : 0));
                if (result == 0)
                    break;
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("waitid", $"pidfd {pidfd.Fd}", Errno.Last);
            }
            if (noHang && info.Pid == 0)
                return -1;
            return info.Code == CLD_EXITED ? info.Status : 128 + info.Status;
        }

        /// <summary>Blocks until the process exits or the timeout passes; true if it exited. Works for non-children too.</summary>
        public static bool WaitReadable(FileDescriptor pidfd, int timeoutMs)
        {
            var poll = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
            while (true)
            {
                int result = Libc.Poll(&poll, 1, timeoutMs);
                if (result >= 0)
                    return result > 0;
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("poll", "pidfd", Errno.Last);
            }
        }
    }
}
