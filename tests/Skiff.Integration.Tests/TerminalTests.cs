using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>process.terminal with --console-socket: the pty master arrives over SCM_RIGHTS (runc's protocol).</summary>
public sealed class TerminalTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    /// <summary>Listens on a unix socket and receives one fd with SCM_RIGHTS.</summary>
    private sealed class ConsoleSocket : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly Task<(int Fd, string Name)> _received;

        public ConsoleSocket(string path)
        {
            Path = path;
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(1);
            _received = Task.Run(() =>
            {
                using var connection = _listener.Accept();
                return ReceiveFd(connection);
            });
        }

        public string Path { get; }

        public (int Fd, string Name) Receive()
        {
            Assert.True(_received.Wait(10_000), "no pty master arrived on the console socket");
            return _received.Result;
        }

        public void Dispose() => _listener.Dispose();
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec
    {
        public void* Base;
        public nuint Len;
    }

    [DllImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static extern unsafe nint RecvMsg(int fd, MsgHdr* msg, int flags);

    private static unsafe (int Fd, string Name) ReceiveFd(Socket connection)
    {
        var data = new byte[4096];
        var control = stackalloc byte[64];
        fixed (byte* buffer = data)
        {
            var iov = new IoVec { Base = buffer, Len = (nuint)data.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 64 };
            nint n = RecvMsg((int)connection.Handle, &msg, 0);
            if (n < 0)
                throw new IOException($"recvmsg failed: errno {Marshal.GetLastPInvokeError()}");
            Assert.True(msg.ControlLen >= 20, "no control message with the fd");
            // struct cmsghdr { size_t len; int level; int type; } then the fd
            Assert.Equal(1, *(int*)(control + 8)); // SOL_SOCKET
            Assert.Equal(1, *(int*)(control + 12)); // SCM_RIGHTS
            return (*(int*)(control + 16), Encoding.UTF8.GetString(data, 0, (int)n).TrimEnd('\0'));
        }
    }

    /// <summary>Reads the master until <paramref name="expected"/> appears; returns everything read.</summary>
    private static string ReadUntil(FileStream master, StringBuilder seen, string expected)
    {
        var task = Task.Run(() =>
        {
            var buffer = new byte[1024];
            while (!seen.ToString().Contains(expected))
            {
                int n;
                try
                {
                    n = master.Read(buffer);
                }
                catch (IOException)
                {
                    break; // EIO: the slave side is gone
                }
                if (n <= 0)
                    break;
                seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        });
        task.Wait(10_000);
        var text = seen.ToString();
        Assert.True(text.Contains(expected), $"\"{expected}\" not read from the terminal; got: {text}");
        return text;
    }

    [ContainerFact]
    public void CreateWithTerminalSendsTheMasterAndTheProgramUsesTheTty()
    {
        _bundle.Spec.Process!.Terminal = true;
        _bundle.Spec.Process.ConsoleSize = new Box { Height = 33, Width = 111 };
        _bundle.Spec.Process.Args = ["sh", "-c", "tty; stty size; echo tty-ok; read line; echo got:$line"];
        using var socket = new ConsoleSocket(Path.Combine(_bundle.Directory, "console.sock"));
        var id = _bundle.NewId("tty");
        var create = _bundle.Create(id, "--console-socket", socket.Path);
        Assert.True(create.ExitCode == 0, create.ToString());
        var (fd, name) = socket.Receive();
        Assert.StartsWith("/dev/pts/", name);
        using var master = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, 1);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);

        var seen = new StringBuilder();
        var text = ReadUntil(master, seen, "tty-ok");
        var lines = text.Split("\r\n");
        Assert.Matches("^/dev/(pts/[0-9]+|console)$", lines[0]);
        Assert.Equal("33 111", lines[1]);
        master.Write(Encoding.UTF8.GetBytes("hello\n"));
        master.Flush();
        ReadUntil(master, seen, "got:hello");
        // The line discipline echoes the input: proof it went through the terminal.
        Assert.Contains("hello\r\n", seen.ToString().Replace("got:hello", ""));
    }

    [ContainerFact]
    public void ExecWithTty()
    {
        _bundle.Spec.Process!.Args = ["sleep", "1000"];
        var id = _bundle.NewId("tty");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        using var socket = new ConsoleSocket(Path.Combine(_bundle.Directory, "exec.sock"));
        var exec = ProcessRunner.Run("/bin/sh",
            // stderr stays a pipe for the error message: the detached process has the pty as its stdio.
            ["-c", "exec \"$0\" \"$@\" >/dev/null </dev/null", Repo.Runtime, "--root", _bundle.StateRoot, "exec", "--tty", "--console-socket", socket.Path, "--detach", id,
             "sh", "-c", "tty; echo exec-tty-ok; read line; echo got:$line"],
            null, _bundle.Directory);
        Assert.True(exec.ExitCode == 0, exec.ToString());
        var (fd, name) = socket.Receive();
        Assert.StartsWith("/dev/pts/", name);
        using var master = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, 1);
        var seen = new StringBuilder();
        var text = ReadUntil(master, seen, "exec-tty-ok");
        Assert.Matches("^/dev/pts/[0-9]+$", text.Split("\r\n")[0]);
        master.Write(Encoding.UTF8.GetBytes("again\n"));
        master.Flush();
        ReadUntil(master, seen, "got:again");
    }

    [ContainerFact]
    public void TerminalWithoutConsoleSocketIsAClearError()
    {
        _bundle.Spec.Process!.Terminal = true;
        var id = _bundle.NewId("tty");
        _bundle.AssertFailedCleanly(id, _bundle.Create(id), "--console-socket");
    }

    [ContainerFact]
    public void ExecTtyWithoutConsoleSocketIsAClearError()
    {
        _bundle.Spec.Process!.Args = ["sleep", "1000"];
        var id = _bundle.NewId("tty");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        var exec = _bundle.Runtime("exec", "--tty", id, "true");
        Assert.NotEqual(0, exec.ExitCode);
        Assert.Contains("--console-socket", Leftovers.SingleLine(exec.Stderr));
    }
}
