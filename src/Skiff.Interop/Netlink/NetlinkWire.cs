using System.Buffers.Binary;
using System.Text;

namespace Skiff.Interop.Netlink;

/// <summary>
/// Builds one netlink request: a 16-byte nlmsghdr (length, type, flags, sequence, port id), a family header
/// (ifinfomsg, ifaddrmsg, rtmsg) and rtattrs (2-byte length, 2-byte type, value), each padded to 4 bytes as
/// NLMSG_ALIGN and RTA_ALIGN do. Nested attributes are an attribute whose value is more attributes; its length is
/// written when it is closed. Netlink is in host byte order, little-endian on both x86-64 and arm64; every layout and
/// constant here comes from the generic uapi headers (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h), so it is
/// the same on both.
/// </summary>
internal sealed class NetlinkMessageBuilder
{
    internal const int HeaderLength = 16;
    private byte[] _buffer = new byte[256];
    private int _length;

    public NetlinkMessageBuilder(ushort type, ushort flags)
    {
        Type = type;
        _length = HeaderLength;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(6), flags);
    }

    public ushort Type { get; }

    /// <summary>Raw bytes, padded: the family header after nlmsghdr, or the ifinfomsg that opens a veth's peer.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
    }

    public void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var space = Reserve(4 + value.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(space, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(space[2..], type);
        value.CopyTo(space[4..]);
    }

    public void Attribute(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        Attribute(type, bytes);
    }

    /// <summary>A NUL-terminated string, as the kernel's NLA_STRING and NLA_NUL_STRING policies both accept.</summary>
    public void Attribute(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        Attribute(type, bytes);
    }

    /// <summary>Opens a nested attribute; pass what it returns to <see cref="EndNested"/> once its members are written.</summary>
    public int BeginNested(ushort type)
    {
        int start = _length;
        Attribute((ushort)(type | NetlinkConstants.NLA_F_NESTED), ReadOnlySpan<byte>.Empty);
        return start;
    }

    public void EndNested(int start)
        => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));

    /// <summary>The whole message, its length and <paramref name="sequence"/> filled in; the port id stays 0 (the kernel's).</summary>
    public ReadOnlySpan<byte> Finish(uint sequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(8), sequence);
        return _buffer.AsSpan(0, _length);
    }

    private Span<byte> Reserve(int length)
    {
        int padded = NetlinkConstants.Align(length);
        if (_length + padded > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + padded));
        var space = _buffer.AsSpan(_length, padded);
        space.Clear();
        _length += padded;
        return space[..length];
    }
}

/// <summary>One message of a datagram: its header fields and payload (the family header, then attributes).</summary>
internal readonly ref struct NetlinkMessage(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload)
{
    public ushort Type { get; } = type;
    public ushort Flags { get; } = flags;
    public uint Sequence { get; } = sequence;
    public ReadOnlySpan<byte> Payload { get; } = payload;
}

/// <summary>
/// Walks the messages of one received datagram. A length that is too short or runs past the datagram throws
/// <see cref="NetlinkFormatException"/>; each message advances by at least its 16-byte header, so any input ends.
/// </summary>
internal ref struct NetlinkMessageReader(ReadOnlySpan<byte> datagram)
{
    private ReadOnlySpan<byte> _rest = datagram;

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_rest.IsEmpty)
            return false;
        if (_rest.Length < NetlinkMessageBuilder.HeaderLength)
            throw new NetlinkFormatException($"{_rest.Length} bytes left after the last message, fewer than a header");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        if (length < NetlinkMessageBuilder.HeaderLength || length > _rest.Length)
            throw new NetlinkFormatException($"a message length of {length} with {_rest.Length} bytes left");
        message = new NetlinkMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]),
            _rest[NetlinkMessageBuilder.HeaderLength..(int)length]);
        _rest = _rest[Math.Min(NetlinkConstants.Align((int)length), _rest.Length)..];
        return true;
    }
}

/// <summary>
/// Walks rtattrs. Types come back without NLA_F_NESTED and NLA_F_NET_BYTEORDER. Fewer than 4 bytes at the end are
/// padding; an attribute shorter than its header or longer than what is left throws <see cref="NetlinkFormatException"/>.
/// </summary>
internal ref struct AttributeReader(ReadOnlySpan<byte> attributes)
{
    private ReadOnlySpan<byte> _rest = attributes;

    public bool TryRead(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.Length < 4)
            return false;
        ushort length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (length < 4 || length > _rest.Length)
            throw new NetlinkFormatException($"an attribute length of {length} with {_rest.Length} bytes left");
        type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & NetlinkConstants.NLA_TYPE_MASK);
        value = _rest[4..length];
        _rest = _rest[Math.Min(NetlinkConstants.Align(length), _rest.Length)..];
        return true;
    }

    public static uint U32(ReadOnlySpan<byte> value)
        => value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(value) : throw new NetlinkFormatException($"a 4-byte attribute of {value.Length} bytes");

    /// <summary>A string attribute up to its NUL (or its end, when the sender left the NUL out).</summary>
    public static string String(ReadOnlySpan<byte> value)
    {
        int end = value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
    }
}

/// <summary>A reply that does not parse: a kernel bug or memory corruption, never a user's mistake, so its kind is Internal.</summary>
public sealed class NetlinkFormatException(string detail)
    : SkiffException(ErrorKind.Internal, $"A netlink reply is malformed: {detail}.");
