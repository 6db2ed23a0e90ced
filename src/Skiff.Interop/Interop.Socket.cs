using System.Runtime.InteropServices;
using System.Text;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    public static partial class Socket
    {
        private const string LibC = "libc.so.6";
        public const int AF_UNIX = 1;
        public const int SOCK_STREAM = 1;
        public const int SOCK_SEQPACKET = 5;
        public const int SOCK_CLOEXEC = 0x80000;

        [LibraryImport(LibC, EntryPoint = "socketpair", SetLastError = true)]
        private static partial int SocketPair(int domain, int type, int protocol, int* fds);

        [LibraryImport(LibC, EntryPoint = "socket", SetLastError = true)]
        private static partial int CreateSocket(int domain, int type, int protocol);

        [LibraryImport(LibC, EntryPoint = "connect", SetLastError = true)]
        private static partial int Connect(int fd, byte* address, int length);

        [LibraryImport(LibC, EntryPoint = "recv", SetLastError = true)]
        public static partial nint Receive(int fd, byte* buffer, nint length, int flags);

        [LibraryImport(LibC, EntryPoint = "send", SetLastError = true)]
        public static partial nint Send(int fd, byte* buffer, nint length, int flags);

        public const int MSG_NOSIGNAL = 0x4000;

        public static (FileDescriptor Ours, FileDescriptor Theirs) SeqPacketPair()
        {
            int* fds = stackalloc int[2];
            Errno.Check(SocketPair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
            return (new FileDescriptor(fds[0]), new FileDescriptor(fds[1]));
        }

        /// <summary>Connects a blocking stream socket to a unix socket path (the console socket).</summary>
        public static FileDescriptor ConnectUnix(string path)
        {
            var fd = FileDescriptor.Wrap(CreateSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", path);
            // struct sockaddr_un: sa_family_t (2 bytes) + 108 bytes of path.
            var bytes = Encoding.UTF8.GetBytes(path);
            if (bytes.Length >= 108)
            {
                fd.Dispose();
                throw new SyscallException("connect", path, 36 /* ENAMETOOLONG */);
            }
            byte* address = stackalloc byte[110];
            new Span<byte>(address, 110).Clear();
            *(ushort*)address = AF_UNIX;
            bytes.CopyTo(new Span<byte>(address + 2, 108));
            if (Connect(fd.Fd, address, 2 + bytes.Length + 1) == -1)
            {
                int errno = Errno.Last;
                fd.Dispose();
                throw new SyscallException("connect", path, errno);
            }
            return fd;
        }
    }
}
