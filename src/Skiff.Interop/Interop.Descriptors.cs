using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>open, read, write, fcntl, pipes and poll: the calls on plain file descriptors.</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        public const int O_RDONLY = 0x0;
        public const int O_WRONLY = 0x1;
        public const int O_RDWR = 0x2;
        public const int O_CREAT = 0x40;
        public const int O_EXCL = 0x80;
        public const int O_NOCTTY = 0x100;
        public const int O_TRUNC = 0x200;
        public const int O_APPEND = 0x400;
        public const int O_NONBLOCK = 0x800;
        // The two open flags whose values differ between x86-64 (asm-generic/fcntl.h) and arm64 (arch/arm64/include/uapi/asm/fcntl.h).
        public static readonly int O_DIRECTORY = DirectoryFlag(RuntimeInformation.ProcessArchitecture);
        public static readonly int O_NOFOLLOW = NoFollowFlag(RuntimeInformation.ProcessArchitecture);
        public const int O_CLOEXEC = 0x80000;
        public const int O_PATH = 0x200000;

        internal static int DirectoryFlag(Architecture architecture) => architecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

        internal static int NoFollowFlag(Architecture architecture) => architecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

        public const int F_DUPFD_CLOEXEC = 1030;
        public const int F_GETFD = 1;
        public const int F_SETFD = 2;
        public const int F_GETFL = 3;
        public const int F_SETFL = 4;

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

        [LibraryImport(LibC, EntryPoint = "lseek", SetLastError = true)]
        public static partial long Lseek(int fd, long offset, int whence);

        [LibraryImport(LibC, EntryPoint = "poll", SetLastError = true)]
        public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

        [LibraryImport(LibC, EntryPoint = "isatty")]
        public static partial int IsATty(int fd);

        [LibraryImport(LibC, EntryPoint = "pipe2", SetLastError = true)]
        private static partial int Pipe2(int* fds, int flags);

        [LibraryImport(LibC, EntryPoint = "dup2", SetLastError = true)]
        private static partial int Dup2Raw(int oldFd, int newFd);

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

        /// <summary>Makes <paramref name="newFd"/> (0, 1 or 2: a process's own stdio) a copy of <paramref name="file"/>.</summary>
        public static void Dup2(FileDescriptor file, int newFd) => Errno.Check(Dup2Raw(file.Fd, newFd), "dup2");

        /// <summary>Duplicates <paramref name="fd"/> to the lowest free number at or above <paramref name="minimum"/>, close-on-exec.</summary>
        public static FileDescriptor DupAtLeast(FileDescriptor fd, int minimum)
            => FileDescriptor.Wrap(Fcntl(fd.Fd, F_DUPFD_CLOEXEC, minimum), "fcntl F_DUPFD_CLOEXEC");
    }
}
