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

        [LibraryImport(LibC, EntryPoint = "send", SetLastError = true)]
        public static partial nint Send(int fd, byte* buffer, nint length, int flags);

        [LibraryImport(LibC, EntryPoint = "recv", SetLastError = true)]
        public static partial nint Receive(int fd, byte* buffer, nint length, int flags);

        public const int MSG_NOSIGNAL = 0x4000;
        public const int MSG_PEEK = 0x2;
        public const int MSG_TRUNC = 0x20;

        private const int AF_NETLINK = 16;
        private const int SOCK_RAW = 3;
        private const int SOL_SOCKET = 1;
        // asm-generic/socket.h's SO_RCVTIMEO_OLD, whose struct timeval is two longs on both 64-bit targets
        private const int SO_RCVTIMEO = 20;
        private const int SOL_NETLINK = 270;
        private const int NETLINK_CAP_ACK = 10;
        private const int NETLINK_EXT_ACK = 11;

        [LibraryImport(LibC, EntryPoint = "setsockopt", SetLastError = true)]
        private static partial int SetSocketOption(int fd, int level, int name, void* value, uint length);

        /// <summary>
        /// A netlink socket of <paramref name="protocol"/> in the calling thread's network namespace. Errors come back
        /// with the kernel's text (NETLINK_EXT_ACK) and without a copy of the request (NETLINK_CAP_ACK), and a receive
        /// gives up after <paramref name="receiveTimeout"/> (EAGAIN) rather than hanging on a kernel that never answers.
        /// </summary>
        public static FileDescriptor OpenNetlink(int protocol, TimeSpan receiveTimeout)
        {
            var fd = FileDescriptor.Wrap(CreateSocket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), "socket AF_NETLINK");
            try
            {
                int on = 1;
                Errno.Check(SetSocketOption(fd.Fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(int)), "setsockopt NETLINK_CAP_ACK");
                Errno.Check(SetSocketOption(fd.Fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(int)), "setsockopt NETLINK_EXT_ACK");
                long* timeout = stackalloc long[2] { (long)receiveTimeout.TotalSeconds, receiveTimeout.Microseconds + receiveTimeout.Milliseconds * 1000L };
                Errno.Check(SetSocketOption(fd.Fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 2 * sizeof(long)), "setsockopt SO_RCVTIMEO");
                return fd;
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }

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

        [LibraryImport(LibC, EntryPoint = "sendmsg", SetLastError = true)]
        private static partial nint SendMessage(int fd, MessageHeader* message, int flags);

        [LibraryImport(LibC, EntryPoint = "recvmsg", SetLastError = true)]
        private static partial nint ReceiveMessage(int fd, MessageHeader* message, int flags);

        private const int SCM_RIGHTS = 1;
        private const int MSG_CMSG_CLOEXEC = 0x40000000;

        [StructLayout(LayoutKind.Sequential)]
        private struct IoVector
        {
            public byte* Base;
            public nuint Length;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct MessageHeader
        {
            public void* Name;
            public uint NameLength;
            public IoVector* Vectors;
            public nuint VectorCount;
            public void* Control;
            public nuint ControlLength;
            public int Flags;
        }

        /// <summary>cmsghdr (len, level, type) plus one int of SCM_RIGHTS, padded as CMSG_SPACE(sizeof(int)) is.</summary>
        [StructLayout(LayoutKind.Sequential)]
        private struct FdControl
        {
            public nuint Length;
            public int Level;
            public int Type;
            public int Fd;
            private readonly int _padding;
        }

        /// <summary>sendmsg of <paramref name="data"/> with <paramref name="passed"/> attached as SCM_RIGHTS.</summary>
        public static void SendWithFd(FileDescriptor socket, ReadOnlySpan<byte> data, FileDescriptor passed, string target)
        {
            fixed (byte* bytes = data)
            {
                var vector = new IoVector { Base = bytes, Length = (nuint)data.Length };
                var control = new FdControl { Length = (nuint)(sizeof(nuint) + 2 * sizeof(int) + sizeof(int)), Level = SOL_SOCKET, Type = SCM_RIGHTS, Fd = passed.Fd };
                var header = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = &control, ControlLength = (nuint)sizeof(FdControl) };
                while (SendMessage(socket.Fd, &header, MSG_NOSIGNAL) < 0)
                    if (Errno.Last != Errno.EINTR)
                        throw new SyscallException("sendmsg", target, Errno.Last);
            }
        }

        /// <summary>
        /// recvmsg into <paramref name="buffer"/>: the byte count (0 at EOF) and the fd that came with
        /// the message as SCM_RIGHTS, if any (close-on-exec, owned by the caller).
        /// </summary>
        public static int ReceiveWithFd(FileDescriptor socket, Span<byte> buffer, out FileDescriptor? passed, string target)
        {
            passed = null;
            fixed (byte* bytes = buffer)
            {
                var vector = new IoVector { Base = bytes, Length = (nuint)buffer.Length };
                var control = new FdControl();
                var header = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = &control, ControlLength = (nuint)sizeof(FdControl) };
                nint n;
                while ((n = ReceiveMessage(socket.Fd, &header, MSG_CMSG_CLOEXEC)) < 0)
                    if (Errno.Last != Errno.EINTR)
                        throw new SyscallException("recvmsg", target, Errno.Last);
                if (header.ControlLength >= (nuint)(sizeof(nuint) + 3 * sizeof(int)) && control.Level == SOL_SOCKET && control.Type == SCM_RIGHTS)
                    passed = new FileDescriptor(control.Fd);
                return (int)n;
            }
        }
    }
}
