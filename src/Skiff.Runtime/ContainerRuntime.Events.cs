using System.Diagnostics;
using Skiff.Interop;
using Skiff.Runtime.State;
using static Skiff.Interop.Interop;

namespace Skiff.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// events: with <paramref name="statsOnce"/>, one "stats" event; otherwise a "stats" event every
    /// <paramref name="interval"/> and an "oom" event for every OOM kill in the container's memory
    /// cgroup, until the container's init process exits (the OOM watch is drained one last time then,
    /// since an OOM kill of init ends the container and is worth reporting).
    /// </summary>
    public unsafe void Events(string id, TimeSpan interval, bool statsOnce, Action<ContainerEvent> emit)
    {
        var status = StatusOf(id, out var record);
        if (status is ContainerStatus.Stopped or ContainerStatus.Creating)
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot report events of container \"{id}\": it is {status.ToSpecString()}");
        var cgroups = CgroupsOf(id, record);
        if (statsOnce)
        {
            emit(new ContainerEvent("stats", id, cgroups.GetStats()));
            return;
        }
        if (!Pidfd.TryOpen(record.Pid, out var pidfd))
            return; // exited between the status check and here: nothing more will happen
        using (pidfd)
        using (var oom = cgroups.WatchOom())
        {
            var fds = stackalloc Libc.PollFd[2];
            var nextStats = Stopwatch.GetTimestamp() + (long)(interval.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                fds[0] = new Libc.PollFd { Fd = oom.Fd.Fd, Events = Libc.POLLIN };
                fds[1] = new Libc.PollFd { Fd = pidfd!.Fd, Events = Libc.POLLIN };
                var waitMs = (int)Math.Clamp(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), nextStats).TotalMilliseconds, 0, int.MaxValue);
                if (Libc.Poll(fds, 2, waitMs) < 0)
                {
                    if (Errno.Last == Errno.EINTR) continue;
                    throw new SyscallException("poll", $"events of {id}", Errno.Last);
                }
                for (var kills = oom.ReadKills(); kills > 0; kills--)
                    emit(new ContainerEvent("oom", id));
                if ((fds[1].ReturnedEvents & Libc.POLLIN) != 0)
                    return;
                if (Stopwatch.GetTimestamp() >= nextStats)
                {
                    emit(new ContainerEvent("stats", id, cgroups.GetStats()));
                    nextStats += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                }
            }
        }
    }
}
