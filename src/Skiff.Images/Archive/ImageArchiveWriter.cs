using System.Formats.Tar;
using System.Text.Json;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Archive;

/// <summary>
/// Writes images of a content store as a docker-archive or oci-archive tar, streamed (stdout works: nothing is
/// seeked), what <c>skiff save</c> produces.
///
/// docker-archive uses the layout docker 25+ writes: every file under <c>blobs/sha256/</c>, named by its digest,
/// listed by manifest.json (which is all <c>docker load</c> and <c>podman load</c> read) and repositories. Its layers
/// must be plain tars, so compressed blobs are decompressed on the way out; their size must be in the tar header
/// before their bytes, so each is decompressed twice (once to count and verify against the config's diff ID,
/// once to write) rather than staged in a temporary file as large as the layer.
///
/// oci-archive copies the manifest, config and layer blobs as they are stored, so the manifest digest is kept;
/// index.json has one entry per name (one unnamed entry for an untagged image). podman 4 loads an oci-archive
/// only when index.json has a single entry: one image with one name.
/// </summary>
public static class ImageArchiveWriter
{
    /// <summary>
    /// Writes <paramref name="images"/> to <paramref name="output"/> as <paramref name="format"/>. Blobs shared by
    /// several images are written once. Every manifest and config is read and checked before the first byte is
    /// written, so a missing image fails with nothing written; a layer found damaged while writing fails the save.
    /// </summary>
    public static void Write(ContentStore content, IReadOnlyList<ArchiveImage> images, ArchiveFormat format, Stream output)
    {
        if (images.Count == 0)
            throw new ArgumentException("save needs at least one image", nameof(images));
        var sources = images.Select(image => SourceImage.Read(content, image)).ToList();
        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var written = new HashSet<string>(StringComparer.Ordinal);
        if (format == ArchiveFormat.DockerArchive)
            WriteDockerArchive(content, sources, tar, written);
        else
            WriteOciArchive(content, sources, tar, written);
    }

    private static void WriteDockerArchive(ContentStore content, List<SourceImage> sources, TarWriter tar, HashSet<string> written)
    {
        var manifest = new List<DockerArchiveEntry>();
        var repositories = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var image in sources)
        {
            string configPath = BlobPath(image.Manifest.Config.Digest);
            if (written.Add(configPath))
                WriteFile(tar, configPath, new MemoryStream(image.ConfigBytes, writable: false));
            var layerPaths = new List<string>();
            for (int i = 0; i < image.Manifest.Layers.Count; i++)
            {
                var diffId = image.DiffIds[i];
                string layerPath = BlobPath(diffId);
                layerPaths.Add(layerPath);
                if (written.Add(layerPath))
                    WriteUncompressedLayer(content, tar, image.Manifest.Layers[i], diffId, layerPath);
            }
            manifest.Add(new DockerArchiveEntry { Config = configPath, RepoTags = [.. image.Tags], Layers = layerPaths });
            foreach (string tag in image.Tags)
            {
                var (repository, tagName) = SplitTag(tag);
                if (!repositories.TryGetValue(repository, out var tags))
                    repositories[repository] = tags = new Dictionary<string, string>(StringComparer.Ordinal);
                // The legacy format names an image by its top layer's v1 ID; docker 25+ writes the top diff ID there.
                tags[tagName] = image.DiffIds.Count > 0 ? image.DiffIds[^1].Encoded : image.Manifest.Config.Digest.Encoded;
            }
        }
        WriteJson(tar, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifest, ArchiveJsonContext.Default.ListDockerArchiveEntry));
        WriteJson(tar, "repositories", JsonSerializer.SerializeToUtf8Bytes(repositories, ArchiveJsonContext.Default.DictionaryStringDictionaryStringString));
    }

    private static void WriteOciArchive(ContentStore content, List<SourceImage> sources, TarWriter tar, HashSet<string> written)
    {
        WriteJson(tar, "oci-layout", JsonSerializer.SerializeToUtf8Bytes(
            new OciLayoutFile { ImageLayoutVersion = OciLayoutFile.CurrentVersion }, ArchiveJsonContext.Default.OciLayoutFile));
        var index = new List<Descriptor>();
        foreach (var image in sources)
        {
            foreach (var blob in image.Manifest.Layers.Prepend(image.Manifest.Config))
            {
                string path = BlobPath(blob.Digest);
                if (written.Add(path))
                {
                    using var stream = content.Open(blob.Digest);
                    WriteFile(tar, path, stream);
                }
            }
            string manifestPath = BlobPath(image.ManifestDigest);
            if (written.Add(manifestPath))
                WriteFile(tar, manifestPath, new MemoryStream(image.ManifestBytes, writable: false));
            var descriptor = new Descriptor
            {
                MediaType = image.Manifest.MediaType ?? MediaTypes.OciManifest,
                Digest = image.ManifestDigest,
                Size = image.ManifestBytes.Length,
            };
            if (image.Tags.Count == 0)
                index.Add(descriptor);
            // podman and skopeo read the name from ref.name, containerd and docker from io.containerd.image.name;
            // both carry the full name so every loader restores the same one.
            foreach (string tag in image.Tags)
                index.Add(descriptor with { Annotations = new() { [AnnotationRefName] = tag, [AnnotationContainerdName] = tag } });
        }
        var document = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = index };
        WriteJson(tar, "index.json", JsonSerializer.SerializeToUtf8Bytes(document, ImageJsonContext.Default.ImageIndex));
    }

    internal const string AnnotationRefName = "org.opencontainers.image.ref.name";
    internal const string AnnotationContainerdName = "io.containerd.image.name";

    /// <summary><c>blobs/&lt;algorithm&gt;/&lt;hex&gt;</c>: the OCI layout path of a blob, also used inside docker-archives.</summary>
    internal static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    private static void WriteUncompressedLayer(ContentStore content, TarWriter tar, Descriptor layer, Digest diffId, string path)
    {
        long size;
        using (var blob = content.Open(layer.Digest))
        using (var plain = LayerDecompression.Open(blob, out var compression))
        {
            if (compression == LayerCompression.None)
            {
                // Already a plain tar: its blob digest is its diff ID, verified when it was stored.
                if (layer.Digest != diffId)
                    throw new ArchiveException($"layer {layer.Digest}: an uncompressed layer whose digest is not the config's diff ID {diffId}");
                blob.Position = 0;
                WriteFile(tar, path, blob);
                return;
            }
            using var hashing = new HashingStream(plain, diffId.Algorithm);
            hashing.CopyTo(Stream.Null);
            if (hashing.Digest != diffId)
                throw new ArchiveException($"layer {layer.Digest}: uncompressed content has digest {hashing.Digest}, the image config says {diffId}");
            size = hashing.BytesRead;
        }
        using var again = content.Open(layer.Digest);
        using var decompressed = LayerDecompression.Open(again, out _);
        WriteFile(tar, path, new KnownLengthStream(decompressed, size, layer.Digest));
    }

    private static void WriteJson(TarWriter tar, string name, byte[] json) => WriteFile(tar, name, new MemoryStream(json, writable: false));

    private static void WriteFile(TarWriter tar, string name, Stream data)
    {
        // Fixed owner, mode and time: the archive of the same images is the same bytes on every save.
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = (UnixFileMode)0x1a4,
            ModificationTime = DateTimeOffset.UnixEpoch,
            DataStream = data,
        });
    }

    /// <summary>Splits <c>host:port/repo:tag</c> at the tag's colon (checked to be after the last slash).</summary>
    private static (string Repository, string Tag) SplitTag(string tag)
    {
        int colon = tag.LastIndexOf(':');
        return (tag[..colon], tag[(colon + 1)..]);
    }

    /// <summary>An image's manifest and config, read and checked before anything is written.</summary>
    private sealed record SourceImage(Digest ManifestDigest, byte[] ManifestBytes, ImageManifest Manifest, byte[] ConfigBytes,
        IReadOnlyList<Digest> DiffIds, IReadOnlyList<string> Tags)
    {
        public static SourceImage Read(ContentStore content, ArchiveImage image)
        {
            foreach (string tag in image.Tags)
            {
                if (tag.Contains('@') || tag.LastIndexOf(':') < Math.Max(0, tag.LastIndexOf('/')))
                    throw new ArgumentException($"save: \"{tag}\" is not a full name:tag reference", nameof(image));
            }
            byte[] manifestBytes = ArchiveDocuments.Read(content, image.ManifestDigest, "manifest");
            var manifest = ArchiveDocuments.Parse(manifestBytes, ImageJsonContext.Default.ImageManifest, $"manifest {image.ManifestDigest}");
            if (!MediaTypes.IsImageManifest(manifest.MediaType ?? MediaTypes.OciManifest))
                throw new ArchiveException($"manifest {image.ManifestDigest}: media type {manifest.MediaType} is not an image manifest");
            byte[] configBytes = ArchiveDocuments.Read(content, manifest.Config.Digest, "config");
            var config = ArchiveDocuments.Parse(configBytes, ImageJsonContext.Default.ImageConfig, $"config {manifest.Config.Digest}");
            var diffIds = ArchiveDocuments.DiffIds(config, manifest.Config.Digest, manifest.Layers.Count, image.ManifestDigest.ToString());
            foreach (var layer in manifest.Layers)
            {
                if (!content.Exists(layer.Digest))
                    throw new ArchiveException($"image {image.ManifestDigest}: layer {layer.Digest} is not in the content store (pull the image again)");
            }
            return new SourceImage(image.ManifestDigest, manifestBytes, manifest, configBytes, diffIds, image.Tags);
        }
    }

    /// <summary>
    /// A decompressed layer presented with the length measured in the first pass, as TarWriter needs the size of
    /// an entry before its data on a stream it cannot seek back in. A blob that now yields a different number of
    /// bytes fails the save instead of writing a tar whose header lies.
    /// </summary>
    private sealed class KnownLengthStream(Stream inner, long length, Digest blob) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer);
            _position += read;
            if (_position > length || (read == 0 && buffer.Length > 0 && _position < length))
                throw new ArchiveException($"layer {blob}: changed while being saved ({_position} bytes, {length} expected)");
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
