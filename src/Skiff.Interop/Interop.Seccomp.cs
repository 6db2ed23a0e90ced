using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>
    /// libseccomp (libseccomp.so.2, present on every Debian machine since apt depends on it):
    /// it already knows every architecture's syscall numbers and how to compare 64-bit
    /// arguments on 32-bit ABIs, which a hand-written BPF compiler would have to re-derive.
    /// We only build and export the program; skiff-init loads it.
    /// </summary>
    public static partial class Seccomp
    {
        private const string Lib = "libseccomp.so.2";

        public const int NrError = -1; // __NR_SCMP_ERROR

        [StructLayout(LayoutKind.Sequential)]
        public struct ArgCompare
        {
            public uint Argument;
            public int Operator;
            public ulong DatumA;
            public ulong DatumB;
        }

        [LibraryImport(Lib, EntryPoint = "seccomp_init")]
        public static partial nint Init(uint defaultAction);

        [LibraryImport(Lib, EntryPoint = "seccomp_release")]
        public static partial void Release(nint context);

        [LibraryImport(Lib, EntryPoint = "seccomp_arch_add")]
        public static partial int ArchAdd(nint context, uint archToken);

        [LibraryImport(Lib, EntryPoint = "seccomp_arch_native")]
        public static partial uint ArchNative();

        [LibraryImport(Lib, EntryPoint = "seccomp_arch_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
        public static partial uint ArchResolveName(string name);

        [LibraryImport(Lib, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int SyscallResolveName(string name);

        [LibraryImport(Lib, EntryPoint = "seccomp_rule_add_array")]
        public static partial int RuleAddArray(nint context, uint action, int syscall, uint count, ArgCompare* arguments);

        [LibraryImport(Lib, EntryPoint = "seccomp_attr_set")]
        public static partial int AttrSet(nint context, int attribute, uint value);

        [LibraryImport(Lib, EntryPoint = "seccomp_export_bpf")]
        public static partial int ExportBpf(nint context, int fd);
    }
}
