using System.Globalization;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using PosixSpawn = Skiff.Interop.Interop.Spawn;

namespace Skiff.Network.Dns;

/// <summary>
/// Starts the resolver of a run root when none runs. The engine calls it on a container's start path after writing
/// the records with that container (<see cref="DnsRecordsFile.Write"/>): in that order, a resolver that is about to
/// exit either sees the container and stays, or has exited before this looks (see DnsResolverHost's TryExit).
/// </summary>
public static class DnsResolverProcess
{
    /// <summary>
    /// The pid of the run root's resolver, started with <paramref name="command"/> followed by
    /// <paramref name="runRoot"/> (such as skiff dns-resolver RUNROOT) when none holds the pid file's lock. The
    /// child gets the pid file already locked on its fd 3, so no second caller can start another in between; it
    /// runs in a session of its own with only that descriptor, its output in RUNROOT/dns/resolver.log. When one
    /// runs, this costs two flocks and a read.
    /// </summary>
    /// <exception cref="DnsException">Unavailable: the resolver's program cannot be started.</exception>
    public static int EnsureRunning(string runRoot, IReadOnlyList<string> command)
    {
        var paths = new DnsResolverPaths(runRoot);
        PrivateStore.EnsureDirectory(paths.Directory);
        using var lifecycle = Libc.LockFile(paths.LifecycleLock);
        using var pidFile = Libc.TryLockFile(paths.PidFile);
        if (pidFile is null)
            return ReadPid(paths.PidFile);
        using var devNull = FileDescriptor.Wrap(Libc.Open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open", "/dev/null");
        using var log = FileDescriptor.Wrap(Libc.Open(paths.Log, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, (int)PrivateStore.FileMode), "open", paths.Log);
        var argv = new List<string>(command) { runRoot };
        int pid;
        try
        {
            pid = PosixSpawn.Start(argv[0], argv, null,
                [(devNull.Fd, 0), (log.Fd, 1), (log.Fd, 2), (pidFile.Fd, DnsResolverHost.InheritedLockFd)], newSession: true, onlyGivenFds: true);
        }
        catch (SyscallException e)
        {
            throw new DnsException(ErrorKind.Unavailable, $"cannot start the DNS resolver {argv[0]}: {SyscallException.Describe(e.Errno)}", e);
        }
        DnsResolverPaths.WritePid(pidFile, pid, paths.PidFile);
        return pid;
    }

    /// <summary>The pid of the run root's resolver if one runs (its pid file is locked), else null.</summary>
    public static int? RunningPid(string runRoot)
    {
        var paths = new DnsResolverPaths(runRoot);
        if (!Directory.Exists(paths.Directory))
            return null;
        using var lifecycle = Libc.LockFile(paths.LifecycleLock);
        if (!File.Exists(paths.PidFile))
            return null;
        using var pidFile = Libc.TryLockFile(paths.PidFile);
        return pidFile is null ? ReadPid(paths.PidFile) : null;
    }

    private static int ReadPid(string path)
    {
        var text = SmallFile.ReadAllText(path);
        int newline = text.IndexOf('\n');
        return newline > 0 && int.TryParse(text.AsSpan(0, newline), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            ? pid
            : throw new DnsException(ErrorKind.Internal, $"the DNS resolver's pid file {path} holds no pid: stop the process that holds its lock (fuser {path})");
    }
}
