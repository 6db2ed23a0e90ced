using System.Buffers.Binary;
using System.Text;

namespace Skiff.Cgroups.Systemd;

public enum DBusMessageType : byte
{
    MethodCall = 1,
    MethodReturn = 2,
    Error = 3,
    Signal = 4,
}

/// <summary>A D-Bus variant: a value together with its single complete type signature.</summary>
public sealed record DBusVariant(string Signature, object Value);

/// <summary>
/// One D-Bus message in the wire format of the D-Bus specification (little endian, protocol version 1).
/// Body values are plain objects chosen by signature so no reflection is needed: y byte, b bool, n short,
/// q ushort, i int, u uint, x long, t ulong, d double, s/o/g string, v <see cref="DBusVariant"/>,
/// a… IReadOnlyList&lt;object&gt; (ay also byte[]), (…) and {…} object[].
/// </summary>
public sealed class DBusMessage
{
    /// <summary>Set on calls whose caller does not wait for a reply.</summary>
    public const byte NoReplyExpected = 0x1;

    private const byte FieldPath = 1, FieldInterface = 2, FieldMember = 3, FieldErrorName = 4, FieldReplySerial = 5,
        FieldDestination = 6, FieldSender = 7, FieldSignature = 8;

    public DBusMessageType Type { get; init; }
    public byte Flags { get; init; }
    public uint Serial { get; set; }
    public string? Path { get; init; }
    public string? Interface { get; init; }
    public string? Member { get; init; }
    public string? ErrorName { get; init; }
    public uint ReplySerial { get; init; }
    public string? Destination { get; init; }
    public string? Sender { get; init; }
    public string Signature { get; init; } = "";
    public IReadOnlyList<object> Body { get; init; } = [];

    public static DBusMessage MethodCall(string destination, string path, string @interface, string member,
        string signature = "", params object[] body) => new()
    {
        Type = DBusMessageType.MethodCall, Destination = destination, Path = path, Interface = @interface,
        Member = member, Signature = signature, Body = body,
    };

    public byte[] Encode()
    {
        var body = new DBusWriter();
        var types = DBusSignature.Split(Signature);
        if (types.Count != Body.Count)
            throw new ArgumentException($"D-Bus message {Member}: signature \"{Signature}\" has {types.Count} types but the body has {Body.Count} values");
        for (var i = 0; i < types.Count; i++) body.WriteValue(types[i], Body[i]);
        var bodyBytes = body.ToArray();

        var fields = new List<object>();
        void Field(byte code, string signature, object? value)
        {
            if (value is not null) fields.Add(new object[] { code, new DBusVariant(signature, value) });
        }
        Field(FieldPath, "o", Path);
        Field(FieldInterface, "s", Interface);
        Field(FieldMember, "s", Member);
        Field(FieldErrorName, "s", ErrorName);
        Field(FieldReplySerial, "u", ReplySerial == 0 ? null : ReplySerial);
        Field(FieldDestination, "s", Destination);
        Field(FieldSender, "s", Sender);
        Field(FieldSignature, "g", Signature.Length == 0 ? null : Signature);

        var header = new DBusWriter();
        header.WriteValue("y", (byte)'l');
        header.WriteValue("y", (byte)Type);
        header.WriteValue("y", Flags);
        header.WriteValue("y", (byte)1);
        header.WriteValue("u", (uint)bodyBytes.Length);
        header.WriteValue("u", Serial);
        header.WriteValue("a(yv)", fields);
        header.Pad(8);
        var headerBytes = header.ToArray();
        var message = new byte[headerBytes.Length + bodyBytes.Length];
        headerBytes.CopyTo(message, 0);
        bodyBytes.CopyTo(message, headerBytes.Length);
        return message;
    }

    /// <summary>Total size of the message whose fixed 16-byte header start is given: header, fields, padding and body.</summary>
    public static int FrameLength(ReadOnlySpan<byte> start)
    {
        if (start[0] != (byte)'l' && start[0] != (byte)'B')
            throw new DBusException("org.freedesktop.DBus.Error.InvalidArgs", $"D-Bus message with unknown byte order '{(char)start[0]}'");
        var big = start[0] == (byte)'B';
        var bodyLength = big ? BinaryPrimitives.ReadUInt32BigEndian(start[4..]) : BinaryPrimitives.ReadUInt32LittleEndian(start[4..]);
        var fieldsLength = big ? BinaryPrimitives.ReadUInt32BigEndian(start[12..]) : BinaryPrimitives.ReadUInt32LittleEndian(start[12..]);
        var total = Align(16 + (long)fieldsLength, 8) + bodyLength;
        if (total > 128L << 20)
            throw new DBusException("org.freedesktop.DBus.Error.LimitsExceeded", $"D-Bus message of {total} bytes is larger than the protocol allows");
        return (int)total;
    }

    public static DBusMessage Decode(byte[] data)
    {
        var reader = new DBusReader(data, data[0] == (byte)'B');
        reader.ReadValue("y");
        var type = (DBusMessageType)(byte)reader.ReadValue("y");
        var flags = (byte)reader.ReadValue("y");
        var version = (byte)reader.ReadValue("y");
        if (version != 1)
            throw new DBusException("org.freedesktop.DBus.Error.InvalidArgs", $"D-Bus protocol version {version} is not supported");
        reader.ReadValue("u");
        var serial = (uint)reader.ReadValue("u");
        var fields = new Dictionary<byte, object>();
        foreach (var field in (IReadOnlyList<object>)reader.ReadValue("a(yv)"))
        {
            var pair = (object[])field;
            fields[(byte)pair[0]] = ((DBusVariant)pair[1]).Value;
        }
        reader.Align(8);
        var signature = fields.TryGetValue(FieldSignature, out var sig) ? (string)sig : "";
        var body = new List<object>();
        foreach (var t in DBusSignature.Split(signature)) body.Add(reader.ReadValue(t));
        return new DBusMessage
        {
            Type = type,
            Flags = flags,
            Serial = serial,
            Path = fields.GetValueOrDefault(FieldPath) as string,
            Interface = fields.GetValueOrDefault(FieldInterface) as string,
            Member = fields.GetValueOrDefault(FieldMember) as string,
            ErrorName = fields.GetValueOrDefault(FieldErrorName) as string,
            ReplySerial = fields.TryGetValue(FieldReplySerial, out var rs) ? (uint)rs : 0,
            Destination = fields.GetValueOrDefault(FieldDestination) as string,
            Sender = fields.GetValueOrDefault(FieldSender) as string,
            Signature = signature,
            Body = body,
        };
    }

    internal static long Align(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;
}

/// <summary>Signature parsing: splitting into single complete types and the alignment of each type code.</summary>
public static class DBusSignature
{
    public static IReadOnlyList<string> Split(string signature)
    {
        var result = new List<string>();
        var i = 0;
        while (i < signature.Length)
        {
            var end = CompleteTypeEnd(signature, i);
            result.Add(signature[i..end]);
            i = end;
        }
        return result;
    }

    /// <summary>Index just after the single complete type starting at <paramref name="start"/>.</summary>
    internal static int CompleteTypeEnd(string signature, int start)
    {
        if (start >= signature.Length) throw Invalid(signature);
        switch (signature[start])
        {
            case 'a':
                return CompleteTypeEnd(signature, start + 1);
            case '(':
            case '{':
            {
                var close = signature[start] == '(' ? ')' : '}';
                var i = start + 1;
                while (i < signature.Length && signature[i] != close) i = CompleteTypeEnd(signature, i);
                if (i >= signature.Length || i == start + 1) throw Invalid(signature);
                return i + 1;
            }
            case 'y' or 'b' or 'n' or 'q' or 'i' or 'u' or 'x' or 't' or 'd' or 's' or 'o' or 'g' or 'v' or 'h':
                return start + 1;
            default:
                throw Invalid(signature);
        }
    }

    internal static int Alignment(char code) => code switch
    {
        'y' or 'g' or 'v' => 1,
        'n' or 'q' => 2,
        'b' or 'i' or 'u' or 's' or 'o' or 'a' or 'h' => 4,
        _ => 8, // x t d ( {
    };

    private static DBusException Invalid(string signature) =>
        new("org.freedesktop.DBus.Error.InvalidSignature", $"invalid D-Bus signature \"{signature}\"");
}

internal sealed class DBusWriter
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public void Pad(int alignment)
    {
        while (_buffer.Length % alignment != 0) _buffer.WriteByte(0);
    }

    private void Put(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    private void PutUInt32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Put(b);
    }

    private void PutString(string value, bool shortLength)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (shortLength) _buffer.WriteByte(checked((byte)bytes.Length));
        else PutUInt32((uint)bytes.Length);
        Put(bytes);
        _buffer.WriteByte(0);
    }

    public void WriteValue(string type, object value)
    {
        var code = type[0];
        Pad(DBusSignature.Alignment(code));
        Span<byte> b = stackalloc byte[8];
        switch (code)
        {
            case 'y': _buffer.WriteByte(Convert.ToByte(value)); break;
            case 'b': PutUInt32((bool)value ? 1u : 0u); break;
            case 'n': BinaryPrimitives.WriteInt16LittleEndian(b, (short)value); Put(b[..2]); break;
            case 'q': BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value); Put(b[..2]); break;
            case 'i' or 'h': BinaryPrimitives.WriteInt32LittleEndian(b, (int)value); Put(b[..4]); break;
            case 'u': PutUInt32((uint)value); break;
            case 'x': BinaryPrimitives.WriteInt64LittleEndian(b, (long)value); Put(b); break;
            case 't': BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)value); Put(b); break;
            case 'd': BinaryPrimitives.WriteDoubleLittleEndian(b, (double)value); Put(b); break;
            case 's' or 'o': PutString((string)value, shortLength: false); break;
            case 'g': PutString((string)value, shortLength: true); break;
            case 'v':
                var variant = (DBusVariant)value;
                PutString(variant.Signature, shortLength: true);
                WriteValue(variant.Signature, variant.Value);
                break;
            case 'a': WriteArray(type[1..], value); break;
            case '(' or '{':
                var members = DBusSignature.Split(type[1..^1]);
                var values = (object[])value;
                if (members.Count != values.Length)
                    throw new ArgumentException($"D-Bus struct {type} needs {members.Count} values, got {values.Length}");
                for (var i = 0; i < members.Count; i++) WriteValue(members[i], values[i]);
                break;
            default:
                throw new ArgumentException($"unsupported D-Bus type \"{type}\"");
        }
    }

    private void WriteArray(string elementType, object value)
    {
        var lengthAt = _buffer.Length;
        PutUInt32(0);
        // the length excludes the padding to the first element, which is there even for an empty array
        Pad(DBusSignature.Alignment(elementType[0]));
        var start = _buffer.Length;
        if (value is byte[] bytes && elementType == "y") Put(bytes);
        else foreach (var element in (IEnumerable<object>)value) WriteValue(elementType, element);
        var length = checked((uint)(_buffer.Length - start));
        var end = _buffer.Length;
        _buffer.Position = lengthAt;
        PutUInt32(length);
        _buffer.Position = end;
    }
}

internal sealed class DBusReader(byte[] data, bool bigEndian)
{
    private int _offset;

    public void Align(int alignment) => _offset = (int)DBusMessage.Align(_offset, alignment);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_offset + count > data.Length)
            throw new DBusException("org.freedesktop.DBus.Error.InvalidArgs", "truncated D-Bus message");
        var span = data.AsSpan(_offset, count);
        _offset += count;
        return span;
    }

    private uint UInt32() => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(Take(4)) : BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    private ulong UInt64() => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(Take(8)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    private ushort UInt16() => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(Take(2)) : BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    private string String(int length)
    {
        var text = Encoding.UTF8.GetString(Take(length));
        Take(1); // the terminating NUL
        return text;
    }

    public object ReadValue(string type)
    {
        var code = type[0];
        Align(DBusSignature.Alignment(code));
        switch (code)
        {
            case 'y': return Take(1)[0];
            case 'b': return UInt32() != 0;
            case 'n': return (short)UInt16();
            case 'q': return UInt16();
            case 'i' or 'h': return (int)UInt32();
            case 'u': return UInt32();
            case 'x': return (long)UInt64();
            case 't': return UInt64();
            case 'd': return BitConverter.Int64BitsToDouble((long)UInt64());
            case 's' or 'o': return String((int)UInt32());
            case 'g': return String(Take(1)[0]);
            case 'v':
                var signature = String(Take(1)[0]);
                return new DBusVariant(signature, ReadValue(signature));
            case 'a':
            {
                var length = (int)UInt32();
                var elementType = type[1..];
                Align(DBusSignature.Alignment(elementType[0]));
                if (elementType == "y") return Take(length).ToArray();
                var end = _offset + length;
                var items = new List<object>();
                while (_offset < end) items.Add(ReadValue(elementType));
                return items;
            }
            case '(' or '{':
                var members = DBusSignature.Split(type[1..^1]);
                var values = new object[members.Count];
                for (var i = 0; i < members.Count; i++) values[i] = ReadValue(members[i]);
                return values;
            default:
                throw new DBusException("org.freedesktop.DBus.Error.InvalidSignature", $"unsupported D-Bus type \"{type}\"");
        }
    }
}

/// <summary>A D-Bus error reply or a protocol failure; <see cref="Name"/> is the D-Bus error name, which decides its kind.</summary>
public sealed class DBusException(string name, string message) : SkiffException(KindOf(name), message)
{
    public string Name { get; } = name;

    /// <summary>The errors systemd and the bus answer with that say more than "the bus is unavailable".</summary>
    private static ErrorKind KindOf(string name) => name switch
    {
        "org.freedesktop.systemd1.NoSuchUnit" => ErrorKind.NotFound,
        "org.freedesktop.systemd1.UnitExists" => ErrorKind.AlreadyExists,
        "org.freedesktop.DBus.Error.AccessDenied" or "org.freedesktop.DBus.Error.AuthFailed" => ErrorKind.PermissionDenied,
        "org.freedesktop.DBus.Error.BadAddress" => ErrorKind.InvalidArgument,
        // A message we cannot parse or build is our bug or the bus's, not something to retry.
        "org.freedesktop.DBus.Error.InvalidArgs" or "org.freedesktop.DBus.Error.InvalidSignature"
            or "org.freedesktop.DBus.Error.LimitsExceeded" => ErrorKind.Internal,
        _ => ErrorKind.Unavailable,
    };
}
