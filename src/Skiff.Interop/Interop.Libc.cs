using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>libc entry points. Only this project declares P/Invokes (ARCHITECTURE.md).</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        private const string LibC = "libc.so.6";

        public const int O_RDONLY = 0x0;
        public const int O_WRONLY = 0x1;
        public const int O_RDWR = 0x2;
        public const int O_CREAT = 0x40;
        public const int O_EXCL = 0x80;
        public const int O_NOCTTY = 0x100;
        public const int O_TRUNC = 0x200;
        public const int O_NONBLOCK = 0x800;
        // The two open flags whose values differ between x86-64 and arm64 (asm-generic/fcntl.h vs arm64's).
        private static readonly bool Arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        public static readonly int O_DIRECTORY = Arm64 ? 0x4000 : 0x10000;
        public static readonly int O_NOFOLLOW = Arm64 ? 0x8000 : 0x20000;
        public const int O_CLOEXEC = 0x80000;
        public const int O_PATH = 0x200000;

        public const int F_DUPFD_CLOEXEC = 1030;
        public const int F_GETFD = 1;
        public const int F_SETFD = 2;
        public const int F_GETFL = 3;
        public const int F_SETFL = 4;
        public const int F_ADD_SEALS = 1033;
        public const int F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2, F_SEAL_GROW = 0x4, F_SEAL_WRITE = 0x8;

        public const uint MFD_CLOEXEC = 0x1;
        public const uint MFD_ALLOW_SEALING = 0x2;

        [LibraryImport(LibC, EntryPoint = "close")]
        public static partial int Close(int fd);

        [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Open(string path, int flags, int mode);

        [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
        public static partial nint Read(int fd, byte* buffer, nint count);

        [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
        public static partial nint Write(int fd, byte* buffer, nint count);

        [LibraryImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
        public static partial int Fcntl(int fd, int command, int argument);

        [LibraryImport(LibC, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int MemfdCreate(string name, uint flags);

        [LibraryImport(LibC, EntryPoint = "sendfile", SetLastError = true)]
        public static partial nint SendFile(int outFd, int inFd, long* offset, nint count);

        [LibraryImport(LibC, EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int MkFifo(string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Chmod(string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "kill", SetLastError = true)]
        public static partial int Kill(int pid, int signal);

        [LibraryImport(LibC, EntryPoint = "getpid")]
        public static partial int GetPid();

        [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
        public static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5);

        [LibraryImport(LibC, EntryPoint = "waitid", SetLastError = true)]
        public static partial int WaitId(int idType, int id, SigInfo* info, int options);

        [LibraryImport(LibC, EntryPoint = "waitpid", SetLastError = true)]
        public static partial int WaitPid(int pid, int* status, int options);

        [LibraryImport(LibC, EntryPoint = "poll", SetLastError = true)]
        public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

        [LibraryImport(LibC, EntryPoint = "getrlimit", SetLastError = true)]
        public static partial int GetRlimit(int resource, RLimit* limit);

        [LibraryImport(LibC, EntryPoint = "isatty")]
        public static partial int IsATty(int fd);

        [StructLayout(LayoutKind.Sequential)]
        public struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short ReturnedEvents;
        }

        public const short POLLIN = 0x1;
        public const short POLLOUT = 0x4;
        public const short POLLHUP = 0x10;

        /// <summary>siginfo_t is 128 bytes; waitid fills si_pid at 16, si_status at 24 and si_code at 8.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 128)]
        public struct SigInfo
        {
            [FieldOffset(0)] public int Signo;
            [FieldOffset(8)] public int Code;
            [FieldOffset(16)] public int Pid;
            [FieldOffset(24)] public int Status;
        }
    }
}

public static unsafe partial class Interop
{
    public static partial class Libc
    {
        [LibraryImport(LibC, EntryPoint = "pipe2", SetLastError = true)]
        private static partial int Pipe2(int* fds, int flags);

        [LibraryImport(LibC, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Unlink(string path);

        [LibraryImport(LibC, EntryPoint = "geteuid")]
        public static partial uint GetEuid();

        [LibraryImport(LibC, EntryPoint = "getegid")]
        public static partial uint GetEgid();

        public static (FileDescriptor Read, FileDescriptor Write) Pipe()
        {
            int* fds = stackalloc int[2];
            Errno.Check(Pipe2(fds, O_CLOEXEC), "pipe2");
            return (new FileDescriptor(fds[0]), new FileDescriptor(fds[1]));
        }

        /// <summary>Makes reads and writes on <paramref name="fd"/> fail with EAGAIN instead of blocking: only for a descriptor nobody else shares.</summary>
        public static void SetNonBlocking(FileDescriptor fd)
        {
            int flags = Fcntl(fd.Fd, F_GETFL, 0);
            Errno.Check(flags < 0 ? flags : Fcntl(fd.Fd, F_SETFL, flags | O_NONBLOCK), "fcntl F_SETFL O_NONBLOCK");
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

        /// <summary>Writes all of <paramref name="data"/>, retrying short writes and EINTR.</summary>
        public static void WriteAll(FileDescriptor fd, ReadOnlySpan<byte> data, string target)
        {
            fixed (byte* start = data)
            {
                int offset = 0;
                while (offset < data.Length)
                {
                    nint written = Write(fd.Fd, start + offset, data.Length - offset);
                    if (written < 0)
                    {
                        if (Errno.Last == Errno.EINTR)
                            continue;
                        throw new SyscallException("write", target, Errno.Last);
                    }
                    offset += (int)written;
                }
            }
        }

        /// <summary>Creates a sealed, close-on-exec memfd holding <paramref name="data"/>.</summary>
        public static FileDescriptor SealedMemfd(string name, ReadOnlySpan<byte> data)
        {
            var fd = FileDescriptor.Wrap(MemfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), "memfd_create", name);
            try
            {
                WriteAll(fd, data, name);
                Seal(fd, name);
                return fd;
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Copies an executable into a sealed memfd. Executing that copy instead of the file means a
        /// container process that opens /proc/PID/exe of our helper can never write to the host
        /// binary (CVE-2019-5736).
        /// </summary>
        public static FileDescriptor SealedCopyOf(string path)
        {
            using var source = FileDescriptor.Wrap(Open(path, O_RDONLY | O_CLOEXEC, 0), "open", path);
            var fd = FileDescriptor.Wrap(MemfdCreate(Path.GetFileName(path), MFD_CLOEXEC | MFD_ALLOW_SEALING), "memfd_create", path);
            try
            {
                while (true)
                {
                    nint copied = SendFile(fd.Fd, source.Fd, null, 1 << 30);
                    if (copied == 0)
                        break;
                    if (copied < 0 && Errno.Last != Errno.EINTR)
                        throw new SyscallException("sendfile", path, Errno.Last);
                }
                Seal(fd, path);
                return fd;
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }

        private static void Seal(FileDescriptor fd, string name)
            => Errno.Check(Fcntl(fd.Fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), "fcntl F_ADD_SEALS", name);

        /// <summary>Duplicates <paramref name="fd"/> to the lowest free number at or above <paramref name="minimum"/>, close-on-exec.</summary>
        public static FileDescriptor DupAtLeast(FileDescriptor fd, int minimum)
            => FileDescriptor.Wrap(Fcntl(fd.Fd, F_DUPFD_CLOEXEC, minimum), "fcntl F_DUPFD_CLOEXEC");
    }
}

public static unsafe partial class Interop
{
    public static partial class Libc
    {
        [LibraryImport(LibC, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Mkdir(string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        private static partial int Statfs(string path, byte* buffer);

        public const long PROC_SUPER_MAGIC = 0x9fa0;

        /// <summary>statfs(2)'s f_type of the file system <paramref name="path"/> is on (PROC_SUPER_MAGIC ...).</summary>
        public static long FileSystemMagic(string path)
        {
            // struct statfs is 120 bytes on x86-64 and arm64, f_type (a long) its first field on both.
            byte* buffer = stackalloc byte[256];
            Errno.Check(Statfs(path, buffer), "statfs", path);
            return *(long*)buffer;
        }
    }
}

public static unsafe partial class Interop
{
    public static partial class Libc
    {
        [LibraryImport(LibC, EntryPoint = "lseek", SetLastError = true)]
        public static partial long Lseek(int fd, long offset, int whence);
    }
}

public static unsafe partial class Interop
{
    public static partial class Libc
    {
        [LibraryImport(LibC, EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Rmdir(string path);
    }
}
