using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>eventfd and inotify: how the kernel tells a watcher about cgroup OOM kills (v1 and v2) and changed files.</summary>
    public static partial class Notify
    {
        private const string LibC = "libc.so.6";
        public const int EFD_NONBLOCK = 0x800;
        public const int EFD_CLOEXEC = 0x80000;
        public const int IN_NONBLOCK = 0x800;
        public const int IN_CLOEXEC = 0x80000;
        public const uint IN_MODIFY = 0x2;
        public const uint IN_MOVED_TO = 0x80;
        public const uint IN_DELETE = 0x200;

        [LibraryImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
        private static partial int EventFdCreate(uint initial, int flags);

        [LibraryImport(LibC, EntryPoint = "inotify_init1", SetLastError = true)]
        private static partial int InotifyInit(int flags);

        [LibraryImport(LibC, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int InotifyAddWatch(int fd, string path, uint mask);

        public static FileDescriptor EventFd()
            => FileDescriptor.Wrap(EventFdCreate(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");

        /// <summary>A non-blocking inotify instance watching <paramref name="path"/> for <paramref name="mask"/>.</summary>
        public static FileDescriptor Inotify(string path, uint mask)
        {
            var fd = FileDescriptor.Wrap(InotifyInit(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1");
            if (InotifyAddWatch(fd.Fd, path, mask) == -1)
            {
                var errno = Errno.Last;
                fd.Dispose();
                throw new SyscallException("inotify_add_watch", path, errno);
            }
            return fd;
        }

        /// <summary>The counter of a non-blocking eventfd (signals since the last read), 0 when none is pending.</summary>
        public static ulong ReadEventFd(FileDescriptor fd)
        {
            ulong counter = 0;
            while (true)
            {
                if (Libc.Read(fd.Fd, (byte*)&counter, sizeof(ulong)) == sizeof(ulong))
                    return counter;
                if (Errno.Last == Errno.EAGAIN)
                    return 0;
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("read", "eventfd", Errno.Last);
            }
        }

        /// <summary>Discards the pending events of a non-blocking inotify fd; true if there were any.</summary>
        public static bool DrainInotify(FileDescriptor fd)
        {
            var buffer = stackalloc byte[4096];
            var any = false;
            while (true)
            {
                if (Libc.Read(fd.Fd, buffer, 4096) > 0)
                {
                    any = true;
                    continue;
                }
                if (Errno.Last == Errno.EAGAIN)
                    return any;
                if (Errno.Last != Errno.EINTR)
                    throw new SyscallException("read", "inotify", Errno.Last);
            }
        }
    }
}
