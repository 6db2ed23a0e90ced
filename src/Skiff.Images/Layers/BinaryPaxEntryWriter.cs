using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Skiff.Interop;

namespace Skiff.Images.Layers;

/// <summary>
/// Writes one tar member whose pax records hold bytes that are not UTF-8 (binary xattr values; names and link
/// targets with escaped bytes, see <see cref="FileNames"/>), which TarWriter cannot: its records are strings. A pax extended header with every record the member needs (path, linkpath,
/// mtime, ids, size, the xattrs), then a ustar header whose own fields readers override with those records, then
/// the data. Used between TarWriter's members on the same stream: TarWriter writes each member as it is given.
/// </summary>
internal static class BinaryPaxEntryWriter
{
    private const int BlockSize = 512;
    private const long OctalLimit7 = 0x1fffff; // 7 octal digits
    private const long OctalLimit11 = 0x1ffffffff; // 11 octal digits

    public sealed record Member(TarEntryType Type, string Name, int Mode, long Uid, long Gid, DateTimeOffset ModificationTime)
    {
        public string? LinkName { get; init; }
        public int DeviceMajor { get; init; }
        public int DeviceMinor { get; init; }
        public IReadOnlyList<(string Key, byte[] Value)> Records { get; init; } = [];
    }

    /// <summary>
    /// Writes <paramref name="entry"/> with <paramref name="tar"/>, or, when its name or link target holds bytes that
    /// are not UTF-8 (escaped, see <see cref="FileNames"/>; TarWriter would write U+FFFD for them), itself on
    /// <paramref name="output"/>, the stream under <paramref name="tar"/>. True when TarWriter wrote it.
    /// </summary>
    public static bool WriteEntry(TarWriter tar, Stream output, PaxTarEntry entry)
    {
        if (!FileNames.HasEscapes(entry.Name) && !FileNames.HasEscapes(entry.LinkName))
        {
            tar.WriteEntry(entry);
            return true;
        }
        var member = new Member(entry.EntryType, entry.Name, (int)entry.Mode, entry.Uid, entry.Gid, entry.ModificationTime)
        {
            LinkName = entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink ? entry.LinkName : null,
            DeviceMajor = entry.DeviceMajor,
            DeviceMinor = entry.DeviceMinor,
            Records = [.. entry.ExtendedAttributes.Where(record => record.Key.StartsWith(PaxRecords.XattrPrefix, StringComparison.Ordinal))
                .Select(record => (record.Key, Encoding.UTF8.GetBytes(record.Value)))],
        };
        Write(output, member, entry.DataStream);
        return false;
    }

    public static void Write(Stream output, Member member, Stream? data)
    {
        long size = data?.Length ?? 0;
        var records = new List<byte>();
        byte[] name = FileNames.GetBytes(member.Name);
        byte[] linkName = FileNames.GetBytes(member.LinkName ?? "");
        PaxRecords.Append(records, "path", name);
        if (member.LinkName is not null)
            PaxRecords.Append(records, "linkpath", linkName);
        long ticks = member.ModificationTime.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        string mtime = (ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture)
            + "." + (ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture);
        PaxRecords.Append(records, "mtime", Encoding.ASCII.GetBytes(mtime));
        if (member.Uid > OctalLimit7)
            PaxRecords.Append(records, "uid", Encoding.ASCII.GetBytes(member.Uid.ToString(CultureInfo.InvariantCulture)));
        if (member.Gid > OctalLimit7)
            PaxRecords.Append(records, "gid", Encoding.ASCII.GetBytes(member.Gid.ToString(CultureInfo.InvariantCulture)));
        if (size > OctalLimit11)
            PaxRecords.Append(records, "size", Encoding.ASCII.GetBytes(size.ToString(CultureInfo.InvariantCulture)));
        foreach (var (key, value) in member.Records)
            PaxRecords.Append(records, key, value);

        long seconds = Math.Clamp(ticks / TimeSpan.TicksPerSecond, 0, OctalLimit11);
        output.Write(Header([.. "PaxHeaders/"u8, .. Truncate(FileNames.GetBytes(Path.GetFileName(member.Name.TrimEnd('/'))), 80)], (byte)'x', 0x1a4, 0, 0,
            records.Count, seconds, [], 0, 0));
        output.Write(records.ToArray());
        Pad(output, records.Count);

        byte type = member.Type switch
        {
            TarEntryType.RegularFile => (byte)'0',
            TarEntryType.HardLink => (byte)'1',
            TarEntryType.SymbolicLink => (byte)'2',
            TarEntryType.CharacterDevice => (byte)'3',
            TarEntryType.BlockDevice => (byte)'4',
            TarEntryType.Directory => (byte)'5',
            TarEntryType.Fifo => (byte)'6',
            _ => throw new ArgumentException($"tar member type {member.Type} is not written here", nameof(member)),
        };
        output.Write(Header(Truncate(name, 100), type, member.Mode, Math.Min(member.Uid, OctalLimit7), Math.Min(member.Gid, OctalLimit7),
            Math.Min(size, OctalLimit11), seconds, Truncate(linkName, 100), member.DeviceMajor, member.DeviceMinor));
        if (data is not null)
        {
            data.CopyTo(output);
            Pad(output, size);
        }
    }

    private static byte[] Header(ReadOnlySpan<byte> name, byte type, int mode, long uid, long gid, long size, long mtime, ReadOnlySpan<byte> linkName, int major, int minor)
    {
        var header = new byte[BlockSize];
        name.CopyTo(header.AsSpan(0, 100));
        Octal(header.AsSpan(100, 8), mode);
        Octal(header.AsSpan(108, 8), uid);
        Octal(header.AsSpan(116, 8), gid);
        Octal(header.AsSpan(124, 12), size);
        Octal(header.AsSpan(136, 12), mtime);
        header[156] = type;
        linkName.CopyTo(header.AsSpan(157, 100));
        "ustar\u000000"u8.CopyTo(header.AsSpan(257));
        Octal(header.AsSpan(329, 8), major);
        Octal(header.AsSpan(337, 8), minor);
        // The checksum is computed with its own field read as spaces, and written as six digits, NUL, space.
        header.AsSpan(148, 8).Fill((byte)' ');
        long sum = 0;
        foreach (byte b in header)
            sum += b;
        Octal(header.AsSpan(148, 7), sum);
        return header;
    }

    /// <summary>Zero-padded octal digits filling the field but its last byte, which stays NUL.</summary>
    private static void Octal(Span<byte> field, long value)
    {
        string digits = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(digits, field);
        field[^1] = 0;
    }

    /// <summary>At most <paramref name="bytes"/> bytes of a name, not cut inside a UTF-8 character; the pax record has the whole name.</summary>
    private static ReadOnlySpan<byte> Truncate(ReadOnlySpan<byte> name, int bytes)
    {
        if (name.Length <= bytes)
            return name;
        int end = bytes;
        while (end > 0 && (name[end] & 0xc0) == 0x80)
            end--;
        return name[..end];
    }

    private static void Pad(Stream output, long size)
    {
        int padding = (int)((BlockSize - size % BlockSize) % BlockSize);
        if (padding > 0)
            output.Write(new byte[padding]);
    }
}
