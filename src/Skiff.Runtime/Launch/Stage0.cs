using System.Buffers.Binary;
using System.Text;
using Skiff.Interop;
using Skiff.Runtime.Plan;
using static Skiff.Interop.Interop;

namespace Skiff.Runtime.Launch;

/// <summary>
/// Starts skiff-init (native/stage0) with a plan and speaks the sync protocol of plan.h.
///
/// fd layout in skiff-init: 0-2 stdio, 3..3+N-1 the --preserve-fds fds (inherited as they are),
/// then the descriptors of <see cref="FdLayout"/> at fixed numbers from 3+N on. The sources are
/// first duplicated above every target number so the ordered dup2 actions can never overwrite a
/// source that a later action still needs.
/// </summary>
public sealed class Stage0 : IDisposable
{
    public const string HelperName = "skiff-init";
    private const int SyncMessageSize = 512;

    private readonly FileDescriptor _sync;
    private readonly int _helperPid;
    private bool _helperReaped;

    private Stage0(FileDescriptor sync, int helperPid)
    {
        _sync = sync;
        _helperPid = helperPid;
    }

    /// <summary>The container init (create) or the exec'd process, once SYNC_PID arrived: a child of this process (CLONE_PARENT).</summary>
    public int ChildPid { get; private set; }

    public FileDescriptor? ChildPidfd { get; private set; }

    public static string HelperPath()
    {
        var overridden = Environment.GetEnvironmentVariable("SKIFF_INIT");
        if (!string.IsNullOrEmpty(overridden))
            return overridden;
        var besideUs = Path.Combine(AppContext.BaseDirectory, HelperName);
        if (File.Exists(besideUs))
            return besideUs;
        throw new RuntimeException(ErrorKind.Internal, $"cannot find {HelperName} next to {AppContext.BaseDirectory}: reinstall skiff (make build) or set SKIFF_INIT");
    }

    /// <summary>Spawns skiff-init with <paramref name="plan"/>; <paramref name="fds"/> must be the layout the plan was compiled against.</summary>
    public static Stage0 Start(PlanWriter plan, FdLayout fds)
    {
        var helperPath = HelperPath();
        using var helperCopy = Libc.SealedCopyOf(helperPath);
        using var planFd = Libc.SealedMemfd("skiff-plan", plan.ToArray());
        var (ours, theirs) = Skiff.Interop.Interop.Socket.SeqPacketPair();
        var sources = new List<FileDescriptor>();
        try
        {
            var wanted = new List<(FileDescriptor Fd, int Target)> { (planFd, fds.Plan), (theirs, fds.Sync) };
            if (fds.ExecFifoSource is not null)
                wanted.Add((fds.ExecFifoSource, fds.ExecFifo));
            if (fds.ConsoleSource is not null)
                wanted.Add((fds.ConsoleSource, fds.Console));
            int above = fds.Next + 1;
            // Executed through its /proc/self/fd path after the dup2 actions: at a low number it could be
            // one of their targets (another thread's opens and closes decide which numbers are free).
            using var helper = Libc.DupAtLeast(helperCopy, above);
            var actions = new List<(int, int)>();
            foreach (var (fd, target) in wanted)
            {
                var high = Libc.DupAtLeast(fd, above);
                sources.Add(high);
                actions.Add((high.Fd, target));
            }
            int pid = Spawn.Start($"/proc/self/fd/{helper.Fd}", [HelperName, fds.Plan.ToString()], null, actions);
            return new Stage0(ours, pid);
        }
        catch
        {
            ours.Dispose();
            throw;
        }
        finally
        {
            theirs.Dispose();
            foreach (var fd in sources)
                fd.Dispose();
        }
    }

    /// <summary>
    /// Reads sync messages until the child is ready (create) or has exec'd (exec).
    /// <paramref name="onHooks"/> runs at OP_HOOKS; <paramref name="onSeccompListener"/> gets the child's pid
    /// and its seccomp notify fd (a filter with SCMP_ACT_NOTIFY) and must pass the fd on before returning.
    /// An exception from either aborts the child.
    /// </summary>
    public void RunProtocol(bool waitForReady, Action<int>? onHooks, Action<int, FileDescriptor>? onSeccompListener = null)
    {
        var buffer = new byte[SyncMessageSize];
        while (true)
        {
            int length = Skiff.Interop.Interop.Socket.ReceiveWithFd(_sync, buffer, out var passed, "skiff-init sync socket");
            using var passedFd = passed;
            if (length == 0)
            {
                ReapHelper();
                if (!waitForReady && ChildPid != 0)
                    return;
                throw new RuntimeException(ErrorKind.Internal, ChildPid == 0
                    ? "container setup failed: skiff-init exited before starting the container process"
                    : $"container setup failed: the container process exited during setup{DescribeChildExit()}");
            }
            var type = (SyncType)BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            int value = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(4));
            switch (type)
            {
                case SyncType.Pid:
                    ChildPid = value;
                    ChildPidfd = Pidfd.Open(value);
                    ReapHelper();
                    break;
                case SyncType.Hooks:
                    onHooks?.Invoke(ChildPid);
                    Send(SyncType.Continue);
                    break;
                case SyncType.SeccompListener:
                    if (passedFd is null || onSeccompListener is null)
                        throw new RuntimeException(ErrorKind.Internal, "skiff-init sent a seccomp listener fd that nobody expected: is bin/skiff-init from the same build?");
                    onSeccompListener(ChildPid, passedFd);
                    Send(SyncType.Continue);
                    break;
                case SyncType.Ready:
                    return;
                case SyncType.Error:
                    throw new RuntimeException(value == 0 ? ErrorKind.Internal : ErrorKinds.OfErrno(value), TextOf(buffer));
                default:
                    throw new RuntimeException(ErrorKind.Internal, $"skiff-init sent an unknown sync message {(uint)type}: is bin/skiff-init from the same build?");
            }
        }
    }

    /// <summary>Lets a create plan's skiff-init go on past OP_AWAIT_GO: the container's cgroups exist.</summary>
    public void Go() => Send(SyncType.Continue);

    /// <summary>Hands the container process's pidfd to the caller, who then owns it.</summary>
    public FileDescriptor TakeChildPidfd()
    {
        var pidfd = ChildPidfd ?? throw new InvalidOperationException("the container process has not been started");
        ChildPidfd = null;
        return pidfd;
    }

    /// <summary>Kills and reaps whatever the launch left running; used on every failure path.</summary>
    public void Abort()
    {
        // skiff-init may still wait for its go (or for any other answer): it would never exit by itself.
        if (!_helperReaped)
            Libc.Kill(_helperPid, 9);
        if (ChildPidfd is not null)
        {
            try
            {
                Pidfd.SendSignal(ChildPidfd, 9);
            }
            catch (SyscallException)
            {
            }
            Pidfd.WaitExit(ChildPidfd);
        }
        ReapHelper();
    }

    private string DescribeChildExit()
    {
        if (ChildPidfd is null)
            return "";
        int status = Pidfd.WaitExit(ChildPidfd, noHang: true);
        return status < 0 ? "" : status > 128 ? $" (killed by signal {status - 128})" : $" (exit status {status})";
    }

    private void ReapHelper()
    {
        if (_helperReaped)
            return;
        unsafe
        {
            int status;
            while (Libc.WaitPid(_helperPid, &status, 0) == -1 && Errno.Last == Errno.EINTR)
            {
            }
        }
        _helperReaped = true;
    }

    private unsafe void Send(SyncType type)
    {
        byte* message = stackalloc byte[SyncMessageSize];
        new Span<byte>(message, SyncMessageSize).Clear();
        *(uint*)message = (uint)type;
        if (Skiff.Interop.Interop.Socket.Send(_sync.Fd, message, SyncMessageSize, Skiff.Interop.Interop.Socket.MSG_NOSIGNAL) < 0)
            throw new SyscallException("send", "skiff-init sync socket", Errno.Last);
    }

    private static string TextOf(byte[] buffer)
    {
        var text = buffer.AsSpan(8);
        int end = text.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? text : text[..end]).Trim();
    }

    public void Dispose()
    {
        _sync.Dispose();
        ChildPidfd?.Dispose();
    }
}

/// <summary>fd numbers inside skiff-init, allocated right after the preserved fds.</summary>
public sealed class FdLayout
{
    public FdLayout(int preserveFds, FileDescriptor? execFifo, FileDescriptor? console)
    {
        int next = 3 + preserveFds;
        Plan = next++;
        Sync = next++;
        ExecFifoSource = execFifo;
        ExecFifo = execFifo is null ? -1 : next++;
        ConsoleSource = console;
        Console = console is null ? -1 : next++;
        Next = next;
    }

    public int Plan { get; }
    public int Sync { get; }
    public int ExecFifo { get; }
    public int Console { get; }
    public int Next { get; }
    public FileDescriptor? ExecFifoSource { get; }
    public FileDescriptor? ConsoleSource { get; }
}
