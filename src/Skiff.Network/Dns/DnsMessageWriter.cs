using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Skiff.Network.Dns;

/// <summary>An answer the resolver gives: an address (A or AAAA by its family) or a PTR's target name.</summary>
public readonly record struct DnsAnswer(IPAddress? Address, string? Target, uint Ttl)
{
    public static DnsAnswer ForAddress(IPAddress address, uint ttl) => new(address, null, ttl);
    public static DnsAnswer ForPointer(string target, uint ttl) => new(null, target, ttl);
}

/// <summary>
/// Writes the few messages the resolver makes: responses to a parsed query (its own answers, or an error code), and
/// queries (for tests and tools). Names are written from presentation form without escapes: the resolver only
/// writes names from its records, which hold container names, aliases and network names.
/// </summary>
public static class DnsMessageWriter
{
    /// <summary>
    /// The response to <paramref name="query"/> (<paramref name="raw"/> its bytes): same id, opcode, RD and question
    /// (copied when there is exactly one; none otherwise), QR and RA set, AA when <paramref name="authoritative"/>. Answers name the question by a compression
    /// pointer. Answers that would pass <paramref name="maxSize"/> are left out and TC set, so a UDP client asks again
    /// over TCP (RFC 2181 9).
    /// </summary>
    public static byte[] Response(ReadOnlySpan<byte> raw, DnsMessage query, DnsResponseCode code, IReadOnlyList<DnsAnswer> answers, bool authoritative, int maxSize)
    {
        int questionEnd = query.Questions.Count == 1 ? query.QuestionEnd : DnsMessage.HeaderSize;
        var buffer = new byte[Math.Max(maxSize, questionEnd)];
        raw[DnsMessage.HeaderSize..questionEnd].CopyTo(buffer.AsSpan(DnsMessage.HeaderSize));
        int position = questionEnd;
        int written = 0;
        bool truncated = false;
        foreach (var answer in answers)
        {
            int start = position;
            if (!TryWriteAnswer(buffer, ref position, answer))
            {
                position = start;
                truncated = true;
                break;
            }
            written++;
        }
        ushort flags = (ushort)(0x8000 | (query.Opcode << 11) | (query.RecursionDesired ? 0x0100 : 0) | 0x0080 | (int)code);
        if (authoritative)
            flags |= 0x0400;
        if (truncated)
            flags |= 0x0200;
        WriteHeader(buffer, query.Id, flags, questions: query.Questions.Count == 1 ? 1 : 0, answers: written);
        return buffer[..position];
    }

    /// <summary>A query for <paramref name="name"/> with RD set, and an EDNS OPT record when <paramref name="udpPayloadSize"/> is given.</summary>
    public static byte[] Query(ushort id, string name, ushort type, ushort? udpPayloadSize = null)
    {
        var buffer = new byte[DnsMessage.HeaderSize + DnsMessage.MaxNameLength + 4 + 11];
        int position = DnsMessage.HeaderSize;
        WriteName(buffer, ref position, name);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(position), type);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(position + 2), DnsType.ClassInternet);
        position += 4;
        if (udpPayloadSize is { } size)
        {
            // Root owner, type OPT, class = payload size, TTL 0 (extended rcode, version 0, no DO), no options.
            buffer[position] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(position + 1), DnsType.Opt);
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(position + 3), size);
            position += 11;
        }
        WriteHeader(buffer, id, 0x0100, questions: 1, answers: 0, additionals: udpPayloadSize is null ? 0 : 1);
        return buffer[..position];
    }

    /// <summary>
    /// A header-only FORMERR for bytes that did not parse but whose header could be read (RFC 1035 4.1.1: the
    /// question cannot be echoed when it could not be read). Null when the bytes are too short or are a response.
    /// </summary>
    public static byte[]? FormatError(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < DnsMessage.HeaderSize || (raw[2] & 0x80) != 0)
            return null;
        var buffer = new byte[DnsMessage.HeaderSize];
        ushort flags = (ushort)(0x8000 | (raw[2] & 0x79) << 8 | 0x0080 | (int)DnsResponseCode.FormatError);
        WriteHeader(buffer, BinaryPrimitives.ReadUInt16BigEndian(raw), flags, questions: 0, answers: 0);
        return buffer;
    }

    /// <summary>Writes <paramref name="name"/> uncompressed; false when it does not fit in <paramref name="buffer"/>.</summary>
    /// <exception cref="ArgumentException">A label is empty or longer than 63 bytes, or the name longer than 255.</exception>
    internal static bool TryWriteName(Span<byte> buffer, ref int position, string name)
    {
        var trimmed = name.TrimEnd('.');
        int start = position;
        if (trimmed.Length > 0)
        {
            foreach (var label in trimmed.Split('.'))
            {
                if (label.Length is 0 or > DnsMessage.MaxLabelLength || !System.Text.Ascii.IsValid(label))
                    throw new ArgumentException($"\"{name}\" is not a DNS name: each label must be 1 to 63 ASCII characters", nameof(name));
                if (position + 1 + label.Length > buffer.Length)
                    return false;
                buffer[position++] = (byte)label.Length;
                foreach (char c in label)
                    buffer[position++] = (byte)c;
            }
        }
        if (position + 1 > buffer.Length)
            return false;
        buffer[position++] = 0;
        if (position - start > DnsMessage.MaxNameLength)
            throw new ArgumentException($"\"{name}\" is longer than a DNS name may be ({DnsMessage.MaxNameLength} bytes)", nameof(name));
        return true;
    }

    private static void WriteName(Span<byte> buffer, ref int position, string name)
    {
        if (!TryWriteName(buffer, ref position, name))
            throw new ArgumentException($"\"{name}\" is longer than a DNS name may be ({DnsMessage.MaxNameLength} bytes)", nameof(name));
    }

    private static bool TryWriteAnswer(Span<byte> buffer, ref int position, DnsAnswer answer)
    {
        // Owner: a pointer to the question's name, always at offset 12.
        if (position + 12 > buffer.Length)
            return false;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[position..], 0xC000 | DnsMessage.HeaderSize);
        ushort type = answer.Address is { } address ? address.AddressFamily == AddressFamily.InterNetwork ? DnsType.A : DnsType.Aaaa : DnsType.Ptr;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(position + 2)..], type);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(position + 4)..], DnsType.ClassInternet);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[(position + 6)..], answer.Ttl);
        int dataStart = position + 12;
        int end = dataStart;
        if (answer.Address is { } ip)
        {
            if (!ip.TryWriteBytes(buffer[dataStart..], out int count))
                return false;
            end += count;
        }
        else if (!TryWriteName(buffer, ref end, answer.Target!))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(position + 10)..], (ushort)(end - dataStart));
        position = end;
        return true;
    }

    private static void WriteHeader(Span<byte> buffer, ushort id, ushort flags, int questions, int answers, int additionals = 0)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer, id);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[4..], (ushort)questions);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[6..], (ushort)answers);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[10..], (ushort)additionals);
    }
}
