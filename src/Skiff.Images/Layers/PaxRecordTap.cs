using System.Buffers.Text;

namespace Skiff.Images.Layers;

/// <summary>
/// A tar stream on its way to System.Formats.Tar's TarReader, watched block by block so that the raw bytes of
/// the pax extended header ('x') before each member are kept: <see cref="CurrentRecords"/> are those of the
/// member whose header passed last, which is the entry TarReader has just returned (it reads a member's header
/// and stops; data is read only when asked). Its name and link target, which TarReader decodes as UTF-8 too, can
/// be asked for as bytes (<see cref="RawName"/>, <see cref="RawLinkName"/>). File data passes through without a copy.
///
/// The tap follows the archive on its own (header checksums, sizes, a pax "size" record). Should it ever lose
/// track (a header that fails its checksum where one is due), it gives no records from then on, and the
/// unpacker's check that a raw value decodes to the string TarReader produced guards any mismatch.
/// </summary>
internal sealed class PaxRecordTap(Stream inner) : Stream
{
    private const int BlockSize = 512;
    /// <summary>Go's archive/tar limit on an extended header; larger ones are refused by peers too.</summary>
    private const int MaximumExtendedHeader = 1 << 20;

    private readonly byte[] _header = new byte[BlockSize];
    private int _headerFill;
    /// <summary>Bytes of the current member (data and padding) still to pass before the next header.</summary>
    private long _memberRemaining;
    /// <summary>The member being captured ('x' records, a GNU 'L' long name or 'K' long link target) and its type.</summary>
    private byte[]? _extension;
    private byte _extensionType;
    private int _extensionFill;
    private byte[]? _pending;
    private byte[]? _pendingLongName;
    private byte[]? _pendingLongLink;
    /// <summary>The header and GNU long names of the member <see cref="CurrentRecords"/> belongs to.</summary>
    private readonly byte[] _memberHeader = new byte[BlockSize];
    private byte[]? _memberLongName;
    private byte[]? _memberLongLink;
    private bool _lost;

    /// <summary>The raw pax records of the last member whose header was read; empty when it had none.</summary>
    public ReadOnlyMemory<byte> CurrentRecords { get; private set; }

    /// <summary>
    /// The name of the last member whose header was read, as bytes: from its pax "path" record, else a GNU long
    /// name, else the ustar prefix and name fields. Empty once the tap lost track.
    /// </summary>
    public byte[] RawName()
    {
        if (_lost)
            return [];
        if (PaxRecords.TryFind(CurrentRecords.Span, "path"u8, out var path))
            return path.ToArray();
        if (_memberLongName is { } longName)
            return UpToNul(longName);
        // The ustar prefix field, a '/', then the name field (POSIX "ustar\0" only: GNU's own header has other data there).
        var name = UpToNul(_memberHeader.AsSpan(0, 100));
        var prefix = _memberHeader.AsSpan(257, 6).SequenceEqual("ustar\0"u8) ? UpToNul(_memberHeader.AsSpan(345, 155)) : [];
        return prefix.Length == 0 ? name : [.. prefix, (byte)'/', .. name];
    }

    /// <summary>Its link target as bytes: pax "linkpath", else a GNU long link name, else the linkname field.</summary>
    public byte[] RawLinkName()
    {
        if (_lost)
            return [];
        if (PaxRecords.TryFind(CurrentRecords.Span, "linkpath"u8, out var linkPath))
            return linkPath.ToArray();
        return UpToNul(_memberLongLink is { } longLink ? longLink : _memberHeader.AsSpan(157, 100));
    }

    /// <summary>False once the tap lost track of the archive: <see cref="CurrentRecords"/> is then empty.</summary>
    public bool InStep => !_lost;

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer);
        Observe(buffer[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0 && !_lost)
        {
            if (_memberRemaining > 0)
            {
                int passing = (int)Math.Min(_memberRemaining, bytes.Length);
                if (_extension is not null && _extensionFill < _extension.Length)
                {
                    int copied = Math.Min(passing, _extension.Length - _extensionFill);
                    bytes[..copied].CopyTo(_extension.AsSpan(_extensionFill));
                    _extensionFill += copied;
                }
                _memberRemaining -= passing;
                bytes = bytes[passing..];
                if (_memberRemaining == 0 && _extension is not null)
                    Captured();
                continue;
            }
            int taken = Math.Min(BlockSize - _headerFill, bytes.Length);
            bytes[..taken].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += taken;
            bytes = bytes[taken..];
            if (_headerFill == BlockSize)
            {
                _headerFill = 0;
                OnHeader();
            }
        }
    }

    private void OnHeader()
    {
        // End-of-archive blocks, and the zero padding some writers add after them.
        if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            return;
        if (!ChecksumMatches() || ReadNumber(_header.AsSpan(124, 12)) is not { } size)
        {
            LoseTrack();
            return;
        }
        byte type = _header[156];
        switch (type)
        {
            case (byte)'x' or (byte)'L' or (byte)'K':
                // Members of their own, before the entry they describe.
                if (size > MaximumExtendedHeader)
                {
                    LoseTrack();
                    return;
                }
                _extension = new byte[size];
                _extensionType = type;
                _extensionFill = 0;
                _memberRemaining = Padded(size);
                if (size == 0)
                    Captured();
                return;
            case (byte)'g':
                _memberRemaining = Padded(size);
                return;
        }
        var records = _pending ?? [];
        CurrentRecords = records;
        _header.CopyTo(_memberHeader, 0);
        (_memberLongName, _memberLongLink) = (_pendingLongName, _pendingLongLink);
        _pending = _pendingLongName = _pendingLongLink = null;
        // A pax "size" record overrides the header's field (members over 8 GiB).
        if (PaxRecords.TryFind(records, "size"u8, out var paxSize))
        {
            if (!Utf8Parser.TryParse(paxSize, out long value, out int consumed) || consumed != paxSize.Length || value < 0)
            {
                LoseTrack();
                return;
            }
            size = value;
        }
        // As Go's and GNU's readers: links, devices, directories and fifos have no data whatever their size field says.
        bool headerOnly = type is (byte)'1' or (byte)'2' or (byte)'3' or (byte)'4' or (byte)'5' or (byte)'6';
        _memberRemaining = headerOnly ? 0 : Padded(size);
    }

    private void Captured()
    {
        switch (_extensionType)
        {
            case (byte)'x':
                _pending = _extension;
                break;
            case (byte)'L':
                _pendingLongName = _extension;
                break;
            default:
                _pendingLongLink = _extension;
                break;
        }
        _extension = null;
    }

    private static byte[] UpToNul(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return (end < 0 ? field : field[..end]).ToArray();
    }

    private void LoseTrack()
    {
        _lost = true;
        CurrentRecords = ReadOnlyMemory<byte>.Empty;
        _pending = _pendingLongName = _pendingLongLink = _memberLongName = _memberLongLink = _extension = null;
    }

    private static long Padded(long size) => (size + BlockSize - 1) / BlockSize * BlockSize;

    /// <summary>The header checksum: the unsigned (or, from old writers, signed) byte sum with the field itself read as spaces.</summary>
    private bool ChecksumMatches()
    {
        if (ReadNumber(_header.AsSpan(148, 8)) is not { } recorded)
            return false;
        long unsigned = 0, signed = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte value = i is >= 148 and < 156 ? (byte)' ' : _header[i];
            unsigned += value;
            signed += (sbyte)value;
        }
        return recorded == unsigned || recorded == signed;
    }

    /// <summary>A numeric header field: octal text (leading spaces or NULs, ended by a space or NUL) or GNU base-256.</summary>
    private static long? ReadNumber(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            if ((field[0] & 0x40) != 0)
                return null; // negative
            long big = field[0] & 0x3f;
            foreach (byte b in field[1..])
            {
                if (big > long.MaxValue >> 8)
                    return null;
                big = (big << 8) | b;
            }
            return big;
        }
        int start = 0;
        while (start < field.Length && field[start] is (byte)' ' or 0)
            start++;
        long value = 0;
        int i = start;
        for (; i < field.Length && field[i] is >= (byte)'0' and <= (byte)'7'; i++)
            value = value * 8 + (field[i] - '0');
        if (i < field.Length && field[i] is not ((byte)' ' or 0))
            return null;
        return value;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
