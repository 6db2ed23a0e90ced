using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Archive;

/// <summary>The JSON documents of images and archives (manifests, configs, index.json, manifest.json): read whole, with a size limit.</summary>
internal static class ArchiveDocuments
{
    /// <summary>Far above any real manifest or config, low enough that a hostile one cannot exhaust memory.</summary>
    public const int MaxSize = 16 << 20;

    /// <summary>Reads the stored blob <paramref name="digest"/> (a <paramref name="what"/>: "manifest", "config") whole.</summary>
    public static byte[] Read(ContentStore content, Digest digest, string what)
    {
        if (!content.Exists(digest))
            throw new ArchiveException($"{what} {digest} is not in the content store (pull the image again)");
        using var stream = content.Open(digest);
        return Read(stream, stream.Length, $"{what} {digest}");
    }

    /// <summary>Reads <paramref name="length"/> bytes of a document named <paramref name="what"/> from <paramref name="stream"/>.</summary>
    public static byte[] Read(Stream stream, long length, string what)
    {
        if (length > MaxSize)
            throw new ArchiveException($"{what}: {length} bytes, more than the {MaxSize >> 20} MiB such a document may have");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public static T Parse<T>(byte[] json, JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new ArchiveException($"{what}: null instead of a JSON document");
        }
        catch (JsonException error)
        {
            throw new ArchiveException($"{what}: invalid JSON: {error.Message}", error);
        }
    }

    /// <summary>Parses the diff IDs of an image config, which must match its layer count.</summary>
    public static List<Digest> DiffIds(ImageConfig config, Digest configDigest, int layerCount, string image)
    {
        var diffIds = new List<Digest>();
        foreach (string diffId in config.RootFs.DiffIds)
        {
            diffIds.Add(Digest.TryParse(diffId, out var parsed, out var error)
                ? parsed
                : throw new ArchiveException($"config {configDigest}: diff ID \"{diffId}\": {error}"));
        }
        if (diffIds.Count != layerCount)
            throw new ArchiveException($"image {image}: {layerCount} layers but {diffIds.Count} diff IDs in its config {configDigest}");
        return diffIds;
    }
}
