using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using static Skiff.Interop.Netlink.NetlinkConstants;

namespace Skiff.Interop.Netlink;

/// <summary>
/// Decodes rtnetlink replies. Each parser reads only what its record needs, skips attributes it does not know (newer
/// kernels add some), returns null for a message it does not describe (another family, a reply type it is not for),
/// and throws only <see cref="NetlinkFormatException"/> on bytes that do not parse.
/// </summary>
internal static class RtNetlinkReplies
{
    /// <summary>An RTM_NEWLINK reply: ifinfomsg (16 bytes: family, pad, type, index, flags, change), then attributes.</summary>
    public static LinkInfo? Link(in NetlinkMessage message)
    {
        if (message.Type != RTM_NEWLINK)
            return null;
        var payload = Fixed(message.Payload, 16, "ifinfomsg");
        int index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string? name = null, kind = null;
        PhysicalAddress? address = null;
        int mtu = 0;
        int? master = null;
        var attributes = new AttributeReader(payload[16..]);
        while (attributes.TryRead(out ushort type, out var value))
        {
            switch (type)
            {
                case IFLA_IFNAME:
                    name = AttributeReader.String(value);
                    break;
                case IFLA_ADDRESS:
                    address = new PhysicalAddress(value.ToArray());
                    break;
                case IFLA_MTU:
                    mtu = (int)AttributeReader.U32(value);
                    break;
                case IFLA_MASTER:
                    master = (int)AttributeReader.U32(value);
                    break;
                case IFLA_LINKINFO:
                    var info = new AttributeReader(value);
                    while (info.TryRead(out ushort infoType, out var infoValue))
                        if (infoType == IFLA_INFO_KIND)
                            kind = AttributeReader.String(infoValue);
                    break;
            }
        }
        return name is null
            ? throw new NetlinkFormatException($"link {index} without a name")
            : new LinkInfo(index, name, kind, address, mtu, master is 0 ? null : master, (flags & IFF_UP) != 0);
    }

    /// <summary>An RTM_NEWADDR reply: ifaddrmsg (8 bytes: family, prefix length, flags, scope, index), then attributes.</summary>
    public static AddressInfo? Address(in NetlinkMessage message)
    {
        if (message.Type != RTM_NEWADDR)
            return null;
        var payload = Fixed(message.Payload, 8, "ifaddrmsg");
        byte family = payload[0];
        if (family is not (AF_INET or AF_INET6))
            return null;
        int prefix = PrefixLength(family, payload[1]);
        ReadOnlySpan<byte> address = default, local = default;
        var attributes = new AttributeReader(payload[8..]);
        while (attributes.TryRead(out ushort type, out var value))
        {
            if (type == IFA_ADDRESS)
                address = value;
            else if (type == IFA_LOCAL)
                local = value;
        }
        // On a point-to-point IPv4 link IFA_ADDRESS is the peer's; IFA_LOCAL is always this host's own.
        var own = !local.IsEmpty ? local : address;
        if (own.IsEmpty)
            throw new NetlinkFormatException("an address reply without an address");
        return new AddressInfo(BinaryPrimitives.ReadInt32LittleEndian(payload[4..]), IpAddress(family, own), prefix);
    }

    /// <summary>An RTM_NEWROUTE reply: rtmsg (12 bytes: family, dst_len, src_len, tos, table, protocol, scope, type, flags), then attributes.</summary>
    public static RouteInfo? Route(in NetlinkMessage message)
    {
        if (message.Type != RTM_NEWROUTE)
            return null;
        var payload = Fixed(message.Payload, 12, "rtmsg");
        byte family = payload[0];
        if (family is not (AF_INET or AF_INET6))
            return null;
        int prefix = PrefixLength(family, payload[1]);
        int table = payload[4];
        byte routeType = payload[7];
        IPAddress? destination = null, gateway = null;
        int? outputLink = null;
        var attributes = new AttributeReader(payload[12..]);
        while (attributes.TryRead(out ushort type, out var value))
        {
            switch (type)
            {
                case RTA_DST:
                    destination = IpAddress(family, value);
                    break;
                case RTA_GATEWAY:
                    gateway = IpAddress(family, value);
                    break;
                case RTA_OIF:
                    outputLink = (int)AttributeReader.U32(value);
                    break;
                case RTA_TABLE:
                    // rtm_table is a byte; tables above 255 are only here
                    table = (int)AttributeReader.U32(value);
                    break;
            }
        }
        destination ??= family == AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        return new RouteInfo(Network(destination, prefix), gateway, outputLink, table, routeType);
    }

    /// <summary>
    /// An NLMSG_ERROR: the positive errno (0 for an ack) and the kernel's text. The request header follows the error
    /// code, alone when NLM_F_CAPPED says the request was not echoed; extended-ack attributes come after it.
    /// </summary>
    public static (int Errno, string? KernelMessage) Error(in NetlinkMessage message)
    {
        var payload = Fixed(message.Payload, 4 + NetlinkMessageBuilder.HeaderLength, "nlmsgerr");
        int errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (errno < 0)
            throw new NetlinkFormatException($"an error code of {-errno}");
        if (errno == 0 || (message.Flags & NLM_F_ACK_TLVS) == 0)
            return (errno, null);
        uint echoed = (message.Flags & NLM_F_CAPPED) != 0 ? NetlinkMessageBuilder.HeaderLength : BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        if (echoed < NetlinkMessageBuilder.HeaderLength || echoed > payload.Length - 4)
            throw new NetlinkFormatException("an error reply shorter than the request it echoes");
        int attributesStart = Math.Min(4 + NetlinkConstants.Align((int)echoed), payload.Length);
        var attributes = new AttributeReader(payload[attributesStart..]);
        while (attributes.TryRead(out ushort type, out var value))
            if (type == NLMSGERR_ATTR_MSG)
                return (errno, AttributeReader.String(value));
        return (errno, null);
    }

    private static ReadOnlySpan<byte> Fixed(ReadOnlySpan<byte> payload, int length, string what)
        => payload.Length >= length ? payload : throw new NetlinkFormatException($"a {what} of {payload.Length} bytes, fewer than {length}");

    private static int PrefixLength(byte family, byte prefix)
        => prefix <= (family == AF_INET ? 32 : 128) ? prefix : throw new NetlinkFormatException($"a prefix length of {prefix}");

    private static IPAddress IpAddress(byte family, ReadOnlySpan<byte> value)
        => value.Length == (family == AF_INET ? 4 : 16) ? new IPAddress(value) : throw new NetlinkFormatException($"an address of {value.Length} bytes in family {family}");

    /// <summary>An <see cref="IPNetwork"/>, whose constructor refuses host bits, with any the reply carried cleared.</summary>
    private static IPNetwork Network(IPAddress address, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        bytes = bytes[..length];
        for (int bit = prefix; bit < length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPNetwork(new IPAddress(bytes), prefix);
    }
}
