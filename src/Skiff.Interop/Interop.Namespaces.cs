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

        /// <summary>The CLONE_NEW* type of the namespace file <paramref name="fd"/>; throws naming <paramref name="path"/> when it is no namespace (ENOTTY).</summary>
        public static int NamespaceType(FileDescriptor fd, string path)
            => Errno.Check(Ioctl(fd.Fd, NS_GET_NSTYPE, null), "ioctl NS_GET_NSTYPE", path);
    }
}
