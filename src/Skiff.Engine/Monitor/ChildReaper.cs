using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine.Monitor;

/// <summary>
/// The monitor's children: the container's process (the monitor is the child subreaper it is reparented to), the
/// runtime's orphans, and the runtimes its health checks start. The supervisor reaps every child but those claimed: a
/// health check waits for its runtime itself (through a pidfd, for the runtime's status and logged error), and a
/// waitpid(-1) taking it first would leave that wait nothing to reap.
/// </summary>
internal sealed class ChildReaper
{
    private readonly object _gate = new();
    private readonly HashSet<int> _claimed = [];

    /// <summary>Runs <paramref name="spawn"/> and claims the child it started; the caller reaps it and then calls <see cref="Release"/>.</summary>
    public RuntimeCommand SpawnClaimed(Func<RuntimeCommand> spawn)
    {
        // Under the gate: the child may exit before it is claimed, and the supervisor must not reap it meanwhile.
        lock (_gate)
        {
            var command = spawn();
            _claimed.Add(command.Pid);
            return command;
        }
    }

    public void Release(int pid)
    {
        lock (_gate)
        {
            _claimed.Remove(pid);
            System.Threading.Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Reaps children until <paramref name="pid"/> has exited: its status, or null when no child is left (it never was one).</summary>
    public int? ReapUntil(int pid)
    {
        while (true)
        {
            var exited = Libc.WaitExitedChild();
            if (exited == -1)
                return null;
            lock (_gate)
            {
                if (_claimed.Contains(exited))
                {
                    // Its owner reaps it; waitid would report it again until then.
                    while (_claimed.Contains(exited))
                        System.Threading.Monitor.Wait(_gate);
                    continue;
                }
                if (Libc.TryReapChild(exited) is { } status && exited == pid)
                    return status;
            }
        }
    }
}
