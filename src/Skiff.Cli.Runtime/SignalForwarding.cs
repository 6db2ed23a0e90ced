using System.Runtime.InteropServices;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Cli.Runtime;

/// <summary>
/// A foreground `run`/`exec` stands in for the container process: signals sent to us are forwarded to it (as runc
/// does), and our exit status is its exit status. The handlers are installed before the process starts, as runc
/// installs its handler before it runs the container: a signal that arrives while the container is being started
/// (its program may already run while poststart hooks do) is kept and forwarded once the process is known, instead
/// of taking .NET's default action for it.
/// </summary>
public sealed class SignalForwarding : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _lock = new();
    private readonly List<int> _pending = [];
    private FileDescriptor? _target;

    public SignalForwarding()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                lock (_lock)
                {
                    if (_target is null)
                        _pending.Add(Libc.SignalNumber(context.Signal));
                    else
                        Send(_target, Libc.SignalNumber(context.Signal));
                }
            }));
        }
    }

    /// <summary>Forwards to <paramref name="pidfd"/>'s process (what arrived before first) until it exits; returns its status.</summary>
    public int ForwardUntilExit(FileDescriptor pidfd)
    {
        lock (_lock)
        {
            _target = pidfd;
            foreach (int signal in _pending)
                Send(pidfd, signal);
            _pending.Clear();
        }
        return Pidfd.WaitExit(pidfd);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
    }

    private static void Send(FileDescriptor pidfd, int signal)
    {
        try
        {
            Pidfd.SendSignal(pidfd, signal);
        }
        catch (SyscallException)
        {
            // gone already: its exit status is what we report
        }
    }
}
