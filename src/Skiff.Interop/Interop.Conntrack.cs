using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>
    /// libnetfilter_conntrack (Debian's libnetfilter-conntrack3, which iptables and nftables' tools depend on): ctnetlink
    /// dumps and deletes without a hand-written netlink codec. Used through <see cref="Conntrack"/>.
    /// </summary>
    public static partial class NetfilterConntrack
    {
        public const string Lib = "libnetfilter_conntrack.so.3";

        public const byte CONNTRACK = 1; // NFNL_SUBSYS_CTNETLINK

        // enum nf_conntrack_query
        public const int NFCT_Q_DESTROY = 2;
        public const int NFCT_Q_DUMP = 5;

        public const int NFCT_T_ALL = 1 | 2 | 4; // NEW | UPDATE | DESTROY
        public const int NFCT_CB_CONTINUE = 1;

        // enum nf_conntrack_attr
        public const int ATTR_REPL_IPV4_SRC = 2;
        public const int ATTR_REPL_IPV6_SRC = 6;
        public const int ATTR_ORIG_PORT_DST = 9;
        public const int ATTR_REPL_PORT_SRC = 10;
        public const int ATTR_ORIG_L3PROTO = 15;
        public const int ATTR_ORIG_L4PROTO = 17;

        [LibraryImport(Lib, EntryPoint = "nfct_open", SetLastError = true)]
        public static partial ConntrackHandle Open(byte subsystem, uint subscriptions);

        [LibraryImport(Lib, EntryPoint = "nfct_close")]
        public static partial int Close(nint handle);

        [LibraryImport(Lib, EntryPoint = "nfct_callback_register", SetLastError = true)]
        public static partial int CallbackRegister(ConntrackHandle handle, int type, delegate* unmanaged<int, nint, nint, int> callback, nint data);

        [LibraryImport(Lib, EntryPoint = "nfct_query", SetLastError = true)]
        public static partial int Query(ConntrackHandle handle, int query, void* data);

        [LibraryImport(Lib, EntryPoint = "nfct_query", SetLastError = true)]
        public static partial int Query(nint handle, int query, nint data);

        [LibraryImport(Lib, EntryPoint = "nfct_get_attr")]
        public static partial byte* GetAttr(nint ct, int attribute);

        [LibraryImport(Lib, EntryPoint = "nfct_get_attr_u8")]
        public static partial byte GetAttrU8(nint ct, int attribute);

        [LibraryImport(Lib, EntryPoint = "nfct_get_attr_u16")]
        public static partial ushort GetAttrU16(nint ct, int attribute);

        [LibraryImport(Lib, EntryPoint = "nfct_attr_is_set")]
        public static partial int AttrIsSet(nint ct, int attribute);
    }
}

/// <summary>An owned libnetfilter_conntrack handle (struct nfct_handle *), closed with nfct_close.</summary>
public sealed class ConntrackHandle : SafeHandle
{
    public ConntrackHandle() : base(invalidHandleValue: 0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => Interop.NetfilterConntrack.Close(handle) == 0;
}
