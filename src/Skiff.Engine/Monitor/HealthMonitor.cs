using System.Text;
using Microsoft.Extensions.Logging;
using Skiff.Engine.Containers;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Oci.Image;
using Libc = Skiff.Interop.Interop.Libc;
using Pidfd = Skiff.Interop.Interop.Pidfd;

namespace Skiff.Engine.Monitor;

/// <summary>
/// Checks a running container's health as docker does, on a thread of its monitor for one run of the container: every
/// interval (the start interval during the start period) it execs the check in the container through the runtime, as
/// the container's user in its working directory, with stdout and stderr kept together up to 4 KiB; a check that
/// outlives its timeout is killed and fails with exit code -1. Each result goes into the container's State.Health in
/// its row (<see cref="Healthchecks.Record"/>), and a change of status is recorded as a health_status event. No check
/// runs while the container is paused.
/// </summary>
internal sealed class HealthMonitor
{
    /// <summary>How long a killed check's runtime gets to exit before it is killed too.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);
    /// <summary>The most output read once the check has exited (a background child of it may write on for ever).</summary>
    private const int MaximumDrain = 1 << 20;

    private readonly ContainerContext _context;
    private readonly ContainerRecord _container;
    private readonly HealthConfig _config;
    private readonly IReadOnlyList<string> _command;
    private readonly RuntimeClient _runtime;
    private readonly ChildReaper _children;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _startedAt;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;

    private HealthMonitor(ContainerContext context, ContainerRecord container, HealthConfig config, IReadOnlyList<string> command,
        RuntimeClient runtime, ChildReaper children, ILogger logger, DateTimeOffset startedAt)
    {
        (_context, _container, _config, _command, _runtime, _children, _logger, _startedAt) = (context, container, config, command, runtime, children, logger, startedAt);
        _thread = new Thread(Run) { IsBackground = true, Name = "health" };
    }

    /// <summary>Starts checking the container that just started; null when its health is not checked.</summary>
    public static HealthMonitor? Start(ContainerContext context, ContainerRecord container, RuntimeClient runtime, ChildReaper children, ILogger logger, DateTimeOffset startedAt)
    {
        if (container.Config.Healthcheck is not { } config || Healthchecks.Command(config, container.Config.Shell) is not { } command)
            return null;
        var monitor = new HealthMonitor(context, container, config, command, runtime, children, logger, startedAt);
        monitor._thread.Start();
        return monitor;
    }

    /// <summary>
    /// Ends the checks once the container's process has exited: a check still running ends with the container's
    /// namespaces, and its result is dropped. Waits for it, boundedly: the exit must be recorded after any result.
    /// </summary>
    public void Stop()
    {
        _stop.Set();
        if (!_thread.Join(Healthchecks.Timeout(_config) + KillGrace + KillGrace))
            _logger.LogWarning("container {Id}: a health check is still running after the container exited", _container.ShortId);
    }

    private void Run()
    {
        var status = HealthStatus.Starting;
        while (!_stop.Wait(Healthchecks.NextDelay(_config, DateTimeOffset.UtcNow - _startedAt, status)))
        {
            try
            {
                if (CheckAndRecord() is not { } next)
                    return;
                status = next;
            }
            catch (Exception e)
            {
                // Whatever fails here (the store busy past its timeout, say) must not take the monitor down with this
                // thread: the monitor owns the container's stdio. The next check tries again.
                _logger.LogWarning("container {Id}: health check not recorded: {Error}", _container.ShortId, e.Message);
            }
        }
    }

    /// <summary>Runs a check unless the container is paused and records its result: the status now, or null when the container's run is over.</summary>
    private HealthStatus? CheckAndRecord()
    {
        if (_context.Store.Get(_container.Id) is not { } current)
            return null;
        if (current.State.Status != ContainerStatus.Running)
            return current.State.Health?.Status ?? HealthStatus.Starting;
        var result = Check(current);
        // A check the container's exit cut short says nothing of its health (docker drops it too).
        if (_stop.IsSet || !ProcessIdentity.IsAlive(current.State.Pid, current.State.PidStartTime))
            return null;
        HealthStatus? before = null;
        var state = _context.Store.ChangeState(_container.Id, s =>
        {
            if (s.Status != ContainerStatus.Running || s.Health is not { } health)
                return s;
            before = health.Status;
            return s with { Health = Healthchecks.Record(health, result, _config, s.StartedAt ?? _startedAt) };
        });
        if (state?.Health is not { } after || before is null)
            return state?.Health?.Status;
        if (before != after.Status)
            _context.RecordEvent(_context.Store.Get(_container.Id) ?? current, $"health_status: {after.StatusName}");
        return after.Status;
    }

    /// <summary>One check, recorded as docker's exec events; a check that cannot be run is a failure with its reason as output.</summary>
    private HealthResult Check(ContainerRecord container)
    {
        var start = DateTimeOffset.UtcNow;
        var execId = ContainerExec.RecordStart(_context, container, _command);
        int exitCode;
        string output;
        try
        {
            (exitCode, output) = Exec(container);
        }
        catch (Exception e) when (e is EngineException or SyscallException or IOException or UnauthorizedAccessException)
        {
            (exitCode, output) = (-1, e.Message);
        }
        ContainerExec.RecordExit(_context, container, execId, exitCode);
        return new HealthResult(start, DateTimeOffset.UtcNow, exitCode, output);
    }

    private (int ExitCode, string Output) Exec(ContainerRecord container)
    {
        var pidFile = _context.DirectoryOf(container.Id).File(ContainerDirectory.HealthPidFileName);
        File.Delete(pidFile);
        var args = ContainerExec.RuntimeArguments(container, null, null, []);
        args.AddRange(["--pid-file", pidFile, container.Id]);
        args.AddRange(_command);
        var timeout = Healthchecks.Timeout(_config);
        var (read, write) = Libc.Pipe();
        using (read)
        {
            RuntimeCommand runtime;
            using (write)
            using (var devNull = RuntimeClient.OpenDevNull())
                runtime = _children.SpawnClaimed(() => _runtime.Spawn(args, devNull, write, write));
            try
            {
                var output = new BoundedOutput();
                bool exited;
                using (var pidfd = Pidfd.Open(runtime.Pid))
                {
                    exited = ReadUntilExit(read, pidfd, output, DateTimeOffset.UtcNow + timeout);
                    if (!exited)
                        Kill(pidFile, pidfd);
                }
                output.Drain(read);
                var (code, error) = runtime.Wait();
                if (!exited)
                {
                    var text = output.ToString();
                    return (-1, $"Health check exceeded timeout ({GoDuration.Format(timeout.Ticks * 100)})" + (text.Length > 0 ? ": " + text : ""));
                }
                return error is null ? (code, output.ToString()) : (-1, error);
            }
            finally
            {
                _children.Release(runtime.Pid);
                File.Delete(pidFile);
            }
        }
    }

    /// <summary>Keeps the check's output while it runs; false when the deadline came first.</summary>
    private static bool ReadUntilExit(FileDescriptor read, FileDescriptor pidfd, BoundedOutput output, DateTimeOffset deadline)
    {
        Libc.SetNonBlocking(read);
        var open = true;
        while (true)
        {
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
                return false;
            var milliseconds = (int)Math.Min(int.MaxValue, Math.Ceiling(left.TotalMilliseconds));
            if (!open)
                return Pidfd.WaitReadable(pidfd, milliseconds);
            var (readable, exited) = read.PollEither(Libc.POLLIN, pidfd, "health check output", milliseconds);
            if (exited)
                return true;
            if (readable)
                open = output.ReadFrom(read);
        }
    }

    /// <summary>Kills the check's process (docker kills it at its timeout), or the runtime still starting it; the runtime too if it lingers.</summary>
    private static void Kill(string pidFile, FileDescriptor runtime)
    {
        const int SIGKILL = 9;
        try
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && Pidfd.TryOpen(pid, out var process))
            {
                using (process)
                    Pidfd.SendSignal(process!, SIGKILL);
                if (Pidfd.WaitReadable(runtime, (int)KillGrace.TotalMilliseconds))
                    return;
            }
            Pidfd.SendSignal(runtime, SIGKILL);
        }
        catch (SyscallException)
        {
            // it exited meanwhile
        }
        Pidfd.WaitReadable(runtime, -1);
    }

    /// <summary>docker's limitedBuffer: the first 4 KiB of output, "..." appended when more was cut.</summary>
    private sealed class BoundedOutput
    {
        private readonly byte[] _kept = new byte[Healthchecks.MaximumOutput];
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _length;
        private bool _truncated;

        /// <summary>Reads what is there; false at end of file.</summary>
        public bool ReadFrom(FileDescriptor source)
        {
            int n;
            try
            {
                n = source.ReadAvailable(_buffer, "health check output");
            }
            catch (SyscallException)
            {
                return false;
            }
            if (n > 0)
                Keep(n);
            return n != 0;
        }

        /// <summary>What an exited check left in the pipe, boundedly.</summary>
        public void Drain(FileDescriptor source)
        {
            for (int drained = 0; drained < MaximumDrain;)
            {
                int n;
                try
                {
                    n = source.ReadAvailable(_buffer, "health check output");
                }
                catch (SyscallException)
                {
                    return;
                }
                if (n <= 0)
                    return;
                Keep(n);
                drained += n;
            }
        }

        private void Keep(int count)
        {
            var kept = Math.Min(count, _kept.Length - _length);
            _buffer.AsSpan(0, kept).CopyTo(_kept.AsSpan(_length));
            _length += kept;
            _truncated |= kept < count;
        }

        public override string ToString() => Encoding.UTF8.GetString(_kept, 0, _length) + (_truncated ? "..." : "");
    }
}
