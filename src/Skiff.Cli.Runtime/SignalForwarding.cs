using System.Runtime.InteropServices;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Cli.Runtime;

/// <summary>
/// A foreground `run`/`exec` stands in for the container process: signals sent to us are
/// forwarded to it (as runc does), and our exit status is its exit status.
/// </summary>
public static class SignalForwarding
{
    public static int WaitForwardingSignals(FileDescriptor pidfd)
    {
        var registrations = new List<PosixSignalRegistration>();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                try
                {
                    Pidfd.SendSignal(pidfd, SignalNumber(context.Signal));
                }
                catch (SyscallException)
                {
                }
            }));
        }
        try
        {
            return Pidfd.WaitExit(pidfd);
        }
        finally
        {
            foreach (var registration in registrations)
                registration.Dispose();
        }
    }

    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        _ => 15,
    };
}
