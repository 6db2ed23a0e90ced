using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>
/// The *at() family and openat2, so image and storage code can create files relative to a directory fd that
/// was resolved once, instead of re-resolving path strings that a symlink could redirect.
/// </summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        public const int AT_FDCWD = -100;
        public const int AT_SYMLINK_NOFOLLOW = 0x100;
        public const int AT_REMOVEDIR = 0x200;
        public const int AT_EMPTY_PATH = 0x1000;

        public const uint S_IFMT = 0xF000;
        public const uint S_IFSOCK = 0xC000;
        public const uint S_IFLNK = 0xA000;
        public const uint S_IFREG = 0x8000;
        public const uint S_IFBLK = 0x6000;
        public const uint S_IFDIR = 0x4000;
        public const uint S_IFCHR = 0x2000;
        public const uint S_IFIFO = 0x1000;

        /// <summary>openat2 resolve flags (linux/openat2.h).</summary>
        public const ulong RESOLVE_NO_XDEV = 0x01;
        public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
        public const ulong RESOLVE_NO_SYMLINKS = 0x04;
        public const ulong RESOLVE_BENEATH = 0x08;
        public const ulong RESOLVE_IN_ROOT = 0x10;

        public const long UTIME_OMIT = (1L << 30) - 2;

        private const long SYS_openat2 = 437;

        [StructLayout(LayoutKind.Sequential)]
        public struct OpenHow
        {
            public ulong Flags;
            public ulong Mode;
            public ulong Resolve;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        /// <summary>struct statx (linux/stat.h): one layout on every architecture, unlike struct stat.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 256)]
        public struct Statx
        {
            public uint Mask;
            public uint BlockSize;
            public ulong Attributes;
            public uint Nlink;
            public uint Uid;
            public uint Gid;
            public ushort Mode;
            private ushort _spare0;
            public ulong Ino;
            public ulong Size;
            public ulong Blocks;
            public ulong AttributesMask;
            public Timespec32 Atime;
            public Timespec32 Btime;
            public Timespec32 Ctime;
            public Timespec32 Mtime;
            public uint RdevMajor;
            public uint RdevMinor;
            public uint DevMajor;
            public uint DevMinor;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct Timespec32
        {
            public long Seconds;
            public uint Nanoseconds;
            private int _reserved;
        }

        public const uint STATX_BASIC_STATS = 0x7ff;

        [LibraryImport(LibC, EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [LibraryImport(LibC, EntryPoint = "fchmod", SetLastError = true)]
        public static partial int Fchmod(int fd, uint mode);

        [LibraryImport(LibC, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int OpenAt(int dirFd, string path, int flags, uint mode);

        [LibraryImport(LibC, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int MkdirAt(int dirFd, string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int MknodAt(int dirFd, string path, uint mode, ulong device);

        [LibraryImport(LibC, EntryPoint = "symlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int SymlinkAt(string target, int newDirFd, string linkPath);

        [LibraryImport(LibC, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int LinkAt(int oldDirFd, string oldPath, int newDirFd, string newPath, int flags);

        [LibraryImport(LibC, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int UnlinkAt(int dirFd, string path, int flags);

        [LibraryImport(LibC, EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int FchownAt(int dirFd, string path, uint uid, uint gid, int flags);

        [LibraryImport(LibC, EntryPoint = "fchmodat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int FchmodAt(int dirFd, string path, uint mode, int flags);

        [LibraryImport(LibC, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int UtimensAt(int dirFd, string path, Timespec* times, int flags);

        [LibraryImport(LibC, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int StatxAt(int dirFd, string path, int flags, uint mask, Statx* buffer);

        [LibraryImport(LibC, EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int FSetXattr(int fd, string name, byte* value, nuint size, int flags);

        [LibraryImport(LibC, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int LSetXattr(string path, string name, byte* value, nuint size, int flags);

        [LibraryImport(LibC, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial nint LGetXattr(string path, string name, byte* value, nuint size);

        [LibraryImport(LibC, EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial nint LListXattr(string path, byte* list, nuint size);

        [LibraryImport(LibC, EntryPoint = "lremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        private static partial int LRemoveXattr(string path, string name);

        /// <summary>glibc's makedev: the 64-bit dev_t layout (major in bits 8-19 and 32-63, minor in 0-7 and 20-63).</summary>
        public static ulong MakeDev(uint major, uint minor)
            => ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8)
             | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

        /// <summary>
        /// openat2(2): opens <paramref name="path"/> relative to <paramref name="dirFd"/> with the kernel doing the
        /// path walk under <paramref name="resolve"/> rules, e.g. RESOLVE_IN_ROOT treats dirFd as "/" for every
        /// component and symlink, so no "..", absolute symlink or race can leave it (Linux 5.6+).
        /// </summary>
        public static FileDescriptor OpenAt2(FileDescriptor dirFd, string path, int flags, ulong resolve, uint mode = 0)
        {
            int fd = TryOpenAt2(dirFd, path, flags, resolve, mode);
            return fd >= 0 ? new FileDescriptor(fd) : throw new SyscallException("openat2", path, Errno.Last);
        }

        [LibraryImport(LibC, EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        private static partial nint ReadLinkAtRaw(int dirFd, string path, byte* buffer, nuint size);

        /// <summary>The target of the symlink <paramref name="link"/> (an O_PATH | O_NOFOLLOW descriptor of it).</summary>
        public static string ReadLink(FileDescriptor link) => ReadLinkAt(link.Fd, "", null);

        /// <summary>The target of the symlink at <paramref name="path"/> (not followed).</summary>
        public static string ReadLink(string path) => ReadLinkAt(AT_FDCWD, path, path);

        /// <summary>Bytes that are not UTF-8 come back escaped (<see cref="FileNames"/>).</summary>
        private static string ReadLinkAt(int dirFd, string path, string? target)
        {
            var buffer = new byte[4096]; // PATH_MAX: a symlink's target is never longer
            long length;
            fixed (byte* start = buffer)
                length = ReadLinkAtRaw(dirFd, path, start, (nuint)buffer.Length);
            Errno.Check(length, "readlinkat", target);
            return FileNames.Decode(buffer.AsSpan(0, (int)length));
        }

        /// <summary>openat2 returning the raw result (-1 with errno set) for callers that handle ENOENT themselves.</summary>
        public static int TryOpenAt2(FileDescriptor dirFd, string path, int flags, ulong resolve, uint mode = 0)
        {
            var how = new OpenHow { Flags = (ulong)(uint)flags, Mode = mode, Resolve = resolve };
            byte[] pathBytes = Utf8Z(path);
            bool added = false;
            try
            {
                dirFd.DangerousAddRef(ref added);
                fixed (byte* pathPointer = pathBytes)
                {
                    long result;
                    do
                        result = Syscall(SYS_openat2, dirFd.Fd, (long)pathPointer, (long)&how, sizeof(OpenHow), 0);
                    while (result == -1 && Errno.Last is Errno.EINTR or Errno.EAGAIN);
                    return (int)result;
                }
            }
            finally
            {
                if (added)
                    dirFd.DangerousRelease();
            }
        }

        /// <summary>lstat-like status of <paramref name="path"/> under <paramref name="dirFd"/>, or null if it does not exist.</summary>
        public static Statx? TryStatAt(FileDescriptor dirFd, string path, bool followLastSymlink = false)
        {
            Statx buffer;
            int flags = (followLastSymlink ? 0 : AT_SYMLINK_NOFOLLOW) | (path.Length == 0 ? AT_EMPTY_PATH : 0);
            if (StatxAt(dirFd.Fd, path, flags, STATX_BASIC_STATS, &buffer) == 0)
                return buffer;
            if (Errno.Last == Errno.ENOENT)
                return null;
            throw new SyscallException("statx", path, Errno.Last);
        }

        /// <summary>Sets an xattr on <paramref name="path"/> itself, never on what a symlink there points to.</summary>
        public static void SetXattrNoFollow(string path, string name, ReadOnlySpan<byte> value)
        {
            fixed (byte* pointer = value)
                Errno.Check(LSetXattr(path, name, pointer, (nuint)value.Length, 0), "lsetxattr", $"{path} {name}");
        }

        /// <summary>Reads an xattr of <paramref name="path"/> itself; null when it is not set.</summary>
        public static byte[]? GetXattrNoFollow(string path, string name)
        {
            nint size = LGetXattr(path, name, null, 0);
            if (size < 0)
                return Errno.Last == ENODATA ? null : throw new SyscallException("lgetxattr", $"{path} {name}", Errno.Last);
            var value = new byte[size];
            fixed (byte* pointer = value)
                size = LGetXattr(path, name, pointer, (nuint)value.Length);
            if (size < 0)
                throw new SyscallException("lgetxattr", $"{path} {name}", Errno.Last);
            return value[..(int)size];
        }

        /// <summary>Removes an xattr of <paramref name="path"/> itself, never of what a symlink there points to.</summary>
        public static void RemoveXattrNoFollow(string path, string name)
            => Errno.Check(LRemoveXattr(path, name), "lremovexattr", $"{path} {name}");

        /// <summary>The names of the xattrs of <paramref name="path"/> itself (a symlink's own, not its target's).</summary>
        public static IReadOnlyList<string> ListXattrsNoFollow(string path)
        {
            while (true)
            {
                nint size = LListXattr(path, null, 0);
                if (size < 0)
                    throw new SyscallException("llistxattr", path, Errno.Last);
                if (size == 0)
                    return [];
                var names = new byte[size];
                fixed (byte* pointer = names)
                    size = LListXattr(path, pointer, (nuint)names.Length);
                // ERANGE: an xattr was added between the two calls; ask for the size again.
                if (size < 0 && Errno.Last == ERANGE)
                    continue;
                if (size < 0)
                    throw new SyscallException("llistxattr", path, Errno.Last);
                return System.Text.Encoding.UTF8.GetString(names, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        public const int ERANGE = 34;
        public const int ENODATA = 61;

        /// <summary>fsyncs a directory, so a rename or create inside it survives a crash.</summary>
        public static void FsyncDirectory(string path)
        {
            using var fd = FileDescriptor.Wrap(Open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), "open", path);
            Errno.Check(Fsync(fd.Fd), "fsync", path);
        }

        private static byte[] Utf8Z(string value)
        {
            var bytes = new byte[FileNames.MaxByteCount(value) + 1];
            return bytes[..(FileNames.Encode(value, bytes) + 1)];
        }
    }
}

/// <summary>Path calls relative to the working directory, and facts about a file system (its type, whether it reports d_type).</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        public const long PROC_SUPER_MAGIC = 0x9fa0;

        /// <summary>glibc's struct dirent on 64-bit Linux (x86-64 and arm64): d_ino (8), d_off (8), d_reclen (2), then d_type.</summary>
        private const int DirentTypeOffset = 18;
        private const byte DT_UNKNOWN = 0;

        [LibraryImport(LibC, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Mkdir(string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Rmdir(string path);

        [LibraryImport(LibC, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Unlink(string path);

        [LibraryImport(LibC, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int Chmod(string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        public static partial int MkFifo(string path, uint mode);

        [LibraryImport(LibC, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller))]
        private static partial int Statfs(string path, byte* buffer);

        [LibraryImport(LibC, EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial nint OpenDir(string path);

        [LibraryImport(LibC, EntryPoint = "readdir", SetLastError = true)]
        private static partial nint ReadDir(nint directory);

        [LibraryImport(LibC, EntryPoint = "closedir")]
        private static partial int CloseDir(nint directory);

        /// <summary>statfs(2)'s f_type of the file system <paramref name="path"/> is on (PROC_SUPER_MAGIC ...).</summary>
        public static long FileSystemMagic(string path)
        {
            // struct statfs is 120 bytes on x86-64 and arm64, f_type (a long) its first field on both.
            byte* buffer = stackalloc byte[256];
            Errno.Check(Statfs(path, buffer), "statfs", path);
            return *(long*)buffer;
        }

        /// <summary>
        /// Whether the filesystem of <paramref name="directory"/> tells entry types in readdir (d_type), which overlayfs
        /// needs (docker's "Supports d_type"; xfs made with ftype=0 does not): false if any entry comes back DT_UNKNOWN.
        /// </summary>
        public static bool ReportsEntryTypes(string directory)
        {
            nint stream = OpenDir(directory);
            if (stream == 0)
                throw new SyscallException("opendir", directory, Errno.Last);
            try
            {
                nint entry;
                while ((entry = ReadDir(stream)) != 0)
                {
                    if (*((byte*)entry + DirentTypeOffset) == DT_UNKNOWN)
                        return false;
                }
                return true;
            }
            finally
            {
                CloseDir(stream);
            }
        }
    }
}
