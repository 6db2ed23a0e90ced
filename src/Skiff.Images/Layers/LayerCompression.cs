using System.IO.Compression;
using ZstdSharp;

namespace Skiff.Images.Layers;

public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>
/// Recognizes a layer's compression from its first bytes rather than from the descriptor's media type, as
/// containerd and containers/image do: registries and docker-archives mislabel layers often enough (a
/// ".tar.gzip" media type over a plain tar) that trusting the label breaks real pulls.
/// </summary>
public static class LayerDecompression
{
    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xb5, 0x2f, 0xfd];
    private static ReadOnlySpan<byte> XzMagic => [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
    private static ReadOnlySpan<byte> Bzip2Magic => [0x42, 0x5a, 0x68];

    public static LayerCompression Detect(ReadOnlySpan<byte> start)
    {
        if (start.StartsWith(GzipMagic))
            return LayerCompression.Gzip;
        if (start.StartsWith(ZstdMagic))
            return LayerCompression.Zstd;
        if (start.StartsWith(XzMagic))
            throw new LayerException("layer is xz-compressed, which OCI layers do not use; only gzip, zstd and plain tar are supported");
        if (start.StartsWith(Bzip2Magic))
            throw new LayerException("layer is bzip2-compressed, which OCI layers do not use; only gzip, zstd and plain tar are supported");
        return LayerCompression.None;
    }

    /// <summary>Wraps <paramref name="layer"/> in the decompressor its magic bytes call for; reads only those bytes ahead.</summary>
    public static Stream Open(Stream layer, out LayerCompression compression)
    {
        var start = new byte[6];
        int filled = 0;
        int read;
        while (filled < start.Length && (read = layer.Read(start, filled, start.Length - filled)) > 0)
            filled += read;
        compression = Detect(start.AsSpan(0, filled));
        var whole = new PrefixedStream(start.AsMemory(0, filled), layer);
        return compression switch
        {
            LayerCompression.Gzip => new GZipStream(whole, CompressionMode.Decompress),
            LayerCompression.Zstd => new DecompressionStream(whole),
            // TarReader reads a 512-byte header at a time: unbuffered, a plain tar from a file costs a read(2) each.
            _ => new BufferedStream(whole, 1 << 16),
        };
    }

    /// <summary>A read-only stream that returns the bytes already taken for sniffing, then the rest of the source.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.IsEmpty)
                return rest.Read(buffer);
            int count = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..count].CopyTo(buffer);
            _prefix = _prefix[count..];
            return count;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_prefix.IsEmpty)
                return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
}
