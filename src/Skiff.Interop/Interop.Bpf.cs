using System.Runtime.InteropServices;
using System.Text;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>bpf(2) for cgroup device programs: load, attach to a cgroup2 directory, list and detach.</summary>
    public static class Bpf
    {
        private const int ProgLoad = 5, ProgAttach = 8, ProgDetach = 9, ProgGetFdById = 13, ProgQuery = 16;
        public const uint ProgTypeCgroupDevice = 15;
        public const uint AttachCgroupDevice = 6;
        public const uint FlagAllowMulti = 2;
        // union bpf_attr is larger, but the kernel accepts a shorter one as long as what it reads is there
        private const int AttrSize = 128;

        // The process's own ABI decides the number, not the machine's: an x86-64 binary under emulation on arm64 makes x86-64 calls.
        private static readonly long SyscallNumber = SyscallNumberOf(RuntimeInformation.ProcessArchitecture);

        /// <summary>bpf(2) is older than the unified syscall table, so its number differs per architecture (unistd_64.h, asm-generic/unistd.h).</summary>
        internal static long SyscallNumberOf(Architecture architecture) => architecture switch
        {
            Architecture.X64 => 321,
            Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 280,
            Architecture.S390x => 351,
            Architecture.Ppc64le => 361,
            var other => throw new PlatformNotSupportedException($"bpf(2) syscall number for {other} is not known"),
        };

        private static long Call(int command, byte* attr) => Libc.Syscall(SyscallNumber, command, (long)attr, AttrSize, 0, 0);

        /// <summary>
        /// BPF_PROG_LOAD of a program of <paramref name="type"/> (one struct bpf_insn per element). A program
        /// the verifier refuses throws with the verifier's log, which says which instruction and why.
        /// </summary>
        public static FileDescriptor LoadProgram(uint type, ReadOnlySpan<ulong> instructions, string license)
        {
            var licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
            var log = new byte[65536];
            var attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            fixed (ulong* insns = instructions)
            fixed (byte* licensePtr = licenseBytes)
            fixed (byte* logPtr = log)
            {
                *(uint*)attr = type;
                *(uint*)(attr + 4) = (uint)instructions.Length;
                *(ulong*)(attr + 8) = (ulong)insns;
                *(ulong*)(attr + 16) = (ulong)licensePtr;
                *(uint*)(attr + 24) = 1; // log_level: only filled when the load fails
                *(uint*)(attr + 28) = (uint)log.Length;
                *(ulong*)(attr + 32) = (ulong)logPtr;
                long fd;
                while ((fd = Call(ProgLoad, attr)) < 0 && Errno.Last == Errno.EINTR)
                {
                }
                if (fd >= 0)
                    return new FileDescriptor((int)fd);
                var errno = Errno.Last;
                var end = Array.IndexOf(log, (byte)0);
                var verifier = Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).Trim().Replace('\n', ';');
                throw new SyscallException("bpf BPF_PROG_LOAD", $"a program of {instructions.Length} instructions", errno,
                    verifier.Length == 0 ? null : $"verifier: {verifier}");
            }
        }

        /// <summary>BPF_PROG_ATTACH (or, with <paramref name="detach"/>, BPF_PROG_DETACH) of a program to a cgroup directory fd.</summary>
        public static void Attach(FileDescriptor cgroupDirectory, FileDescriptor program, uint attachType, uint flags, string target, bool detach = false)
        {
            var attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            *(uint*)attr = (uint)cgroupDirectory.Fd;
            *(uint*)(attr + 4) = (uint)program.Fd;
            *(uint*)(attr + 8) = attachType;
            *(uint*)(attr + 12) = flags;
            if (Call(detach ? ProgDetach : ProgAttach, attr) < 0)
                throw new SyscallException(detach ? "bpf BPF_PROG_DETACH" : "bpf BPF_PROG_ATTACH", target, Errno.Last);
        }

        /// <summary>BPF_PROG_QUERY: the ids of the programs attached to a cgroup directory for <paramref name="attachType"/>.</summary>
        public static uint[] AttachedPrograms(FileDescriptor cgroupDirectory, uint attachType, string target)
        {
            var ids = new uint[64];
            var attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            fixed (uint* idsPtr = ids)
            {
                *(uint*)attr = (uint)cgroupDirectory.Fd;
                *(uint*)(attr + 4) = attachType;
                *(ulong*)(attr + 16) = (ulong)idsPtr;
                *(uint*)(attr + 24) = (uint)ids.Length;
                if (Call(ProgQuery, attr) < 0)
                    throw new SyscallException("bpf BPF_PROG_QUERY", target, Errno.Last);
                return ids[..(int)*(uint*)(attr + 24)];
            }
        }

        /// <summary>BPF_PROG_GET_FD_BY_ID.</summary>
        public static FileDescriptor ProgramById(uint id)
        {
            var attr = stackalloc byte[AttrSize];
            new Span<byte>(attr, AttrSize).Clear();
            *(uint*)attr = id;
            return FileDescriptor.Wrap((int)Call(ProgGetFdById, attr), "bpf BPF_PROG_GET_FD_BY_ID", id.ToString());
        }
    }
}
