using System.Runtime.InteropServices;
using static Skiff.Interop.Interop;

namespace Skiff.Interop;

/// <summary>
/// Lists and deletes trees whose content a container or a layer wrote (snapshots, volumes, layer directories).
/// Names are handled as the bytes the kernel gives: .NET lists names as UTF-8 text, so a file named with other
/// bytes (any program in a container may create one) can be neither found again nor removed, and a whole removal
/// or commit fails. Symlinks are removed, never followed.
/// </summary>
public static unsafe partial class FileTree
{
    private const byte DT_DIR = 4;
    private const byte DT_UNKNOWN = 0;

    /// <summary>Removes <paramref name="path"/> and everything under it; nothing when it does not exist.</summary>
    public static void Delete(string path)
    {
        var status = Libc.TryStatAt(FileDescriptor.CurrentDirectory, path);
        if (status is null)
            return;
        if ((status.Value.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
        {
            Errno.Check(Libc.UnlinkAt(Libc.AT_FDCWD, path, 0), "unlinkat", path);
            return;
        }
        int directory = Errno.Check(Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "open", path);
        try
        {
            DeleteContent(directory, path);
        }
        finally
        {
            Libc.Close(directory);
        }
        Errno.Check(Libc.UnlinkAt(Libc.AT_FDCWD, path, Libc.AT_REMOVEDIR), "unlinkat", path);
    }

    /// <summary>
    /// The names in the directory <paramref name="path"/> (not "." and ".."), in the order the file system gives
    /// them; bytes that are not UTF-8 are escaped as <see cref="FileNames"/> does, so the names work with
    /// <see cref="Libc"/>'s path calls (not with System.IO's).
    /// </summary>
    public static List<string> Names(string path)
    {
        var names = new List<string>();
        int directory = Errno.Check(Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", path);
        try
        {
            ReadEntries(directory, path, (name, _) => names.Add(FileNames.Decode(name)));
        }
        finally
        {
            Libc.Close(directory);
        }
        return names;
    }

    /// <summary>Opens the regular file <paramref name="path"/> for reading, never through a symlink in its last component.</summary>
    public static FileStream OpenRead(string path)
    {
        int fd = Errno.Check(Libc.Open(path, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "open", path);
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
    }

    /// <summary>
    /// Writes the file <paramref name="path"/> through <paramref name="write"/> under a temporary name beside it,
    /// renamed over it when whole: a failure never leaves a truncated file under the name.
    /// </summary>
    public static void WriteReplacing(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Convert.ToHexStringLower(SecureRandom.Bytes(4))}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                write(file);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Copies the regular file <paramref name="source"/> to the new file <paramref name="destination"/> (mode 0600, for
    /// the caller to set) in the kernel: copy_file_range, which shares extents where the file system can, else sendfile.
    /// </summary>
    public static void CopyFile(string source, string destination)
    {
        using var from = FileDescriptor.Wrap(Libc.Open(source, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "open", source);
        using var to = FileDescriptor.Wrap(
            Libc.Open(destination, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180), "open", destination);
        CopyContents(from, to, $"{source} -> {destination}");
    }

    /// <summary>
    /// Copies what is left of the open file <paramref name="from"/> to <paramref name="to"/> in the kernel, as
    /// <see cref="CopyFile(string, string)"/> does, for callers that opened both themselves (inside a root, with
    /// openat2); <paramref name="description"/> names them in errors.
    /// </summary>
    public static void CopyContents(FileDescriptor from, FileDescriptor to, string description)
    {
        bool sendFile = false;
        while (true)
        {
            nint copied = sendFile ? Libc.SendFile(to.Fd, from.Fd, null, 1 << 30) : CopyFileRange(from.Fd, null, to.Fd, null, 1 << 30, 0);
            if (copied == 0)
                return;
            if (copied > 0)
                continue;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR)
                continue;
            if (!sendFile && errno is Errno.EXDEV or Errno.EINVAL or Errno.ENOSYS or Errno.EOPNOTSUPP)
            {
                sendFile = true;
                continue;
            }
            throw new SyscallException(sendFile ? "sendfile" : "copy_file_range", description, errno);
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial nint CopyFileRange(int inFd, long* inOffset, int outFd, long* outOffset, nint length, uint flags);

    private delegate void EntryVisitor(ReadOnlySpan<byte> name, byte type);

    /// <summary>Reads the directory from its current offset to the end; true when it had any entry.</summary>
    private static bool ReadEntries(int directory, string path, EntryVisitor visit)
    {
        var buffer = new byte[32 * 1024];
        bool any = false;
        while (true)
        {
            long read;
            fixed (byte* start = buffer)
                read = Getdents64(directory, start, (nuint)buffer.Length);
            Errno.Check(read, "getdents64", path);
            if (read == 0)
                return any;
            for (int offset = 0; offset < read;)
            {
                // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[].
                int length = BitConverter.ToUInt16(buffer, offset + 16);
                byte type = buffer[offset + 18];
                var name = buffer.AsSpan(offset + 19, length - 19);
                name = name[..name.IndexOf((byte)0)];
                offset += length;
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                    continue;
                visit(name, type);
                any = true;
            }
        }
    }

    private static void DeleteContent(int directory, string path)
    {
        // Entries removed while the directory is read can make the next read skip others: read again from the
        // start until a pass finds nothing left.
        while (true)
        {
            Errno.Check(Libc.Lseek(directory, 0, 0 /* SEEK_SET */), "lseek", path);
            if (!ReadEntries(directory, path, (name, type) => RemoveEntry(directory, name, type, path)))
                return;
        }
    }

    private static void RemoveEntry(int directory, ReadOnlySpan<byte> name, byte type, string path)
    {
        Span<byte> terminated = stackalloc byte[name.Length + 1];
        name.CopyTo(terminated);
        terminated[^1] = 0;
        fixed (byte* namePointer = terminated)
        {
            if (type != DT_DIR)
            {
                if (UnlinkAt(directory, namePointer, 0) == 0)
                    return;
                if (type != DT_UNKNOWN || Marshal.GetLastPInvokeError() != Errno.EISDIR)
                    throw new SyscallException("unlinkat", Describe(path, name), Marshal.GetLastPInvokeError());
            }
            int child = OpenAt(directory, namePointer, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            if (child < 0)
                throw new SyscallException("openat", Describe(path, name), Marshal.GetLastPInvokeError());
            try
            {
                DeleteContent(child, Describe(path, name));
            }
            finally
            {
                Libc.Close(child);
            }
            if (UnlinkAt(directory, namePointer, Libc.AT_REMOVEDIR) != 0)
                throw new SyscallException("unlinkat", Describe(path, name), Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>A path for messages: bytes that are not UTF-8 show as U+FFFD.</summary>
    private static string Describe(string parent, ReadOnlySpan<byte> name) => parent + "/" + System.Text.Encoding.UTF8.GetString(name);

    [LibraryImport("libc.so.6", EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint Getdents64(int fd, byte* buffer, nuint count);

    [LibraryImport("libc.so.6", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAt(int directory, byte* name, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAt(int directory, byte* name, int flags, int mode);
}
