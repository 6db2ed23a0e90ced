using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using ZstdSharp;

namespace Skiff.Images.Tests;

/// <summary>Builds layer tarballs in memory with TarWriter, so tests need no network and no external image.</summary>
internal sealed class LayerBuilder
{
    public static readonly DateTimeOffset Time = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private readonly MemoryStream _tar = new();
    private readonly TarWriter _writer;

    public LayerBuilder() => _writer = new TarWriter(_tar, TarEntryFormat.Pax, leaveOpen: true);

    public LayerBuilder Directory(string name, UnixFileMode mode = (UnixFileMode)0x1ed, int uid = 0, int gid = 0, DateTimeOffset? time = null)
        => Add(new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode, Uid = uid, Gid = gid, ModificationTime = time ?? Time });

    public LayerBuilder File(string name, string content, UnixFileMode mode = (UnixFileMode)0x1a4, int uid = 0, int gid = 0,
        IEnumerable<KeyValuePair<string, string>>? pax = null, DateTimeOffset? time = null)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name, pax ?? [])
        {
            Mode = mode, Uid = uid, Gid = gid, ModificationTime = time ?? Time,
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
        };
        return Add(entry);
    }

    public LayerBuilder Symlink(string name, string target, int uid = 0, int gid = 0)
        => Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Uid = uid, Gid = gid, ModificationTime = Time, Mode = (UnixFileMode)0x1ff });

    public LayerBuilder HardLink(string name, string target)
        => Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, ModificationTime = Time });

    public LayerBuilder Device(string name, TarEntryType type, int major, int minor, UnixFileMode mode = (UnixFileMode)0x1b6)
        => Add(new PaxTarEntry(type, name) { DeviceMajor = major, DeviceMinor = minor, Mode = mode, ModificationTime = Time });

    public LayerBuilder Fifo(string name, UnixFileMode mode = (UnixFileMode)0x1a4)
        => Add(new PaxTarEntry(TarEntryType.Fifo, name) { Mode = mode, ModificationTime = Time });

    public LayerBuilder Add(TarEntry entry)
    {
        _writer.WriteEntry(entry);
        return this;
    }

    public byte[] Tar()
    {
        _writer.Dispose();
        return _tar.ToArray();
    }

    public byte[] Gzip()
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Tar());
        return output.ToArray();
    }

    public byte[] Zstd() => new Compressor(3).Wrap(Tar()).ToArray();
}
