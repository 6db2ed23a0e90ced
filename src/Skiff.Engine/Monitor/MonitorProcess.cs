using Skiff.Interop;
using PosixSpawn = Skiff.Interop.Interop.Spawn;
using UnixSocket = Skiff.Interop.Interop.Socket;

namespace Skiff.Engine.Monitor;

/// <summary>Starts a container's monitor (<see cref="EngineOptions.MonitorCommand"/>) with the sync socket of its handshake.</summary>
internal static class MonitorProcess
{
    /// <summary>
    /// The monitor's end of the sync socket goes to its fd 3; returns ours. Its output goes to /dev/null unless given.
    /// It outlives us in a session of its own and with no other descriptor: a pipe our caller left open in us must
    /// not stay open (and a reader of it waiting) for as long as the container runs.
    /// </summary>
    /// <exception cref="EngineException">Unavailable: the monitor's program cannot be started.</exception>
    public static (FileDescriptor Socket, int Pid) Spawn(EngineOptions options, string? id, FileDescriptor? output)
    {
        var (ours, theirs) = UnixSocket.SeqPacketPair();
        using (theirs)
        using (var devNull = RuntimeClient.OpenDevNull())
        {
            var argv = new List<string>(options.MonitorCommand) { "--root", options.Root, "--run-root", options.RunRoot, "--runtime-root", options.RuntimeRoot };
            if (id is not null)
                argv.Add(id);
            output ??= devNull;
            try
            {
                return (ours, PosixSpawn.Start(argv[0], argv, null, [(devNull.Fd, 0), (output.Fd, 1), (output.Fd, 2), (theirs.Fd, ContainerMonitor.SyncFd)], newSession: true, onlyGivenFds: true));
            }
            catch (SyscallException e)
            {
                ours.Dispose();
                throw new EngineException(ErrorKind.Unavailable, $"cannot start the monitor {argv[0]}: {SyscallException.Describe(e.Errno)}");
            }
        }
    }
}

/// <summary>A monitor started before its container (<see cref="ContainerCreation.SpawnMonitor"/>), waiting for the container's id.</summary>
public sealed class PendingMonitor : IDisposable
{
    private FileDescriptor? _socket;

    internal PendingMonitor(FileDescriptor socket, int pid)
    {
        _socket = socket;
        Pid = pid;
    }

    public int Pid { get; }

    /// <summary>The engine's end of the sync socket, once: <see cref="ContainerLifecycle.Start"/> takes it over.</summary>
    internal FileDescriptor? TakeSocket() => Interlocked.Exchange(ref _socket, null);

    /// <summary>Closes the socket unless a start took it: the monitor then exits without doing anything.</summary>
    public void Dispose() => TakeSocket()?.Dispose();
}
