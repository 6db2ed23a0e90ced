using System.Net;
using System.Net.NetworkInformation;
using Skiff.Interop.Netlink;
using static Skiff.Interop.Netlink.NetlinkConstants;

namespace Skiff.Interop.Tests;

public sealed class NetlinkWireTests
{
    [Fact]
    public void EncodesABridgeCreationAsTheKernelExpectsIt()
    {
        var request = new NetlinkMessageBuilder(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        request.Append(new byte[16]);
        request.Attribute(IFLA_IFNAME, "sknlcap1");
        int linkInfo = request.BeginNested(IFLA_LINKINFO);
        request.Attribute(IFLA_INFO_KIND, "bridge");
        request.EndNested(linkInfo);

        Assert.Equal(
            "40000000" + "1000" + "0506" + "05000000" + "00000000"   // nlmsghdr: 64 bytes, RTM_NEWLINK, flags, sequence 5, port 0
            + "00000000000000000000000000000000"                      // ifinfomsg
            + "0d000300" + "736b6e6c6361703100" + "000000"            // IFLA_IFNAME "sknlcap1\0", 13 bytes padded to 16
            + "10001280"                                              // IFLA_LINKINFO | NLA_F_NESTED, 16 bytes
            + "0b000100" + "62726964676500" + "00",                   // IFLA_INFO_KIND "bridge\0", 11 bytes padded to 12
            Convert.ToHexStringLower(request.Finish(5)));
    }

    [Fact]
    public void ClosesNestedAttributesWithTheirWholeLength()
    {
        var request = new NetlinkMessageBuilder(RTM_NEWLINK, NLM_F_REQUEST);
        int outer = request.BeginNested(IFLA_LINKINFO);
        int inner = request.BeginNested(IFLA_INFO_DATA);
        request.Attribute(IFLA_MTU, 1400u);
        request.EndNested(inner);
        request.Attribute(IFLA_INFO_KIND, "veth");
        request.EndNested(outer);
        var message = Single(request.Finish(1));

        var top = new AttributeReader(message.Payload);
        Assert.True(top.TryRead(out ushort type, out var linkInfo));
        Assert.Equal(IFLA_LINKINFO, type);
        Assert.False(top.TryRead(out _, out _));
        var members = new AttributeReader(linkInfo);
        Assert.True(members.TryRead(out type, out var data));
        Assert.Equal(IFLA_INFO_DATA, type);
        var mtu = new AttributeReader(data);
        Assert.True(mtu.TryRead(out type, out var value));
        Assert.Equal((IFLA_MTU, 1400u), (type, AttributeReader.U32(value)));
        Assert.True(members.TryRead(out type, out value));
        Assert.Equal((IFLA_INFO_KIND, "veth"), (type, AttributeReader.String(value)));
        Assert.False(members.TryRead(out _, out _));
    }

    [Fact]
    public void DecodesACapturedLink()
    {
        var reader = new NetlinkMessageReader(NetlinkCaptures.Link);
        Assert.True(reader.TryRead(out var message));
        Assert.Equal(new LinkInfo(3, "sknlcap1", "veth", PhysicalAddress.Parse("02-00-00-00-00-01"), 1400, null, IsUp: true), RtNetlinkReplies.Link(message));
        Assert.True(reader.TryRead(out var ack));
        Assert.Equal(NLMSG_ERROR, ack.Type);
        Assert.Equal((0, (string?)null), RtNetlinkReplies.Error(ack));
        Assert.Null(RtNetlinkReplies.Link(ack));
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void DecodesCapturedAddressDumps()
    {
        Assert.Equal([new AddressInfo(3, IPAddress.Parse("10.231.1.5"), 24)], Decode(NetlinkCaptures.Ipv4Addresses, RtNetlinkReplies.Address));
        var v6 = Decode(NetlinkCaptures.Ipv6Addresses, RtNetlinkReplies.Address);
        Assert.Equal(3, v6.Count);
        Assert.Contains(new AddressInfo(3, IPAddress.Parse("fd31:1::5"), 64), v6);
        Assert.All(v6.Where(a => !a.Address.Equals(IPAddress.Parse("fd31:1::5"))), a => Assert.True(a.Address.IsIPv6LinkLocal));
    }

    [Fact]
    public void DecodesACapturedRouteDump()
    {
        var routes = Decode(NetlinkCaptures.Ipv4Routes, RtNetlinkReplies.Route);
        Assert.Equal(
        [
            new RouteInfo(IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("10.231.1.1"), 3, 254, 1),
            new RouteInfo(IPNetwork.Parse("10.231.1.0/24"), null, 3, 254, 1),
            new RouteInfo(IPNetwork.Parse("10.231.1.5/32"), null, 3, 255, 2),
            new RouteInfo(IPNetwork.Parse("10.231.1.255/32"), null, 3, 255, 3),
        ], routes);
    }

    [Fact]
    public void ReadsTheKernelsTextFromAnExtendedAck()
    {
        Assert.Equal((34, "Attribute failed policy validation"), RtNetlinkReplies.Error(Single(NetlinkCaptures.ErrorWithText)));
        Assert.Equal((Errno.EEXIST, (string?)null), RtNetlinkReplies.Error(Single(NetlinkCaptures.Exists)));
    }

    [Fact]
    public void ErrorsNameTheRequestAndTheObjectAndTakeTheirKindFromTheErrno()
    {
        var exists = new NetlinkException("RTM_NEWLINK", "skiff0", Errno.EEXIST);
        Assert.Equal("RTM_NEWLINK skiff0: File exists", exists.Message);
        Assert.Equal(ErrorKind.AlreadyExists, exists.Kind);
        Assert.Equal(ErrorKind.NotFound, new NetlinkException("RTM_SETLINK", "x", Errno.ENODEV).Kind);
        Assert.Equal(ErrorKind.PermissionDenied, new NetlinkException("RTM_SETLINK", "x", Errno.EPERM).Kind);
        var invalid = new NetlinkException("RTM_NEWLINK", "x", Errno.EINVAL, "Unknown device type");
        Assert.Equal((ErrorKind.InvalidArgument, "RTM_NEWLINK x: Invalid argument (Unknown device type)"), (invalid.Kind, invalid.Message));
    }

    [Theory]
    [InlineData("0f000000", "fewer than a header")]                                     // 4 bytes: no room for a header
    [InlineData("20000000100000000100000000000000", "a message length of 32")]           // length past the end
    [InlineData("0c000000100000000100000000000000", "a message length of 12")]           // length shorter than the header
    public void RefusesMessagesWhoseLengthsDoNotFit(string hex, string detail)
    {
        var error = Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new NetlinkMessageReader(Convert.FromHexString(hex));
            while (reader.TryRead(out _)) { }
        });
        Assert.Contains(detail, error.Message);
        Assert.Equal(ErrorKind.Internal, error.Kind);
    }

    [Theory]
    [InlineData("02000300")]          // shorter than its own header
    [InlineData("0c000300abcd0000")]  // longer than what is left
    public void RefusesAttributesWhoseLengthsDoNotFit(string hex)
        => Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new AttributeReader(Convert.FromHexString(hex));
            while (reader.TryRead(out _, out _)) { }
        });

    [Fact]
    public void RefusesAddressesOfTheWrongSize()
    {
        // an RTM_NEWADDR of AF_INET whose IFA_ADDRESS has 3 bytes
        var request = new NetlinkMessageBuilder(RTM_NEWADDR, 0);
        request.Append([AF_INET, 24, 0, 0, 3, 0, 0, 0]);
        request.Attribute(IFA_ADDRESS, [10, 231, 1]);
        var bytes = request.Finish(1).ToArray();
        Assert.Throws<NetlinkFormatException>(() => RtNetlinkReplies.Address(Single(bytes)));
    }

    private static NetlinkMessage Single(ReadOnlySpan<byte> datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var message));
        Assert.False(reader.TryRead(out _));
        return message;
    }

    private delegate T? Parser<T>(in NetlinkMessage message);

    /// <summary>The records of a captured dump, which must end with NLMSG_DONE.</summary>
    private static List<T> Decode<T>(byte[] dump, Parser<T> parse) where T : class
    {
        var records = new List<T>();
        var reader = new NetlinkMessageReader(dump);
        while (reader.TryRead(out var message))
        {
            Assert.Equal(NLM_F_MULTI, message.Flags & NLM_F_MULTI);
            if (message.Type == NLMSG_DONE)
            {
                Assert.False(reader.TryRead(out _));
                return records;
            }
            records.Add(parse(message) ?? throw new Xunit.Sdk.XunitException($"message type {message.Type} not decoded"));
        }
        throw new Xunit.Sdk.XunitException("no NLMSG_DONE");
    }
}
