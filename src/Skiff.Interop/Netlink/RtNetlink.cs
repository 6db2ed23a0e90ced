using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using AddressFamily = System.Net.Sockets.AddressFamily;
using static Skiff.Interop.Interop;
using static Skiff.Interop.Netlink.NetlinkConstants;

namespace Skiff.Interop.Netlink;

/// <summary>A network interface as RTM_GETLINK reports it. <see cref="Kind"/> is the driver ("bridge", "veth"), null for a physical one.</summary>
public sealed record LinkInfo(int Index, string Name, string? Kind, PhysicalAddress? Address, int Mtu, int? MasterIndex, bool IsUp);

public sealed record AddressInfo(int LinkIndex, IPAddress Address, int PrefixLength);

/// <summary>A route of any table (<see cref="Table"/> 254 is main, 255 local); <see cref="Type"/> is rtm_type (1 unicast, 2 local, ...).</summary>
public sealed record RouteInfo(IPNetwork Destination, IPAddress? Gateway, int? OutputLinkIndex, int Table, byte Type);

/// <summary>
/// One NETLINK_ROUTE socket, bound to the network namespace it was made in (a socket keeps its namespace whatever
/// thread uses it later). Every request is synchronous: sent with NLM_F_ACK and read until its ack, or until
/// NLMSG_DONE for a dump; replies are matched by sequence number, so the rest of a dump abandoned by an exception is
/// skipped by the next request. Calls from several threads take turns.
/// </summary>
public sealed class RtNetlink : IDisposable
{
    // A datagram may exceed any fixed size (a dump packs up to 32 KiB, a link with many VFs one message of more), so
    // each is peeked at for its size first; this bounds what an answer may make us allocate.
    private const int MaxDatagram = 16 << 20;
    private readonly FileDescriptor _socket;
    private readonly Lock _lock = new();
    private byte[] _receive = new byte[32 * 1024];
    private uint _sequence;

    private RtNetlink(FileDescriptor socket) => _socket = socket;

    /// <summary>A socket in the calling thread's network namespace.</summary>
    public static RtNetlink Open() => new(Socket.OpenNetlink(NETLINK_ROUTE, TimeSpan.FromSeconds(30)));

    /// <summary>A socket in <paramref name="ns"/>, usable from any thread afterwards.</summary>
    public static RtNetlink OpenIn(NetworkNamespace ns) => ns.Run(Open);

    /// <summary>Closes the socket; under the lock, so that a request under way never finds its descriptor reused.</summary>
    public void Dispose()
    {
        lock (_lock)
            _socket.Dispose();
    }

    // ---- links ----

    /// <summary>Creates a bridge (down) and returns its ifindex.</summary>
    public int CreateBridge(string name, int? mtu = null, PhysicalAddress? mac = null)
    {
        var request = LinkRequest(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
        if (mtu is { } m)
            request.Attribute(IFLA_MTU, (uint)m);
        if (mac is not null)
            request.Attribute(IFLA_ADDRESS, mac.GetAddressBytes());
        int linkInfo = request.BeginNested(IFLA_LINKINFO);
        request.Attribute(IFLA_INFO_KIND, "bridge");
        request.EndNested(linkInfo);
        Execute(request, name);
        return RequireIndex(name, RTM_NEWLINK);
    }

    /// <summary>
    /// Creates a veth pair: <paramref name="name"/> here, <paramref name="peerName"/> made directly in
    /// <paramref name="peerNamespace"/> (IFLA_NET_NS_FD in the peer's own attributes), so it never appears in this one.
    /// With <paramref name="masterIndex"/> this end is enslaved to that bridge, and with <paramref name="up"/> it is up,
    /// in the same request (the kernel applies IFLA_MASTER and the ifinfomsg's flags as it creates the link): two
    /// requests fewer than setting them afterwards. The peer is down whatever is asked: the kernel would configure it
    /// before the pair is joined, and a veth without its peer refuses to go up (ENOTCONN).
    /// Each end is made with one transmit and one receive queue, the number a veth uses unless told otherwise: without
    /// them in the request the kernel allocates one queue per CPU and then cuts each end down to one, and a cut waits
    /// for an expedited RCU grace period (synchronize_net in netif_set_real_num_tx_queues) under the rtnl lock,
    /// twice per pair: 11-14 ms per pair against 0.4-0.5 ms with them, on this project's 2-core VM under load.
    /// </summary>
    public void CreateVethPair(string name, string peerName, NetworkNamespace? peerNamespace = null, int? mtu = null, PhysicalAddress? peerMac = null,
        int? masterIndex = null, bool up = false)
    {
        uint flags = up ? IFF_UP : 0;
        var request = LinkRequest(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name, flags, flags);
        if (mtu is { } m)
            request.Attribute(IFLA_MTU, (uint)m);
        OneQueueEach(request);
        if (masterIndex is { } master)
            request.Attribute(IFLA_MASTER, (uint)master);
        int linkInfo = request.BeginNested(IFLA_LINKINFO);
        request.Attribute(IFLA_INFO_KIND, "veth");
        int data = request.BeginNested(IFLA_INFO_DATA);
        int peer = request.BeginNested(VETH_INFO_PEER);
        request.Append(IfInfoMessage(0, 0, 0));
        request.Attribute(IFLA_IFNAME, peerName);
        OneQueueEach(request);
        if (mtu is { } peerMtu)
            request.Attribute(IFLA_MTU, (uint)peerMtu);
        if (peerMac is not null)
            request.Attribute(IFLA_ADDRESS, peerMac.GetAddressBytes());
        bool added = false;
        try
        {
            if (peerNamespace is not null)
            {
                peerNamespace.Handle.DangerousAddRef(ref added);
                request.Attribute(IFLA_NET_NS_FD, (uint)peerNamespace.Handle.Fd);
            }
            request.EndNested(peer);
            request.EndNested(data);
            request.EndNested(linkInfo);
            Execute(request, $"{name} (peer {peerName})");
        }
        finally
        {
            if (added)
                peerNamespace!.Handle.DangerousRelease();
        }
    }

    private static void OneQueueEach(NetlinkMessageBuilder request)
    {
        request.Attribute(IFLA_NUM_TX_QUEUES, 1u);
        request.Attribute(IFLA_NUM_RX_QUEUES, 1u);
    }

    public void SetLinkUp(string name) => SetFlags(name, IFF_UP);

    public void SetLinkDown(string name) => SetFlags(name, 0);

    /// <summary>Enslaves <paramref name="link"/> to the bridge <paramref name="master"/>.</summary>
    public void SetMaster(string link, string master)
    {
        int masterIndex = RequireIndex(master, RTM_SETLINK);
        var request = LinkRequest(RTM_SETLINK, 0, link);
        request.Attribute(IFLA_MASTER, (uint)masterIndex);
        Execute(request, $"{link} master {master}");
    }

    public void SetMtu(string link, int mtu)
    {
        var request = LinkRequest(RTM_SETLINK, 0, link);
        request.Attribute(IFLA_MTU, (uint)mtu);
        Execute(request, link);
    }

    public void SetMacAddress(string link, PhysicalAddress mac)
    {
        var request = LinkRequest(RTM_SETLINK, 0, link);
        request.Attribute(IFLA_ADDRESS, mac.GetAddressBytes());
        Execute(request, link);
    }

    /// <summary>Renames a link; by index, since a name in the request is the new one.</summary>
    public void RenameLink(string name, string newName)
    {
        int index = RequireIndex(name, RTM_SETLINK);
        var request = Request(RTM_SETLINK, 0);
        request.Append(IfInfoMessage(index, 0, 0));
        request.Attribute(IFLA_IFNAME, newName);
        Execute(request, $"{name} to {newName}");
    }

    public void MoveToNamespace(string link, NetworkNamespace ns)
    {
        bool added = false;
        ns.Handle.DangerousAddRef(ref added);
        try
        {
            var request = LinkRequest(RTM_SETLINK, 0, link);
            request.Attribute(IFLA_NET_NS_FD, (uint)ns.Handle.Fd);
            Execute(request, $"{link} to {ns.Path}");
        }
        finally
        {
            if (added)
                ns.Handle.DangerousRelease();
        }
    }

    /// <summary>Deletes a link (a veth takes its peer with it); false when there is none of that name.</summary>
    public bool DeleteLink(string name)
    {
        try
        {
            Execute(LinkRequest(RTM_DELLINK, 0, name), name);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return false;
        }
    }

    public LinkInfo? GetLink(string name)
    {
        var request = LinkRequest(RTM_GETLINK, 0, name);
        request.Attribute(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        try
        {
            return Collect(request, name, RtNetlinkReplies.Link).SingleOrDefault();
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    public IReadOnlyList<LinkInfo> ListLinks()
    {
        var request = Request(RTM_GETLINK, NLM_F_DUMP);
        request.Append(IfInfoMessage(0, 0, 0));
        request.Attribute(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        return Collect(request, null, RtNetlinkReplies.Link);
    }

    // ---- addresses ----

    /// <summary>
    /// Adds an address: IPv4 with its broadcast address, as `ip addr add ... brd +`; IPv6 with IFA_F_NODAD, usable at
    /// once instead of after duplicate address detection (a container's address is Skiff's to hand out, not discovered).
    /// </summary>
    public void AddAddress(string link, IPAddress address, int prefixLength)
        => AddAddress(RequireLink(link, RTM_NEWADDR), address, prefixLength);

    /// <summary>As <see cref="AddAddress(string, IPAddress, int)"/> on a link already looked up: no request for its index.</summary>
    public void AddAddress(LinkInfo link, IPAddress address, int prefixLength)
        => Execute(AddressRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, link.Index, address, prefixLength), $"{address}/{prefixLength} on {link.Name}");

    public void DeleteAddress(string link, IPAddress address, int prefixLength)
        => Execute(AddressRequest(RTM_DELADDR, 0, RequireIndex(link, RTM_DELADDR), address, prefixLength), $"{address}/{prefixLength} on {link}");

    public IReadOnlyList<AddressInfo> ListAddresses(AddressFamily? family = null)
    {
        var request = Request(RTM_GETADDR, NLM_F_DUMP);
        request.Append([FamilyByte(family), 0, 0, 0, 0, 0, 0, 0]);
        return Collect(request, null, RtNetlinkReplies.Address);
    }

    // ---- routes ----

    /// <summary>Adds a route to the main table: via <paramref name="gateway"/>, or on-link through <paramref name="link"/> alone; 0.0.0.0/0 or ::/0 is a default route.</summary>
    public void AddRoute(IPNetwork destination, IPAddress? gateway, string? link)
        => Execute(RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, destination, gateway, link is null ? null : RequireIndex(link, RTM_NEWROUTE)), RouteTarget(destination, gateway, link));

    /// <summary>As <see cref="AddRoute(IPNetwork, IPAddress?, string?)"/> through a link already looked up: no request for its index.</summary>
    public void AddRoute(IPNetwork destination, IPAddress? gateway, LinkInfo link)
        => Execute(RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, destination, gateway, link.Index), RouteTarget(destination, gateway, link.Name));

    public void DeleteRoute(IPNetwork destination, IPAddress? gateway, string? link)
        => Execute(RouteRequest(RTM_DELROUTE, 0, destination, gateway, link is null ? null : RequireIndex(link, RTM_DELROUTE)), RouteTarget(destination, gateway, link));

    /// <summary>Every route of <paramref name="family"/>, of every table.</summary>
    public IReadOnlyList<RouteInfo> ListRoutes(AddressFamily family)
    {
        var request = Request(RTM_GETROUTE, NLM_F_DUMP);
        request.Append(new byte[12] { FamilyByte(family), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
        return Collect(request, null, RtNetlinkReplies.Route);
    }

    // ---- request building ----

    /// <summary>struct ifinfomsg: family, pad, type (2), index (4), flags (4), change mask (4).</summary>
    private static byte[] IfInfoMessage(int index, uint flags, uint change)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), index);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), change);
        return bytes;
    }

    /// <summary>Every request asks for an ack, so a success is confirmed rather than assumed from silence.</summary>
    private static NetlinkMessageBuilder Request(ushort type, ushort flags)
        => new(type, (ushort)(NLM_F_REQUEST | NLM_F_ACK | flags));

    /// <summary>A link request naming its link by IFLA_IFNAME, which the kernel looks up when the index is 0.</summary>
    private static NetlinkMessageBuilder LinkRequest(ushort type, ushort flags, string name, uint ifFlags = 0, uint change = 0)
    {
        var request = Request(type, flags);
        request.Append(IfInfoMessage(0, ifFlags, change));
        request.Attribute(IFLA_IFNAME, name);
        return request;
    }

    private void SetFlags(string name, uint flags) => Execute(LinkRequest(RTM_SETLINK, 0, name, flags, IFF_UP), name);

    private static NetlinkMessageBuilder AddressRequest(ushort type, ushort flags, int index, IPAddress address, int prefixLength)
    {
        byte family = FamilyByte(address.AddressFamily);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, family == AF_INET ? 32 : 128);
        var request = Request(type, flags);
        // struct ifaddrmsg: family, prefix length, flags, scope, index (4)
        var header = new byte[8] { family, (byte)prefixLength, family == AF_INET6 ? IFA_F_NODAD : (byte)0, RT_SCOPE_UNIVERSE, 0, 0, 0, 0 };
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), index);
        request.Append(header);
        var bytes = address.GetAddressBytes();
        request.Attribute(IFA_ADDRESS, bytes);
        if (family == AF_INET)
        {
            request.Attribute(IFA_LOCAL, bytes);
            if (prefixLength <= 30)
            {
                uint host = prefixLength == 0 ? uint.MaxValue : uint.MaxValue >> prefixLength;
                uint broadcast = BinaryPrimitives.ReadUInt32BigEndian(bytes) | host;
                var broadcastBytes = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(broadcastBytes, broadcast);
                request.Attribute(IFA_BROADCAST, broadcastBytes);
            }
        }
        else
        {
            request.Attribute(IFA_FLAGS, (uint)IFA_F_NODAD);
        }
        return request;
    }

    private static NetlinkMessageBuilder RouteRequest(ushort type, ushort flags, IPNetwork destination, IPAddress? gateway, int? index)
    {
        byte family = FamilyByte(destination.BaseAddress.AddressFamily);
        if (gateway is not null && gateway.AddressFamily != destination.BaseAddress.AddressFamily)
            throw new ArgumentException($"The gateway {gateway} is not of the family of {destination}.", nameof(gateway));
        // As `ip route`: deletion matches any scope; an added route without a gateway is on-link.
        byte scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : gateway is null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        var request = Request(type, flags);
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (4)
        request.Append(new byte[12]
        {
            family, (byte)destination.PrefixLength, 0, 0, RT_TABLE_MAIN,
            type == RTM_DELROUTE ? (byte)0 : RTPROT_BOOT, scope, type == RTM_DELROUTE ? (byte)0 : RTN_UNICAST, 0, 0, 0, 0,
        });
        if (destination.PrefixLength > 0)
            request.Attribute(RTA_DST, destination.BaseAddress.GetAddressBytes());
        if (gateway is not null)
            request.Attribute(RTA_GATEWAY, gateway.GetAddressBytes());
        if (index is { } oif)
            request.Attribute(RTA_OIF, (uint)oif);
        return request;
    }

    private static string RouteTarget(IPNetwork destination, IPAddress? gateway, string? link)
        => $"{destination}{(gateway is null ? "" : $" via {gateway}")}{(link is null ? "" : $" dev {link}")}";

    private static byte FamilyByte(AddressFamily? family) => family switch
    {
        null => AF_UNSPEC,
        AddressFamily.InterNetwork => AF_INET,
        AddressFamily.InterNetworkV6 => AF_INET6,
        _ => throw new ArgumentException($"Address family {family} is neither IPv4 nor IPv6.", nameof(family)),
    };

    /// <summary>The index of <paramref name="name"/>, or a NotFound error naming <paramref name="type"/>, the request that needed it.</summary>
    private int RequireIndex(string name, ushort type) => RequireLink(name, type).Index;

    private LinkInfo RequireLink(string name, ushort type)
        => GetLink(name) ?? throw new NetlinkException(RequestName(type), name, Errno.ENODEV);

    // ---- the exchange ----

    private delegate T ReplyParser<T>(in NetlinkMessage message);

    private void Execute(NetlinkMessageBuilder request, string target)
        => Exchange<object>(request, target, parse: null, replies: null);

    /// <summary>A get or a dump: the replies, parsed. A dump the kernel marks inconsistent (a link came or went meanwhile) is asked again.</summary>
    private List<T> Collect<T>(NetlinkMessageBuilder request, string? target, ReplyParser<T?> parse) where T : class
    {
        var replies = new List<T>();
        for (int attempt = 0; ; attempt++)
        {
            replies.Clear();
            bool interrupted = Exchange(request, target, parse, replies);
            if (!interrupted || attempt == 4)
                return replies;
        }
    }

    /// <summary>Sends <paramref name="request"/> and reads up to its ack or NLMSG_DONE; true when a dump came back marked interrupted.</summary>
    private bool Exchange<T>(NetlinkMessageBuilder request, string? target, ReplyParser<T?>? parse, List<T>? replies) where T : class
    {
        string name = RequestName(request.Type);
        lock (_lock)
        {
            uint sequence = ++_sequence;
            var bytes = request.Finish(sequence);
            unsafe
            {
                fixed (byte* start = bytes)
                {
                    while (Socket.Send(_socket.Fd, start, bytes.Length, 0) < 0)
                        if (Errno.Last != Errno.EINTR)
                            throw new NetlinkException(name, target, Errno.Last);
                }
            }
            bool dump = (BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) & NLM_F_DUMP) == NLM_F_DUMP;
            bool interrupted = false;
            while (true)
            {
                var reader = new NetlinkMessageReader(Receive(name, target));
                while (reader.TryRead(out var message))
                {
                    if (message.Sequence != sequence)
                        continue;
                    interrupted |= (message.Flags & NLM_F_DUMP_INTR) != 0;
                    switch (message.Type)
                    {
                        case NLMSG_ERROR:
                            var (errno, kernelMessage) = RtNetlinkReplies.Error(message);
                            if (errno != 0)
                                throw new NetlinkException(name, target, errno, kernelMessage);
                            if (!dump)
                                return interrupted;
                            break;
                        case NLMSG_DONE:
                            // A dump that failed part way says so in an int after the header.
                            if (message.Payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(message.Payload) is < 0 and var error)
                                throw new NetlinkException(name, target, -error);
                            return interrupted;
                        case NLMSG_NOOP:
                            break;
                        default:
                            if (parse?.Invoke(message) is { } reply)
                                replies!.Add(reply);
                            break;
                    }
                }
            }
        }
    }

    private unsafe ReadOnlySpan<byte> Receive(string name, string? target)
    {
        while (true)
        {
            nint length;
            fixed (byte* start = _receive)
                length = Socket.Receive(_socket.Fd, start, _receive.Length, Socket.MSG_PEEK | Socket.MSG_TRUNC);
            if (length < 0)
            {
                if (Errno.Last == Errno.EINTR)
                    continue;
                throw new NetlinkException(name, target, Errno.Last);
            }
            if (length > _receive.Length)
            {
                if (length > MaxDatagram)
                {
                    // Read (and so drop) it truncated, or every later request would peek at it again.
                    fixed (byte* start = _receive)
                        Socket.Receive(_socket.Fd, start, _receive.Length, 0);
                    throw new NetlinkFormatException($"a datagram of {length} bytes");
                }
                _receive = new byte[NetlinkConstants.Align((int)length)];
            }
            fixed (byte* start = _receive)
                length = Socket.Receive(_socket.Fd, start, _receive.Length, 0);
            if (length < 0)
            {
                if (Errno.Last == Errno.EINTR)
                    continue;
                throw new NetlinkException(name, target, Errno.Last);
            }
            return _receive.AsSpan(0, (int)length);
        }
    }
}
