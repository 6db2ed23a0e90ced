using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine.Containers;

/// <summary>
/// A container's directory under the store (CONTAINERS/ID): its bundle, log, sockets and lock, named once for the
/// engine's services and the container's monitor alike.
/// </summary>
public sealed class ContainerDirectory(EngineOptions options, string id)
{
    public const string ConfigFileName = "config.json";
    public const string LogFileName = "container.log";
    public const string AttachSocketName = "attach.sock";
    public const string ConsoleSocketName = "console.sock";
    public const string PidFileName = "pid";
    /// <summary>The pid of the health check's process while it runs: the monitor kills it when it runs out of time.</summary>
    public const string HealthPidFileName = "health.pid";
    private const string LockFileName = "lock";
    private const string MonitorLogName = "monitor.log";

    public string Id { get; } = id;

    public string Path { get; } = options.ContainerDirectory(id);

    /// <summary>The OCI bundle's config.json.</summary>
    public string Config => File(ConfigFileName);

    /// <summary>The json-file log of the container's output (rotated files are LOG.1, LOG.2 ...).</summary>
    public string Log => File(LogFileName);

    /// <summary>The monitor's own stderr: what it could not do.</summary>
    public string MonitorLog => File(MonitorLogName);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Takes the container's lock, which every command on it holds (the monitor does not: see its summary).
    /// <paramref name="beforeWaiting"/>, if given, runs once when another holds it, before waiting. The lock goes with
    /// the descriptor, so a crashed holder never leaves it taken.
    /// </summary>
    /// <exception cref="EngineException">NotFound: the container was removed meanwhile.</exception>
    public FileDescriptor Lock(Action? beforeWaiting = null)
    {
        try
        {
            return Libc.LockFile(File(LockFileName), beforeWaiting);
        }
        catch (SyscallException e) when (e.Errno == Errno.ENOENT)
        {
            throw new EngineException(ErrorKind.NotFound, $"no such container: {Id[..12]} (removed meanwhile)");
        }
    }

    /// <summary>The container's lock if nobody holds it now, else null.</summary>
    public FileDescriptor? TryLock() => Libc.TryLockFile(File(LockFileName));

    /// <summary>The monitor's stderr, appended to (a monitor per start).</summary>
    public FileDescriptor OpenMonitorLog()
        => FileDescriptor.Wrap(Libc.Open(MonitorLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, (int)PrivateStore.FileMode), "open", MonitorLog);

    /// <summary>The directory itself, for the *at calls that name its sockets by a path short enough for sun_path.</summary>
    public FileDescriptor Open()
        => FileDescriptor.Wrap(Libc.Open(Path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", Path);
}
