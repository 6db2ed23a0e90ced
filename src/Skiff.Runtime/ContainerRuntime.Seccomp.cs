using System.Text;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime.State;

namespace Skiff.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// linux.seccomp.listenerPath (runtime-spec config-linux.md, runc's behaviour): for a filter with
    /// SCMP_ACT_NOTIFY rules, skiff-init sends the notify fd back during setup, and this passes it on: one
    /// connection to the unix socket, the container process state as JSON with "fds": ["seccompFd"], and
    /// the fd itself as SCM_RIGHTS. Null when the config has no listener.
    /// </summary>
    private static Action<int, FileDescriptor>? SeccompListenerForwarder(ContainerRecord record, Spec spec, ContainerStatus status)
    {
        var seccomp = spec.Linux?.Seccomp;
        if (seccomp is null || string.IsNullOrEmpty(seccomp.ListenerPath))
            return null;
        var path = seccomp.ListenerPath;
        return (pid, notifyFd) =>
        {
            var state = ToState(record, spec, status);
            state.Pid = pid;
            var message = new ContainerProcessState
            {
                Version = state.Version,
                Fds = ["seccompFd"],
                Pid = pid,
                Metadata = seccomp.ListenerMetadata,
                State = state,
            };
            try
            {
                using var socket = Skiff.Interop.Interop.Socket.ConnectUnix(path);
                Skiff.Interop.Interop.Socket.SendWithFd(socket, Encoding.UTF8.GetBytes(OciJson.SerializeContainerProcessState(message)), notifyFd, path);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException(e.Kind, $"cannot hand the seccomp notify fd to linux.seccomp.listenerPath: {e.Message} (is the seccomp agent listening?)", e);
            }
        };
    }
}
