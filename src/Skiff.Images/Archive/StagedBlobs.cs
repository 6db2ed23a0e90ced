using System.Formats.Tar;
using System.Text.Json;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Archive;

/// <summary>
/// The blobs one load or import added to the content store, so that a failure can remove exactly those (and
/// never a blob that was there before, which images may share) and leave the store as it found it.
/// </summary>
internal sealed class StagedBlobs(ContentStore content)
{
    private readonly HashSet<Digest> _added = [];

    public ContentStore Content => content;

    /// <summary>Stores content of a known digest, verified by the store.</summary>
    public BlobInfo Ingest(Digest digest, long size, Stream data)
    {
        bool existed = content.Exists(digest);
        var info = content.Ingest(digest, size, data);
        if (!existed)
            _added.Add(digest);
        return info;
    }

    /// <summary>Stores content whose digest is only known once it is read.</summary>
    public BlobInfo Add(Stream data)
    {
        var info = content.Add(data, out bool added);
        if (added)
            _added.Add(info.Digest);
        return info;
    }

    /// <summary>Stores content produced by <paramref name="write"/> (see <see cref="ContentStore.Add(Action{Stream}, out bool, string)"/>).</summary>
    public BlobInfo Add(Action<Stream> write)
    {
        var info = content.Add(write, out bool added);
        if (added)
            _added.Add(info.Digest);
        return info;
    }

    public BlobInfo Add(byte[] bytes) => Ingest(Digest.Compute(bytes), bytes.Length, new MemoryStream(bytes, writable: false));

    /// <summary>Removes the blobs this load added that no loaded image refers to (files of an archive that are not image content).</summary>
    public void RemoveAddedExcept(IReadOnlySet<Digest> keep)
    {
        foreach (var digest in _added.Where(digest => !keep.Contains(digest)).ToList())
        {
            content.Delete(digest);
            _added.Remove(digest);
        }
    }

    public void RollBack() => RemoveAddedExcept(new HashSet<Digest>());

    /// <summary>
    /// The compression of a stored layer blob and the digest of its uncompressed tar (its diff ID). The tar is read
    /// entry by entry, so a blob that is not a tar, or a truncated one, fails here rather than when it is unpacked.
    /// </summary>
    public (LayerCompression Compression, Digest DiffId) InspectLayer(Digest blob)
    {
        using var stream = content.Open(blob);
        using var plain = LayerDecompression.Open(stream, out var compression);
        using var hashing = new HashingStream(plain, blob.Algorithm);
        using (var reader = new TarReader(hashing, leaveOpen: true))
        {
            while (reader.GetNextEntry(copyData: false) is not null)
            {
            }
        }
        // The end-of-archive blocks and padding after the last entry are part of the diff ID too.
        hashing.CopyTo(Stream.Null);
        return (compression, hashing.Digest);
    }

    public static Descriptor LayerDescriptor(BlobInfo blob, LayerCompression compression) => new()
    {
        MediaType = compression switch
        {
            LayerCompression.Gzip => MediaTypes.OciLayerGzip,
            LayerCompression.Zstd => MediaTypes.OciLayerZstd,
            _ => MediaTypes.OciLayer,
        },
        Digest = blob.Digest,
        Size = blob.Size,
    };

    /// <summary>
    /// Writes an OCI manifest for a config and layers that came without one (a docker-archive image, an import)
    /// and stores its bytes, so the image has a manifest digest like a pulled one.
    /// </summary>
    public LoadedImage StoreWithManifest(Descriptor config, IReadOnlyList<Descriptor> layers, IReadOnlyList<Digest> diffIds, IReadOnlyList<string> tags)
    {
        var manifest = new ImageManifest { SchemaVersion = 2, MediaType = MediaTypes.OciManifest, Config = config, Layers = [.. layers] };
        var stored = Add(JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest));
        return new LoadedImage(stored.Digest, MediaTypes.OciManifest, config, layers, diffIds, tags);
    }
}
