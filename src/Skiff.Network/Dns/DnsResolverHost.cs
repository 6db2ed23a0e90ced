using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using Notify = Skiff.Interop.Interop.Notify;

namespace Skiff.Network.Dns;

/// <summary>Settings of the resolver process; the defaults are the product's.</summary>
public sealed record DnsResolverHostOptions
{
    public int Port { get; init; } = 53;

    /// <summary>How long the records may have no container before the resolver exits.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The resolver process of a run root (`skiff dns-resolver RUNROOT`): serves RUNROOT/dns/records.json with a
/// <see cref="DnsResolver"/>, reloading it when the engine replaces it, and exits once the records have had no
/// container for the grace period. One per run root: it holds the flock of RUNROOT/dns/resolver.pid for its life
/// (see <see cref="DnsResolverProcess"/> for the protocol that never leaves containers without one).
/// </summary>
public static class DnsResolverHost
{
    /// <summary>The descriptor on which <see cref="DnsResolverProcess.EnsureRunning"/> hands the child its pid file, locked.</summary>
    public const int InheritedLockFd = 3;

    /// <inheritdoc cref="Run(string, DnsResolverHostOptions, ILogger, CancellationToken)"/>
    public static int Run(string runRoot, ILogger logger, CancellationToken cancellationToken)
        => Run(runRoot, new DnsResolverHostOptions(), logger, cancellationToken);

    /// <summary>
    /// Serves until the grace period passes without containers or <paramref name="cancellationToken"/> is cancelled,
    /// then removes its pid file. Returns the exit status: 0, also when another resolver of the run root is running
    /// (this one then does nothing).
    /// </summary>
    public static int Run(string runRoot, DnsResolverHostOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var paths = new DnsResolverPaths(runRoot);
        PrivateStore.EnsureDirectory(paths.Directory);
        using var held = AdoptInheritedLock(paths) ?? LockAsOwnProcess(paths);
        if (held is null)
        {
            logger.LogInformation("a DNS resolver of {RunRoot} is running already", runRoot);
            return 0;
        }
        // Records arrive by rename (DnsRecordsFile.Write), and go by removal; lock and log files coming and going stay unseen.
        using var changes = Notify.Inotify(paths.Directory, Notify.IN_MOVED_TO | Notify.IN_DELETE);
        using var wake = Notify.EventFd();
        using var registration = cancellationToken.Register(() => wake.WriteAll(BitConverter.GetBytes(1UL), "eventfd"));
        using var resolver = new DnsResolver(new DnsResolverOptions { Port = options.Port, UpstreamTimeout = options.UpstreamTimeout }, logger);
        var records = Load(paths, resolver, null, logger);
        var clock = Stopwatch.StartNew();
        var emptySince = records.ContainerCount == 0 ? clock.Elapsed : (TimeSpan?)null;
        int tickMs = (int)Math.Clamp(options.GracePeriod.TotalMilliseconds / 4, 20, 1000);
        while (!cancellationToken.IsCancellationRequested)
        {
            var (changed, _) = changes.PollEither(Libc.POLLIN, wake, "inotify", tickMs);
            if (changed && Notify.DrainInotify(changes) || resolver.Listening.Count < ListenCount(records))
            {
                records = Load(paths, resolver, records, logger);
                emptySince = records.ContainerCount > 0 ? null : emptySince ?? clock.Elapsed;
            }
            if (emptySince is { } since && clock.Elapsed - since >= options.GracePeriod)
            {
                if (TryExit(paths, held, resolver, ref records, logger))
                {
                    logger.LogInformation("no container has needed the DNS resolver for {Seconds} s: exiting", options.GracePeriod.TotalSeconds);
                    return 0;
                }
                emptySince = null;
            }
        }
        TryExit(paths, held, resolver, ref records, logger, force: true);
        return 0;
    }

    /// <summary>
    /// Under the lifecycle lock: reads the records once more and, if they still have no container (or
    /// <paramref name="force"/>), removes the pid file and lets its lock go before the lifecycle lock. An EnsureRunning
    /// that waited for the lifecycle lock then finds no resolver and starts one; one that came before saw this one
    /// running, but its records were written before, so the read here sees its container and this one stays.
    /// </summary>
    private static bool TryExit(DnsResolverPaths paths, FileDescriptor held, DnsResolver resolver, ref DnsRecords records, ILogger logger, bool force = false)
    {
        FileDescriptor lifecycle;
        try
        {
            lifecycle = Libc.LockFile(paths.LifecycleLock);
        }
        catch (SyscallException e) when (e.Errno == Errno.ENOENT)
        {
            // The run root was removed under us: no engine is left to start another resolver or to need this one.
            held.Dispose();
            return true;
        }
        using var _ = lifecycle;
        if (!force)
        {
            records = Load(paths, resolver, records, logger);
            if (records.ContainerCount > 0)
                return false;
        }
        Libc.Unlink(paths.PidFile);
        held.Dispose();
        return true;
    }

    /// <summary>The records in the file, applied; the last good ones (logging why) when the file is not valid.</summary>
    private static DnsRecords Load(DnsResolverPaths paths, DnsResolver resolver, DnsRecords? current, ILogger logger)
    {
        DnsRecords records;
        try
        {
            records = DnsRecordsFile.Read(paths.Records);
        }
        catch (Exception e) when (e is DnsException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("{Error}; serving the last good records until it is replaced", e.Message);
            records = current ?? new DnsRecords();
        }
        resolver.Apply(records);
        return records;
    }

    private static int ListenCount(DnsRecords records) => records.Networks.Sum(n => n.Listen.Count);

    /// <summary>Fd 3 when it is our pid file (locked by <see cref="DnsResolverProcess.EnsureRunning"/> for us), else null.</summary>
    private static FileDescriptor? AdoptInheritedLock(DnsResolverPaths paths)
    {
        var inherited = new FileDescriptor(InheritedLockFd, ownsHandle: false);
        Libc.Statx? status;
        try
        {
            status = Libc.TryStatAt(inherited, "", followLastSymlink: true);
        }
        catch (SyscallException)
        {
            return null;
        }
        var pidFile = Libc.TryStatAt(FileDescriptor.CurrentDirectory, paths.PidFile, followLastSymlink: false);
        if (status is not { } fd || pidFile is not { } file || fd.Ino != file.Ino || fd.DevMajor != file.DevMajor || fd.DevMinor != file.DevMinor)
            return null;
        var adopted = new FileDescriptor(InheritedLockFd);
        adopted.SetCloseOnExec();
        return adopted;
    }

    /// <summary>Started by hand: the pid file's lock if free (writing our pid), taken under the lifecycle lock; else null.</summary>
    private static FileDescriptor? LockAsOwnProcess(DnsResolverPaths paths)
    {
        using var lifecycle = Libc.LockFile(paths.LifecycleLock);
        var held = Libc.TryLockFile(paths.PidFile);
        if (held is not null)
            DnsResolverPaths.WritePid(held, Environment.ProcessId, paths.PidFile);
        return held;
    }
}

/// <summary>The files of RUNROOT/dns.</summary>
internal sealed class DnsResolverPaths(string runRoot)
{
    public string Directory { get; } = DnsRecordsFile.DirectoryIn(runRoot);
    public string Records { get; } = DnsRecordsFile.PathIn(runRoot);
    /// <summary>The running resolver's pid; its flock held for the resolver's life is the truth of "running".</summary>
    public string PidFile => Path.Combine(Directory, "resolver.pid");
    /// <summary>Taken briefly by EnsureRunning and by a resolver deciding to exit, so neither acts on a stale view of the other.</summary>
    public string LifecycleLock => Path.Combine(Directory, "lifecycle.lock");
    public string Log => Path.Combine(Directory, "resolver.log");

    /// <summary>
    /// "PID\n" at the start of the file. A stale longer pid of a crashed resolver may follow the newline; readers take
    /// the first line.
    /// </summary>
    public static void WritePid(FileDescriptor pidFile, int pid, string path)
    {
        pidFile.Rewind(path);
        pidFile.WriteAll(Encoding.ASCII.GetBytes($"{pid}\n"), path);
    }
}
