using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>unshare(2) and setns(2), which act on the calling thread only, and the nsfs ioctl that tells a namespace's type.</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        public const int CLONE_NEWNET = 0x40000000;
        // _IO(0xb7, 0x3) from linux/nsfs.h: _IO has no size or direction bits, so it is the same on x86-64 and arm64.
        private const ulong NS_GET_NSTYPE = 0xb703;

        [LibraryImport(LibC, EntryPoint = "unshare", SetLastError = true)]
        public static partial int Unshare(int flags);

        [LibraryImport(LibC, EntryPoint = "setns", SetLastError = true)]
        public static partial int SetNs(int fd, int namespaceType);

        /// <summary>The CLONE_NEW* type of the namespace file <paramref name="fd"/>; null when it is no namespace file (ENOTTY).</summary>
        public static int? NamespaceType(FileDescriptor fd, string path)
        {
            int type = Ioctl(fd.Fd, NS_GET_NSTYPE, null);
            if (type >= 0)
                return type;
            return Errno.Last == Errno.ENOTTY ? null : throw new SyscallException("ioctl NS_GET_NSTYPE", path, Errno.Last);
        }
    }
}
