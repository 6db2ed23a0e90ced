using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>
/// mount(2), umount2(2) and the new mount API (fsopen, fsconfig, fsmount, move_mount; Linux 5.2+), for the
/// snapshotters. The new API is called through syscall(2) because glibc only wraps it from 2.36 on; its
/// numbers are the same on every architecture (they were allocated after the syscall tables were unified).
/// </summary>
public static unsafe partial class Interop
{
    public static partial class Mounts
    {
        public const ulong MS_RDONLY = 0x1;
        public const ulong MS_REMOUNT = 0x20;
        public const ulong MS_BIND = 0x1000;
        public const ulong MS_REC = 0x4000;

        public const int MNT_DETACH = 0x2;
        public const int EINVAL = 22;

        private const long SYS_move_mount = 429;
        private const long SYS_fsopen = 430;
        private const long SYS_fsconfig = 431;
        private const long SYS_fsmount = 432;

        private const uint FSOPEN_CLOEXEC = 0x1;
        private const uint FSCONFIG_SET_FLAG = 0;
        private const uint FSCONFIG_SET_STRING = 1;
        private const uint FSCONFIG_CMD_CREATE = 6;
        private const uint FSMOUNT_CLOEXEC = 0x1;
        public const uint MOUNT_ATTR_RDONLY = 0x1;
        private const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;

        [LibraryImport("libc.so.6", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int MountRaw(string source, string target, string? fsType, nuint flags, string? data);

        [LibraryImport("libc.so.6", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Umount2Raw(string target, int flags);

        [LibraryImport("libc.so.6", EntryPoint = "syncfs", SetLastError = true)]
        private static partial int SyncFsRaw(int fd);

        /// <summary>
        /// syncfs(2) of the file system holding <paramref name="path"/>: one call that makes a whole freshly
        /// written tree durable (before it is renamed into place), instead of an fsync per file.
        /// </summary>
        public static void SyncFs(string path)
        {
            using var fd = FileDescriptor.Wrap(Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", path);
            Errno.Check(SyncFsRaw(fd.Fd), "syncfs", path);
        }

        /// <summary>mount(2); throws naming the target and file system type.</summary>
        public static void Mount(string source, string target, string? fsType, ulong flags, string? data)
        {
            if (MountRaw(source, target, fsType, (nuint)flags, data) != 0)
                throw new SyscallException("mount", target, Errno.Last, fsType is null ? null : $"{fsType} mount of {source}");
        }

        /// <summary>umount2(2); false when <paramref name="target"/> is not a mount point (EINVAL) or does not exist.</summary>
        public static bool Unmount(string target, int flags = 0)
        {
            if (Umount2Raw(target, flags) == 0)
                return true;
            int errno = Errno.Last;
            if (errno is EINVAL or Errno.ENOENT)
                return false;
            throw new SyscallException("umount2", target, errno);
        }

        /// <summary>fsopen(2) of <paramref name="fsType"/>; null when the kernel has no new mount API (ENOSYS).</summary>
        public static FileDescriptor? TryFsOpen(string fsType)
        {
            byte[] name = Utf8Z(fsType);
            fixed (byte* pointer = name)
            {
                long fd = Libc.Syscall(SYS_fsopen, (long)pointer, FSOPEN_CLOEXEC, 0, 0, 0);
                if (fd >= 0)
                    return new FileDescriptor((int)fd);
            }
            int errno = Errno.Last;
            return errno == Errno.ENOSYS ? null : throw new SyscallException("fsopen", fsType, errno);
        }

        /// <summary>fsconfig(FSCONFIG_SET_STRING); the error names the key and value and adds the kernel's own message.</summary>
        public static void FsConfigSetString(FileDescriptor context, string key, string value)
        {
            byte[] keyBytes = Utf8Z(key), valueBytes = Utf8Z(value);
            fixed (byte* k = keyBytes, v = valueBytes)
                CheckConfig(context, Libc.Syscall(SYS_fsconfig, context.Fd, FSCONFIG_SET_STRING, (long)k, (long)v, 0), $"{key}={value}");
        }

        /// <summary>fsconfig(FSCONFIG_SET_FLAG).</summary>
        public static void FsConfigSetFlag(FileDescriptor context, string key)
        {
            byte[] keyBytes = Utf8Z(key);
            fixed (byte* k = keyBytes)
                CheckConfig(context, Libc.Syscall(SYS_fsconfig, context.Fd, FSCONFIG_SET_FLAG, (long)k, 0, 0), key);
        }

        /// <summary>fsconfig(FSCONFIG_CMD_CREATE): creates the superblock from the parameters set so far.</summary>
        public static void FsConfigCreate(FileDescriptor context)
            => CheckConfig(context, Libc.Syscall(SYS_fsconfig, context.Fd, FSCONFIG_CMD_CREATE, 0, 0, 0), "create");

        /// <summary>fsmount(2): a detached mount of the created superblock, as an fd.</summary>
        public static FileDescriptor FsMount(FileDescriptor context, uint attributes)
        {
            long fd = Libc.Syscall(SYS_fsmount, context.Fd, FSMOUNT_CLOEXEC, attributes, 0, 0);
            return fd >= 0 ? new FileDescriptor((int)fd) : throw new SyscallException("fsmount", null, Errno.Last, KernelMessages(context));
        }

        /// <summary>move_mount(2) of a detached mount fd onto <paramref name="target"/>.</summary>
        public static void MoveMount(FileDescriptor mount, string target)
        {
            byte[] empty = [0], targetBytes = Utf8Z(target);
            fixed (byte* from = empty, to = targetBytes)
            {
                if (Libc.Syscall(SYS_move_mount, mount.Fd, (long)from, Libc.AT_FDCWD, (long)to, MOVE_MOUNT_F_EMPTY_PATH) != 0)
                    throw new SyscallException("move_mount", target, Errno.Last);
            }
        }

        private static void CheckConfig(FileDescriptor context, long result, string what)
        {
            if (result != 0)
            {
                int errno = Errno.Last;
                throw new SyscallException("fsconfig", what, errno, KernelMessages(context));
            }
        }

        /// <summary>
        /// The messages the file system logged into the fs context ("e overlay: ..."), which say why a
        /// parameter was refused better than the bare errno; null when there are none (overlayfs still sends
        /// some, such as path lookup failures, to the kernel log instead).
        /// </summary>
        private static string? KernelMessages(FileDescriptor context)
        {
            var messages = new List<string>();
            byte* buffer = stackalloc byte[1024];
            for (int i = 0; i < 16; i++)
            {
                nint read = Libc.Read(context.Fd, buffer, 1024);
                if (read <= 0)
                    break;
                messages.Add(System.Text.Encoding.UTF8.GetString(buffer, (int)read).TrimEnd('\n'));
            }
            return messages.Count == 0 ? null : string.Join("; ", messages);
        }

        private static byte[] Utf8Z(string value)
        {
            var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(value) + 1];
            System.Text.Encoding.UTF8.GetBytes(value, bytes);
            return bytes;
        }
    }
}
