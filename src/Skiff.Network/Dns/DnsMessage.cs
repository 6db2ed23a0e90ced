using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Skiff.Network.Dns;

/// <summary>The record types and classes the resolver answers or reads (RFC 1035 3.2.2, RFC 3596, RFC 6891).</summary>
public static class DnsType
{
    public const ushort A = 1;
    public const ushort Ptr = 12;
    public const ushort Aaaa = 28;
    public const ushort Opt = 41;
    public const ushort ClassInternet = 1;
}

/// <summary>RCODE values of RFC 1035 4.1.1.</summary>
public enum DnsResponseCode : byte
{
    NoError = 0,
    FormatError = 1,
    ServerFailure = 2,
    NameError = 3,
    NotImplemented = 4,
    Refused = 5,
}

/// <summary>A question: the name in presentation form (no trailing dot, see <see cref="DnsMessage.Parse"/>), type and class.</summary>
public readonly record struct DnsQuestion(string Name, ushort Type, ushort Class);

/// <summary>
/// A resource record: owner name, type, class, TTL and its data as received. <see cref="Address"/> is set for A and AAAA,
/// <see cref="Target"/> for PTR (its name decompressed); other types keep only their bytes.
/// </summary>
public sealed record DnsResourceRecord(string Name, ushort Type, ushort Class, uint Ttl, byte[] Data)
{
    public IPAddress? Address { get; init; }
    public string? Target { get; init; }
}

/// <summary>
/// A parsed DNS message (RFC 1035 section 4). The reader is small on purpose: it is the resolver's only parser of
/// bytes that containers send, so it is strict and bounded. Names are decoded to presentation form: labels joined by
/// '.', without the root's trailing dot, bytes outside printable ASCII and '.' or '\' inside a label escaped as \DDD
/// (RFC 4343), so that two different wire names never read the same.
/// </summary>
public sealed class DnsMessage
{
    public const int HeaderSize = 12;
    /// <summary>The largest message over either transport: TCP's two-byte length prefix.</summary>
    public const int MaxSize = 65535;
    /// <summary>RFC 1035 2.3.4: a name is at most 255 octets on the wire, a label at most 63.</summary>
    public const int MaxNameLength = 255;
    public const int MaxLabelLength = 63;
    /// <summary>
    /// Pointers followed in one name: a name has at most 127 labels, so a sender never needs more. Without a bound, a
    /// 64 KiB message of names that are long chains of backward pointers would cost millions of steps to read.
    /// </summary>
    public const int MaxPointers = 127;

    public ushort Id { get; init; }
    public bool IsResponse { get; init; }
    public byte Opcode { get; init; }
    public bool Authoritative { get; init; }
    public bool Truncated { get; init; }
    public bool RecursionDesired { get; init; }
    public bool RecursionAvailable { get; init; }
    public DnsResponseCode ResponseCode { get; init; }
    public IReadOnlyList<DnsQuestion> Questions { get; init; } = [];
    public IReadOnlyList<DnsResourceRecord> Answers { get; init; } = [];
    public IReadOnlyList<DnsResourceRecord> Authorities { get; init; } = [];
    public IReadOnlyList<DnsResourceRecord> Additionals { get; init; } = [];

    /// <summary>Where the question section ends: a response copies the query's question bytes verbatim.</summary>
    internal int QuestionEnd { get; init; }

    /// <summary>
    /// The largest UDP answer the sender takes: its EDNS payload size (RFC 6891 6.2.3, the OPT record's class) or
    /// RFC 1035's 512 when it sent none or less.
    /// </summary>
    public int UdpPayloadLimit => Additionals.FirstOrDefault(r => r.Type == DnsType.Opt) is { } opt ? Math.Max(512, (int)opt.Class) : 512;

    /// <summary>
    /// Reads a whole message. Compression pointers must point strictly before every position of the name read so
    /// far (so no loop and at most 255 octets of name) and past the header; counts in the header are checked
    /// against the bytes there, never used to size anything; at most 127 pointers per name. Bytes after the last section are ignored.
    /// </summary>
    /// <exception cref="DnsFormatException">The bytes are not such a message.</exception>
    public static DnsMessage Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderSize)
            throw new DnsFormatException($"a DNS message of {message.Length} bytes is shorter than its {HeaderSize}-byte header");
        if (message.Length > MaxSize)
            throw new DnsFormatException($"a DNS message of {message.Length} bytes is longer than {MaxSize}");
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        int position = HeaderSize;
        var questions = new List<DnsQuestion>();
        for (int i = BinaryPrimitives.ReadUInt16BigEndian(message[4..]); i > 0; i--)
        {
            var name = ReadName(message, ref position);
            Need(message, position, 4, "question");
            questions.Add(new DnsQuestion(name, BinaryPrimitives.ReadUInt16BigEndian(message[position..]), BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..])));
            position += 4;
        }
        int questionEnd = position;
        var answers = ReadRecords(message, ref position, BinaryPrimitives.ReadUInt16BigEndian(message[6..]));
        var authorities = ReadRecords(message, ref position, BinaryPrimitives.ReadUInt16BigEndian(message[8..]));
        var additionals = ReadRecords(message, ref position, BinaryPrimitives.ReadUInt16BigEndian(message[10..]));
        return new DnsMessage
        {
            Id = BinaryPrimitives.ReadUInt16BigEndian(message),
            IsResponse = (flags & 0x8000) != 0,
            Opcode = (byte)((flags >> 11) & 0xF),
            Authoritative = (flags & 0x0400) != 0,
            Truncated = (flags & 0x0200) != 0,
            RecursionDesired = (flags & 0x0100) != 0,
            RecursionAvailable = (flags & 0x0080) != 0,
            ResponseCode = (DnsResponseCode)(flags & 0xF),
            Questions = questions,
            Answers = answers,
            Authorities = authorities,
            Additionals = additionals,
            QuestionEnd = questionEnd,
        };
    }

    private static List<DnsResourceRecord> ReadRecords(ReadOnlySpan<byte> message, ref int position, int count)
    {
        var records = new List<DnsResourceRecord>();
        for (; count > 0; count--)
        {
            var name = ReadName(message, ref position);
            Need(message, position, 10, "resource record");
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
            ushort @class = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(position + 4)..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 8)..]);
            position += 10;
            Need(message, position, length, "record data");
            var data = message.Slice(position, length);
            var record = new DnsResourceRecord(name, type, @class, ttl, data.ToArray());
            switch (type)
            {
                case DnsType.A or DnsType.Aaaa:
                    if (length != (type == DnsType.A ? 4 : 16))
                        throw new DnsFormatException($"an address record of {name} has {length} bytes of data");
                    record = record with { Address = new IPAddress(data) };
                    break;
                case DnsType.Ptr:
                    int targetPosition = position;
                    var target = ReadName(message, ref targetPosition);
                    if (targetPosition != position + length)
                        throw new DnsFormatException($"the PTR record of {name} has a name that does not fill its {length} bytes of data");
                    record = record with { Target = target };
                    break;
            }
            records.Add(record);
            position += length;
        }
        return records;
    }

    /// <summary>Reads the name at <paramref name="position"/>, leaving it after the name's bytes at that place.</summary>
    private static string ReadName(ReadOnlySpan<byte> message, ref int position)
    {
        var text = new StringBuilder();
        int cursor = position;
        int lowest = position;
        int wireLength = 1;
        bool jumped = false;
        int pointers = 0;
        while (true)
        {
            Need(message, cursor, 1, "name");
            byte length = message[cursor];
            if (length == 0)
            {
                if (!jumped)
                    position = cursor + 1;
                return text.ToString();
            }
            switch (length & 0xC0)
            {
                case 0xC0:
                    Need(message, cursor, 2, "compression pointer");
                    int target = ((length & 0x3F) << 8) | message[cursor + 1];
                    if (target >= lowest || target < HeaderSize)
                        throw new DnsFormatException($"a compression pointer at byte {cursor} points to byte {target}, not strictly back into the message");
                    if (++pointers > MaxPointers)
                        throw new DnsFormatException($"a name at byte {position} follows more than {MaxPointers} compression pointers");
                    if (!jumped)
                        position = cursor + 2;
                    jumped = true;
                    lowest = target;
                    cursor = target;
                    break;
                case 0:
                    Need(message, cursor + 1, length, "label");
                    wireLength += 1 + length;
                    if (wireLength > MaxNameLength)
                        throw new DnsFormatException($"a name at byte {position} is longer than {MaxNameLength} bytes");
                    if (text.Length > 0)
                        text.Append('.');
                    foreach (byte b in message.Slice(cursor + 1, length))
                    {
                        if (b is > 0x20 and < 0x7F and not (byte)'.' and not (byte)'\\')
                            text.Append((char)b);
                        else
                            text.Append('\\').Append(((int)b).ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    cursor += 1 + length;
                    break;
                default:
                    throw new DnsFormatException($"a label at byte {cursor} has the reserved type 0x{length & 0xC0:x2}");
            }
        }
    }

    private static void Need(ReadOnlySpan<byte> message, int position, int count, string what)
    {
        if (position + count > message.Length)
            throw new DnsFormatException($"the message ends inside a {what} at byte {position}");
    }
}
