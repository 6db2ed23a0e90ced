using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>Signals, waiting for children, the subreaper bit, ids and resource limits of processes.</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        private const int PR_SET_CHILD_SUBREAPER = 36;

        [LibraryImport(LibC, EntryPoint = "kill", SetLastError = true)]
        public static partial int Kill(int pid, int signal);

        [LibraryImport(LibC, EntryPoint = "getpid")]
        public static partial int GetPid();

        [LibraryImport(LibC, EntryPoint = "geteuid")]
        public static partial uint GetEuid();

        [LibraryImport(LibC, EntryPoint = "getegid")]
        public static partial uint GetEgid();

        [LibraryImport(LibC, EntryPoint = "waitid", SetLastError = true)]
        public static partial int WaitId(int idType, int id, SigInfo* info, int options);

        [LibraryImport(LibC, EntryPoint = "waitpid", SetLastError = true)]
        public static partial int WaitPid(int pid, int* status, int options);

        [LibraryImport(LibC, EntryPoint = "getrlimit", SetLastError = true)]
        public static partial int GetRlimit(int resource, RLimit* limit);

        [LibraryImport(LibC, EntryPoint = "prctl", SetLastError = true)]
        private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

        [StructLayout(LayoutKind.Sequential)]
        public struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        /// <summary>siginfo_t is 128 bytes; waitid fills si_pid at 16, si_status at 24 and si_code at 8 (x86-64 and arm64 alike).</summary>
        [StructLayout(LayoutKind.Explicit, Size = 128)]
        public struct SigInfo
        {
            [FieldOffset(0)] public int Signo;
            [FieldOffset(8)] public int Code;
            [FieldOffset(16)] public int Pid;
            [FieldOffset(24)] public int Status;
        }

        /// <summary>The kernel's number of a signal that ends a process, as forwarded to a container (the same on x86-64 and arm64).</summary>
        public static int SignalNumber(PosixSignal signal) => signal switch
        {
            PosixSignal.SIGHUP => 1,
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGQUIT => 3,
            PosixSignal.SIGTERM => 15,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "not a signal that is forwarded"),
        };

        /// <summary>Makes orphaned descendants (a container whose runtime parent exited) children of this process.</summary>
        public static void BecomeChildSubreaper() => Errno.Check(Prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl PR_SET_CHILD_SUBREAPER");

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

        /// <summary>
        /// Blocks until a child has exited and returns its pid, leaving it unreaped (waitid WNOWAIT), or -1 when there
        /// is no child left: the caller decides whether it reaps that child or leaves it to whoever waits for it.
        /// </summary>
        public static int WaitExitedChild()
        {
            const int P_ALL = 0, WEXITED = 4, WNOWAIT = 0x01000000;
            SigInfo info = default;
            while (WaitId(P_ALL, 0, &info, WEXITED | WNOWAIT) == -1)
            {
                if (Errno.Last == Errno.ECHILD)
                    return -1;
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("waitid", "P_ALL", Errno.Last);
            }
            return info.Pid;
        }

        /// <summary>Reaps a child that has exited: its shell-style status, or null when it has not exited or is no child (reaped already).</summary>
        public static int? TryReapChild(int pid)
        {
            const int WNOHANG = 1;
            int status;
            while (true)
            {
                int result = WaitPid(pid, &status, WNOHANG);
                if (result > 0)
                    return DecodeWaitStatus(status);
                if (result == 0 || Errno.Last == Errno.ECHILD)
                    return null;
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("waitpid", pid.ToString(), Errno.Last);
            }
        }

        private static int DecodeWaitStatus(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }
}
