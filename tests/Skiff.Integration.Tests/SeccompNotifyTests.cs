using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Skiff.Interop;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>linux.seccomp.listenerPath: a small seccomp agent receives the notify fd and answers the container's syscalls.</summary>
public sealed partial class SeccompNotifyTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [ContainerFact]
    public void AgentAtListenerPathGetsTheNotifyFdAndAnswersForTheKernel()
    {
        var socketPath = Path.Combine(_bundle.Directory, "agent.sock");
        using var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        agent.Bind(new UnixDomainSocketEndPoint(socketPath));
        agent.Listen(1);
        var id = _bundle.NewId("notify");
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            ListenerPath = socketPath,
            ListenerMetadata = "agent-meta",
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" }],
        };
        _bundle.Spec.Process!.Args = ["sh", "-c", "mkdir /tmp/x; echo mkdir=$?"];

        // create returns once the runtime passed the fd on: the connection waits in the backlog
        var pidFile = Path.Combine(_bundle.Directory, "container.pid");
        var create = _bundle.Create(id, "--pid-file", pidFile);
        Assert.True(create.ExitCode == 0, create.ToString());
        using var connection = agent.Accept();
        var buffer = new byte[8192];
        using var socket = new FileDescriptor((int)connection.Handle, ownsHandle: false);
        var length = Interop.Interop.Socket.ReceiveWithFd(socket, buffer, out var passed, "agent");
        using var notifyFd = passed;
        Assert.NotNull(notifyFd);
        Assert.Equal("anon_inode:seccomp notify", new FileInfo($"/proc/self/fd/{notifyFd!.Fd}").LinkTarget);
        var message = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement;
        Assert.Equal(["seccompFd"], message.GetProperty("fds").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("agent-meta", message.GetProperty("metadata").GetString());
        Assert.Equal(id, message.GetProperty("state").GetProperty("id").GetString());
        Assert.Equal("creating", message.GetProperty("state").GetProperty("status").GetString());
        Assert.Equal(int.Parse(File.ReadAllText(pidFile)), message.GetProperty("pid").GetInt32());

        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        var notification = ReceiveNotification(notifyFd);
        Assert.Contains(notification.Syscall, new[] { 83, 258 }); // mkdir, mkdirat on x86_64
        Respond(notifyFd, notification.Id, error: 18); // EXDEV: an answer only the agent could have given

        LifecycleTests.WaitFor(() => _bundle.Status(id) == "stopped");
        Assert.Contains("mkdir=1", File.ReadAllText(Path.Combine(_bundle.Directory, $"{id}.out")));
        Assert.Contains("Invalid cross-device link", File.ReadAllText(Path.Combine(_bundle.Directory, $"{id}.err")));
    }

    [ContainerFact]
    public void ExecGivesTheAgentANewListenerForTheExecdProcess()
    {
        var socketPath = Path.Combine(_bundle.Directory, "agent.sock");
        using var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        agent.Bind(new UnixDomainSocketEndPoint(socketPath));
        agent.Listen(2);
        var id = _bundle.NewId("notifyexec");
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            ListenerPath = socketPath,
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" }],
        };
        _bundle.Spec.Process!.Args = ["sleep", "100"];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        using (var forInit = agent.Accept())
        {
            // the container's own listener: not needed here
        }
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);

        var pidFile = Path.Combine(_bundle.Directory, "exec.pid");
        // stdio on a file: a detached process holding the runner's pipes would keep it waiting for EOF
        var output = Path.Combine(_bundle.Directory, "exec.out");
        var exec = ProcessRunner.Run("/bin/sh",
            ["-c", "exec \"$0\" \"$@\" >\"$OUT\" 2>&1 </dev/null", Repo.Runtime, "--root", _bundle.StateRoot, "exec", "--detach", "--pid-file", pidFile, id, "mkdir", "/tmp/y"],
            null, _bundle.Directory, environment: new() { ["OUT"] = output });
        Assert.True(exec.ExitCode == 0, File.ReadAllText(output));
        using var connection = agent.Accept();
        var buffer = new byte[8192];
        using var socket = new FileDescriptor((int)connection.Handle, ownsHandle: false);
        var length = Interop.Interop.Socket.ReceiveWithFd(socket, buffer, out var passed, "agent");
        using var notifyFd = passed;
        Assert.NotNull(notifyFd);
        var message = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement;
        Assert.Equal("running", message.GetProperty("state").GetProperty("status").GetString());
        var execPid = int.Parse(File.ReadAllText(pidFile));
        Assert.Equal(execPid, message.GetProperty("pid").GetInt32());

        var notification = ReceiveNotification(notifyFd!);
        Respond(notifyFd!, notification.Id, error: 18);
        LifecycleTests.WaitFor(() => TestBundle.ProcessGone(execPid));
        Assert.Contains("Invalid cross-device link", File.ReadAllText(output));
    }

    [ContainerFact]
    public void NobodyListeningAtListenerPathFailsCreateCleanly()
    {
        var id = _bundle.NewId("noagent");
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            ListenerPath = Path.Combine(_bundle.Directory, "nobody.sock"),
            Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" }],
        };
        _bundle.AssertFailedCleanly(id, _bundle.Create(id), "listenerPath");
    }

    // <linux/seccomp.h>: struct seccomp_notif is 80 bytes, struct seccomp_notif_resp 24
    private const ulong NotifReceive = 0xC0502100; // _IOWR('!', 0, struct seccomp_notif)
    private const ulong NotifSend = 0xC0182101;    // _IOWR('!', 1, struct seccomp_notif_resp)

    [LibraryImport("libc.so.6", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, ulong request, void* argument);

    private static unsafe (ulong Id, int Syscall) ReceiveNotification(FileDescriptor notifyFd)
    {
        var notification = stackalloc byte[80];
        new Span<byte>(notification, 80).Clear();
        while (Ioctl(notifyFd.Fd, NotifReceive, notification) < 0)
            Assert.Equal(Errno.EINTR, Marshal.GetLastPInvokeError());
        return (*(ulong*)notification, *(int*)(notification + 16));
    }

    private static unsafe void Respond(FileDescriptor notifyFd, ulong id, int error)
    {
        var response = stackalloc byte[24];
        new Span<byte>(response, 24).Clear();
        *(ulong*)response = id;
        *(int*)(response + 16) = -error;
        Assert.Equal(0, Ioctl(notifyFd.Fd, NotifSend, response));
    }
}
