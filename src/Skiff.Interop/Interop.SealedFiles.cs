using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>Sealed memfds: file contents that nobody, a container included, can change after they are written.</summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        public const int F_ADD_SEALS = 1033;
        public const int F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2, F_SEAL_GROW = 0x4, F_SEAL_WRITE = 0x8;

        public const uint MFD_CLOEXEC = 0x1;
        public const uint MFD_ALLOW_SEALING = 0x2;

        [LibraryImport(LibC, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int MemfdCreate(string name, uint flags);

        [LibraryImport(LibC, EntryPoint = "sendfile", SetLastError = true)]
        public static partial nint SendFile(int outFd, int inFd, long* offset, nint count);

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
    }
}
