using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using static Skiff.Interop.Interop.NetfilterConntrack;

namespace Skiff.Interop;

/// <summary>A published port as conntrack records it after DNAT: the original destination port, and the container's address and port answering.</summary>
/// <param name="Protocol">The IP protocol number (6 tcp, 17 udp, 132 sctp).</param>
public readonly record struct DnatTarget(byte Protocol, int HostPort, IPAddress ContainerIp, int ContainerPort);

/// <summary>The kernel's connection tracking table, in the calling thread's network namespace.</summary>
public static unsafe class Conntrack
{
    /// <summary>
    /// Deletes every tracked connection DNAT'd to one of <paramref name="targets"/>, so that an unpublished port stops
    /// reaching its container at once (an established flow, or a UDP "connection" that would otherwise live on while
    /// packets keep coming). Returns how many were deleted.
    /// </summary>
    public static int DeleteDnatTo(IReadOnlyCollection<DnatTarget> targets)
    {
        if (targets.Count == 0)
            return 0;
        if (!NativeLibraries.IsPresent(Lib))
            throw new SyscallException("dlopen", Lib, Errno.ENOENT, "conntrack: install Debian's libnetfilter-conntrack3");
        using var dump = Open("dump");
        using var destroy = Open("delete");
        var state = new DumpState(targets, destroy.DangerousGetHandle());
        var gc = GCHandle.Alloc(state);
        try
        {
            if (CallbackRegister(dump, NFCT_T_ALL, &OnEntry, GCHandle.ToIntPtr(gc)) < 0)
                throw new SyscallException("nfct_callback_register", null, Marshal.GetLastPInvokeError());
            // AF_UNSPEC: both families in one dump, since each dump walks every bucket of the kernel's hash table
            // (net.netfilter.nf_conntrack_buckets), however few entries there are.
            uint family = 0;
            if (Query(dump, NFCT_Q_DUMP, &family) < 0)
                throw new SyscallException("nfct_query", "conntrack dump", Marshal.GetLastPInvokeError());
            if (state.Error is { } error)
                throw error;
            return state.Deleted;
        }
        finally
        {
            gc.Free();
        }
    }

    private static ConntrackHandle Open(string what)
    {
        var handle = Interop.NetfilterConntrack.Open(CONNTRACK, 0);
        if (handle.IsInvalid)
            throw new SyscallException("nfct_open", $"ctnetlink ({what})", Marshal.GetLastPInvokeError());
        return handle;
    }

    private sealed class DumpState(IReadOnlyCollection<DnatTarget> targets, nint destroy)
    {
        public IReadOnlyCollection<DnatTarget> Targets { get; } = targets;
        public nint Destroy { get; } = destroy;
        public int Deleted { get; set; }
        public Exception? Error { get; set; }
    }

    [UnmanagedCallersOnly]
    private static int OnEntry(int type, nint ct, nint data)
    {
        var state = (DumpState)GCHandle.FromIntPtr(data).Target!;
        try
        {
            var entry = Read(ct);
            // A second handle: libnetfilter_conntrack cannot send a request on the handle whose dump it is reading.
            if (entry is { } e && state.Targets.Contains(e) && Query(state.Destroy, NFCT_Q_DESTROY, ct) == 0)
                state.Deleted++;
        }
        catch (Exception e)
        {
            state.Error ??= e;
        }
        return NFCT_CB_CONTINUE;
    }

    private static DnatTarget? Read(nint ct)
    {
        IPAddress address;
        switch (GetAttrU8(ct, ATTR_ORIG_L3PROTO))
        {
            case 2 when AttrIsSet(ct, ATTR_REPL_IPV4_SRC) != 0:
                address = new IPAddress(new ReadOnlySpan<byte>(GetAttr(ct, ATTR_REPL_IPV4_SRC), 4));
                break;
            case 10 when AttrIsSet(ct, ATTR_REPL_IPV6_SRC) != 0:
                address = new IPAddress(new ReadOnlySpan<byte>(GetAttr(ct, ATTR_REPL_IPV6_SRC), 16));
                break;
            default:
                return null;
        }
        if (AttrIsSet(ct, ATTR_ORIG_PORT_DST) == 0 || AttrIsSet(ct, ATTR_REPL_PORT_SRC) == 0)
            return null;
        // Ports come in network byte order.
        return new DnatTarget(GetAttrU8(ct, ATTR_ORIG_L4PROTO),
            BinaryPrimitives.ReverseEndianness(GetAttrU16(ct, ATTR_ORIG_PORT_DST)), address,
            BinaryPrimitives.ReverseEndianness(GetAttrU16(ct, ATTR_REPL_PORT_SRC)));
    }
}
