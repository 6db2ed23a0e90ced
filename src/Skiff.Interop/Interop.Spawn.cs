using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>
    /// posix_spawn is the one way a multithreaded .NET process may start a program without
    /// running managed code in the child: glibc implements it with clone(CLONE_VM|CLONE_VFORK),
    /// blocks every signal around it and only calls async-signal-safe code before execve.
    /// </summary>
    public static partial class Spawn
    {
        private const string LibC = "libc.so.6";
        // glibc on x86-64 and arm64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128.
        // Over-allocate so a libc with bigger opaque structs cannot overflow them.
        private const int OpaqueSize = 1024;

        public const short POSIX_SPAWN_SETSIGDEF = 0x04;
        public const short POSIX_SPAWN_SETSIGMASK = 0x08;
        public const short POSIX_SPAWN_SETSID = 0x80;

        [LibraryImport(LibC, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
        private static partial int PosixSpawn(int* pid, string path, void* fileActions, void* attributes, byte** argv, byte** envp);

        [LibraryImport(LibC, EntryPoint = "posix_spawn_file_actions_init")]
        private static partial int FileActionsInit(void* actions);

        [LibraryImport(LibC, EntryPoint = "posix_spawn_file_actions_destroy")]
        private static partial int FileActionsDestroy(void* actions);

        [LibraryImport(LibC, EntryPoint = "posix_spawn_file_actions_adddup2")]
        private static partial int FileActionsAddDup2(void* actions, int fd, int newFd);

        [LibraryImport(LibC, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
        private static partial int FileActionsAddCloseFrom(void* actions, int from);

        [LibraryImport(LibC, EntryPoint = "posix_spawnattr_init")]
        private static partial int AttrInit(void* attributes);

        [LibraryImport(LibC, EntryPoint = "posix_spawnattr_destroy")]
        private static partial int AttrDestroy(void* attributes);

        [LibraryImport(LibC, EntryPoint = "posix_spawnattr_setflags")]
        private static partial int AttrSetFlags(void* attributes, short flags);

        [LibraryImport(LibC, EntryPoint = "posix_spawnattr_setsigmask")]
        private static partial int AttrSetSigMask(void* attributes, void* mask);

        [LibraryImport(LibC, EntryPoint = "posix_spawnattr_setsigdefault")]
        private static partial int AttrSetSigDefault(void* attributes, void* signals);

        [LibraryImport(LibC, EntryPoint = "sigemptyset")]
        private static partial int SigEmptySet(void* set);

        [LibraryImport(LibC, EntryPoint = "sigfillset")]
        private static partial int SigFillSet(void* set);

        /// <summary>
        /// Starts <paramref name="path"/> with every signal disposition reset to default and an
        /// empty mask (.NET ignores SIGPIPE, and ignored dispositions survive execve), with
        /// <paramref name="dup2"/> applied in order. <paramref name="onlyGivenFds"/> closes every other
        /// descriptor in the child, those our own caller left open without close-on-exec included.
        /// Returns the child's pid.
        /// </summary>
        public static int Start(string path, IReadOnlyList<string> argv, IReadOnlyList<string>? environment,
            IReadOnlyList<(int From, int To)> dup2, bool newSession = false, bool onlyGivenFds = false)
        {
            void* actions = NativeMemory.AllocZeroed(OpaqueSize);
            void* attributes = NativeMemory.AllocZeroed(OpaqueSize);
            void* signals = NativeMemory.AllocZeroed(OpaqueSize);
            var argvBlock = new NativeStringArray(argv);
            var envBlock = new NativeStringArray(environment ?? CurrentEnvironment());
            try
            {
                FileActionsInit(actions);
                AttrInit(attributes);
                foreach (var (from, to) in dup2)
                    CheckResult(FileActionsAddDup2(actions, from, to), "posix_spawn_file_actions_adddup2", path);
                if (onlyGivenFds)
                    CheckResult(FileActionsAddCloseFrom(actions, dup2.Count == 0 ? 0 : dup2.Max(fds => fds.To) + 1), "posix_spawn_file_actions_addclosefrom_np", path);
                short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
                if (newSession)
                    flags |= POSIX_SPAWN_SETSID;
                AttrSetFlags(attributes, flags);
                SigEmptySet(signals);
                AttrSetSigMask(attributes, signals);
                SigFillSet(signals);
                AttrSetSigDefault(attributes, signals);
                int pid;
                CheckResult(PosixSpawn(&pid, path, actions, attributes, argvBlock.Pointer, envBlock.Pointer), "posix_spawn", path);
                return pid;
            }
            finally
            {
                FileActionsDestroy(actions);
                AttrDestroy(attributes);
                NativeMemory.Free(actions);
                NativeMemory.Free(attributes);
                NativeMemory.Free(signals);
                argvBlock.Dispose();
                envBlock.Dispose();
            }
        }

        [LibraryImport(LibC, EntryPoint = "execv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int ExecV(string path, byte** argv);

        /// <summary>
        /// Replaces this process with <paramref name="path"/> (same pid, environment and descriptors), so that a
        /// front end can hand its command to another program and the caller's signals and exit status are that
        /// program's. Returns only by throwing.
        /// </summary>
        public static void Exec(string path, IReadOnlyList<string> argv)
        {
            using var argvBlock = new NativeStringArray(argv);
            ExecV(path, argvBlock.Pointer);
            throw new SyscallException("execv", path, Marshal.GetLastPInvokeError());
        }

        private static void CheckResult(int error, string call, string path)
        {
            // posix_spawn* return the error number instead of setting errno.
            if (error != 0)
                throw new SyscallException(call, path, error);
        }

        private static List<string> CurrentEnvironment()
        {
            var list = new List<string>();
            foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
                list.Add($"{entry.Key}={entry.Value}");
            return list;
        }
    }

    /// <summary>A NULL-terminated char*[] in native memory, for argv/envp.</summary>
    public sealed class NativeStringArray : IDisposable
    {
        private readonly byte** _array;
        private readonly int _count;

        public NativeStringArray(IReadOnlyList<string> strings)
        {
            _count = strings.Count;
            _array = (byte**)NativeMemory.AllocZeroed((nuint)(_count + 1), (nuint)sizeof(byte*));
            for (int i = 0; i < _count; i++)
                _array[i] = (byte*)Marshal.StringToCoTaskMemUTF8(strings[i]);
        }

        public byte** Pointer => _array;

        public void Dispose()
        {
            for (int i = 0; i < _count; i++)
                Marshal.FreeCoTaskMem((nint)_array[i]);
            NativeMemory.Free(_array);
        }
    }
}
