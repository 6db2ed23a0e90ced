using System.Formats.Tar;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Archive;

/// <summary>
/// Reads a docker-archive (legacy <c>&lt;id&gt;/layer.tar</c> layout or docker 25+'s <c>blobs/sha256</c> one) or an
/// oci-archive, plain, gzip or zstd compressed, from a stream that need not be seekable (stdin works), into a
/// content store: what <c>skiff load</c> does before the image service unpacks and records the images.
///
/// The archive is read once, in the order its entries come (manifest.json is often last): files under
/// <c>blobs/&lt;algorithm&gt;/</c> are ingested under the digest their name claims, which the store verifies; other
/// files (legacy layer tars and configs) under the digest computed from their bytes. Once the archive's index
/// is read, what it refers to is checked (present, sizes, diff IDs of docker-archive layers) and blobs nothing
/// refers to are removed. Any failure removes every blob this load added.
/// </summary>
public static class ImageArchiveReader
{
    private const int MaxLinkHops = 16;

    /// <summary>Loads every image of <paramref name="archive"/>; each comes with its tags (possibly none).</summary>
    public static IReadOnlyList<LoadedImage> Read(ContentStore content, Stream archive)
    {
        var staged = new StagedBlobs(content);
        try
        {
            var files = new ArchiveFiles();
            using (var tar = LayerDecompression.Open(archive, out _))
            {
                using var reader = new TarReader(tar, leaveOpen: true);
                while (reader.GetNextEntry(copyData: false) is { } entry)
                    files.Take(entry, staged);
            }
            var images = files.Metadata.ContainsKey(ManifestJson) ? ReadDockerArchive(files, staged)
                : files.Metadata.ContainsKey(IndexJson) ? ReadOciArchive(files, staged)
                : throw new ArchiveException("archive: neither manifest.json (docker-archive) nor index.json (oci-archive) in it: not an image archive, or truncated");
            if (images.Count == 0)
                throw new ArchiveException("archive: it lists no images");
            staged.RemoveAddedExcept(images.SelectMany(image => image.Layers.Append(image.Config).Select(d => d.Digest).Append(image.ManifestDigest)).ToHashSet());
            return images;
        }
        catch (Exception error)
        {
            staged.RollBack();
            if (error is ContentException)
                throw new ArchiveException($"archive is corrupt or truncated: {error.Message}", error);
            if (error is InvalidDataException or EndOfStreamException or FormatException or LayerException)
                throw new ArchiveException($"archive is not a tar archive, or is truncated: {error.Message}", error);
            throw;
        }
    }

    private const string ManifestJson = "manifest.json";
    private const string IndexJson = "index.json";
    private const string OciLayout = "oci-layout";

    private static List<LoadedImage> ReadDockerArchive(ArchiveFiles files, StagedBlobs staged)
    {
        var entries = ArchiveDocuments.Parse(files.Metadata[ManifestJson], ArchiveJsonContext.Default.ListDockerArchiveEntry, "archive manifest.json");
        var images = new List<LoadedImage>();
        // Images of one archive often share layers; each is decompressed and hashed once.
        var inspected = new Dictionary<Digest, (LayerCompression, Digest)>();
        foreach (var entry in entries)
        {
            if (entry.Config is null || entry.Layers is null)
                throw new ArchiveException("archive manifest.json: an image without Config or Layers");
            var configBlob = files.Blob(entry.Config, "config");
            // Legacy archives name the config <hex>.json: the name is its digest, so check it like a blobs/ name.
            string configName = Path.GetFileNameWithoutExtension(entry.Config);
            if (Digest.TryParse($"{configBlob.Digest.Algorithm}:{configName}", out var named) && named != configBlob.Digest)
                throw new ArchiveException($"archive: config {entry.Config} has digest {configBlob.Digest}");
            var config = ArchiveDocuments.Parse(ArchiveDocuments.Read(staged.Content, configBlob.Digest, "config"), ImageJsonContext.Default.ImageConfig, $"archive: config {entry.Config}");
            var diffIds = ArchiveDocuments.DiffIds(config, configBlob.Digest, entry.Layers.Count, entry.RepoTags is { Count: > 0 } tags ? tags[0] : configBlob.Digest.ToString());
            var layers = new List<Descriptor>();
            for (int i = 0; i < entry.Layers.Count; i++)
            {
                var blob = files.Blob(entry.Layers[i], "layer");
                if (!inspected.TryGetValue(blob.Digest, out var layer))
                    inspected[blob.Digest] = layer = staged.InspectLayer(blob.Digest);
                var (compression, diffId) = layer;
                if (diffId != diffIds[i])
                    throw new ArchiveException($"archive: layer {entry.Layers[i]} has diff ID {diffId}, the image config says {diffIds[i]}");
                layers.Add(StagedBlobs.LayerDescriptor(blob, compression));
            }
            var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            images.Add(staged.StoreWithManifest(configDescriptor, layers, diffIds, entry.RepoTags ?? []));
        }
        return images;
    }

    private static List<LoadedImage> ReadOciArchive(ArchiveFiles files, StagedBlobs staged)
    {
        if (files.Metadata.TryGetValue(OciLayout, out var layoutBytes))
        {
            var layout = ArchiveDocuments.Parse(layoutBytes, ArchiveJsonContext.Default.OciLayoutFile, "archive oci-layout");
            if (layout.ImageLayoutVersion != OciLayoutFile.CurrentVersion)
                throw new ArchiveException($"archive oci-layout: image layout version \"{layout.ImageLayoutVersion}\" is not supported (only {OciLayoutFile.CurrentVersion})");
        }
        var index = ArchiveDocuments.Parse(files.Metadata[IndexJson], ImageJsonContext.Default.ImageIndex, "archive index.json");
        var images = new List<LoadedImage>();
        foreach (var group in index.Manifests.GroupBy(descriptor => descriptor.Digest))
        {
            var descriptor = group.First();
            if (MediaTypes.IsIndex(descriptor.MediaType))
                throw new ArchiveException($"archive index.json: {descriptor.Digest} is a multi-platform index; only archives of single-platform images can be loaded");
            if (!MediaTypes.IsImageManifest(descriptor.MediaType))
                throw new ArchiveException($"archive index.json: {descriptor.Digest} has media type {descriptor.MediaType}, not an image manifest");
            files.Require(descriptor, "manifest");
            var manifest = ArchiveDocuments.Parse(ArchiveDocuments.Read(staged.Content, descriptor.Digest, "manifest"), ImageJsonContext.Default.ImageManifest, $"archive: manifest {descriptor.Digest}");
            files.Require(manifest.Config, "config");
            foreach (var layer in manifest.Layers)
                files.Require(layer, "layer");
            var config = ArchiveDocuments.Parse(ArchiveDocuments.Read(staged.Content, manifest.Config.Digest, "config"), ImageJsonContext.Default.ImageConfig, $"archive: config {manifest.Config.Digest}");
            var diffIds = ArchiveDocuments.DiffIds(config, manifest.Config.Digest, manifest.Layers.Count, descriptor.Digest.ToString());
            var tags = group.Select(Name).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            images.Add(new LoadedImage(descriptor.Digest, descriptor.MediaType, manifest.Config, manifest.Layers, diffIds, tags));
        }
        return images;
    }

    /// <summary>The image name an index entry carries: containerd's full-name annotation first, then the OCI ref name.</summary>
    private static string? Name(Descriptor descriptor)
    {
        if (descriptor.Annotations is not { } annotations)
            return null;
        if (annotations.TryGetValue(ImageArchiveWriter.AnnotationContainerdName, out var name) && name.Length > 0)
            return name;
        return annotations.TryGetValue(ImageArchiveWriter.AnnotationRefName, out name) && name.Length > 0 ? name : null;
    }

    /// <summary>What the archive held: its index documents in memory, every other regular file as a stored blob, and its links.</summary>
    private sealed class ArchiveFiles
    {
        private readonly Dictionary<string, BlobInfo> _blobs = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);

        public Dictionary<string, byte[]> Metadata { get; } = new(StringComparer.Ordinal);

        public void Take(TarEntry entry, StagedBlobs staged)
        {
            string name = Normalize(entry.Name);
            switch (entry.EntryType)
            {
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    var data = entry.DataStream ?? Stream.Null;
                    if (name is ManifestJson or IndexJson or OciLayout)
                        Metadata[name] = ArchiveDocuments.Read(data, entry.Length, $"archive {name}");
                    else if (BlobName(name) is { } digest)
                        _blobs[name] = staged.Ingest(digest, entry.Length, data);
                    else
                        _blobs[name] = staged.Add(data);
                    break;
                case TarEntryType.SymbolicLink:
                    // docker save links a layer.tar that several images share to its first copy.
                    _links[name] = Normalize(Path.Combine(Path.GetDirectoryName(name) ?? "", entry.LinkName));
                    break;
                case TarEntryType.HardLink:
                    _links[name] = Normalize(entry.LinkName);
                    break;
            }
        }

        /// <summary>The stored blob behind <paramref name="path"/> as manifest.json names it, following links.</summary>
        public BlobInfo Blob(string path, string what)
        {
            string name = Normalize(path);
            for (int hop = 0; hop <= MaxLinkHops; hop++)
            {
                if (_blobs.TryGetValue(name, out var blob))
                    return blob;
                if (!_links.TryGetValue(name, out var target))
                    break;
                name = target;
            }
            throw new ArchiveException($"archive: {what} {path} listed in manifest.json is missing");
        }

        /// <summary>Checks that the blob <paramref name="descriptor"/> names came in the archive, with its size.</summary>
        public void Require(Descriptor descriptor, string what)
        {
            string path = ImageArchiveWriter.BlobPath(descriptor.Digest);
            if (!_blobs.TryGetValue(path, out var blob))
                throw new ArchiveException($"archive: {what} {path} listed in the OCI index is missing");
            if (blob.Size != descriptor.Size)
                throw new ArchiveException($"archive: {what} {path} has {blob.Size} bytes, its descriptor says {descriptor.Size}");
        }

        private static Digest? BlobName(string name)
        {
            var parts = name.Split('/');
            return parts.Length == 3 && parts[0] == "blobs" && Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest) ? digest : null;
        }

        /// <summary>"./a//b/../c" → "a/c": archives are written with and without "./" prefixes.</summary>
        private static string Normalize(string path)
        {
            var parts = new List<string>();
            foreach (string part in path.Split('/'))
            {
                if (part is "" or ".")
                    continue;
                if (part == "..")
                {
                    if (parts.Count > 0)
                        parts.RemoveAt(parts.Count - 1);
                    continue;
                }
                parts.Add(part);
            }
            return string.Join('/', parts);
        }
    }
}
