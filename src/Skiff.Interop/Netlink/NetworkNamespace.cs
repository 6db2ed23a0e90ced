using System.Runtime.ExceptionServices;
using System.Text;
using static Skiff.Interop.Interop;

namespace Skiff.Interop.Netlink;

/// <summary>
/// An open network namespace file (a bind mount made by <see cref="Create"/>, or /proc/PID/ns/net). setns and unshare
/// switch only the calling thread, and .NET moves work between pool threads freely, so nothing here ever switches a
/// thread the caller or the pool owns: code that must run inside goes to a new thread of its own that switches and then
/// ends, taking the switch with it.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(FileDescriptor handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The namespace file, open read-only: what setns and IFLA_NET_NS_FD take.</summary>
    public FileDescriptor Handle { get; }

    /// <summary>Where it was opened from, for messages.</summary>
    public string Path { get; }

    /// <summary>
    /// A new network namespace (only <c>lo</c>, down) kept alive by a bind mount of it on <paramref name="bindPath"/>, a
    /// file this creates with mode 0600 and fails on if it exists; its directory is the caller's. On failure neither the
    /// file nor a mount is left behind.
    /// </summary>
    public static NetworkNamespace Create(string bindPath) => Create<IDisposable?>(bindPath, () => null, out _);

    /// <summary>
    /// As <see cref="Create(string)"/>, and runs <paramref name="inside"/> in the new namespace on the thread that made
    /// it, before that thread ends: what a caller would otherwise do with <see cref="Run{T}"/> at once (open a socket
    /// inside), without a second thread to start and wait for. On failure <paramref name="inside"/>'s result is disposed.
    /// </summary>
    public static NetworkNamespace Create<T>(string bindPath, Func<T> inside, out T result) where T : IDisposable?
    {
        using (var file = FileDescriptor.Wrap(Libc.Open(bindPath, Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180), "open", bindPath))
            Errno.Check(Libc.Fchmod(file.Fd, 0x180), "fchmod", bindPath);
        T made = default!;
        try
        {
            made = OnOwnThread(() =>
            {
                Errno.Check(Libc.Unshare(Libc.CLONE_NEWNET), "unshare CLONE_NEWNET", bindPath);
                Mounts.Mount("/proc/thread-self/ns/net", bindPath, null, Mounts.MS_BIND, null);
                return inside();
            });
            var created = Open(bindPath);
            result = made;
            return created;
        }
        catch
        {
            made?.Dispose();
            try
            {
                Delete(bindPath);
            }
            catch (SyscallException)
            {
                // The first failure is the one that says what went wrong; this one would hide it.
            }
            throw;
        }
    }

    /// <summary>Opens a network namespace file; throws when <paramref name="path"/> is some other file or namespace.</summary>
    public static NetworkNamespace Open(string path)
    {
        var handle = FileDescriptor.Wrap(Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path);
        try
        {
            if (Libc.NamespaceType(handle, path) != Libc.CLONE_NEWNET)
                throw new SyscallException("open", path, Errno.EINVAL, "not a network namespace");
            return new NetworkNamespace(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static NetworkNamespace OfProcess(int pid) => Open($"/proc/{pid}/ns/net");

    /// <summary>The calling thread's network namespace.</summary>
    public static NetworkNamespace Current() => Open("/proc/thread-self/ns/net");

    /// <summary>
    /// Detaches the bind mount on <paramref name="bindPath"/> and removes the file; the namespace itself goes when its
    /// last process and open handle do. Nothing to do is no error, so a second Delete (or one after a crash) is fine.
    /// </summary>
    public static void Delete(string bindPath)
    {
        // Bounded: a path can hold a stack of mounts, but never an endless one.
        for (int i = 0; i < 16 && Mounts.Unmount(bindPath, Mounts.MNT_DETACH); i++) { }
        if (Libc.Unlink(bindPath) != 0 && Errno.Last != Errno.ENOENT)
            throw new SyscallException("unlink", bindPath, Errno.Last);
    }

    /// <summary>Runs <paramref name="action"/> on a new thread inside this namespace and waits for it; its exception is rethrown here.</summary>
    public T Run<T>(Func<T> action)
    {
        bool added = false;
        Handle.DangerousAddRef(ref added);
        try
        {
            int fd = Handle.Fd;
            return OnOwnThread(() =>
            {
                Errno.Check(Libc.SetNs(fd, Libc.CLONE_NEWNET), "setns", Path);
                return action();
            });
        }
        finally
        {
            if (added)
                Handle.DangerousRelease();
        }
    }

    public void Run(Action action) => Run(() =>
    {
        action();
        return true;
    });

    /// <summary>
    /// Writes a sysctl of this namespace: /proc/sys/net is per namespace, chosen by the thread that opens it.
    /// <paramref name="key"/> is sysctl(8)'s, dotted ("net.ipv4.ip_forward") or slashed when a part holds a dot
    /// ("net/ipv4/conf/eth0.5/forwarding").
    /// </summary>
    public void WriteSysctl(string key, string value)
    {
        var path = SysctlPath(key);
        Run(() =>
        {
            using var file = FileDescriptor.Wrap(Libc.Open(path, Libc.O_WRONLY | Libc.O_CLOEXEC, 0), "open", path);
            Libc.WriteAll(file, Encoding.UTF8.GetBytes(value), path);
        });
    }

    /// <summary>Reads a sysctl of this namespace, without its trailing newline.</summary>
    public string ReadSysctl(string key)
    {
        var path = SysctlPath(key);
        return Run(() =>
        {
            using var file = FileDescriptor.Wrap(Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path);
            return file.ReadAllText(path).TrimEnd('\n');
        });
    }

    public void Dispose() => Handle.Dispose();

    internal static string SysctlPath(string key)
    {
        var relative = key.Contains('/') ? key : key.Replace('.', '/');
        if (relative.Length == 0 || relative.StartsWith('/') || relative.Split('/').Any(part => part is "" or "." or ".."))
            throw new SyscallException("open", "/proc/sys/" + relative, Errno.EINVAL, $"{key} is not a sysctl name");
        return "/proc/sys/" + relative;
    }

    private static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }) { IsBackground = true, Name = "netns" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
