using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Content;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Service;

/// <summary>What <see cref="ImageService.Squash"/> squashes: an image, down to the base whose layers it keeps.</summary>
public sealed record SquashRequest
{
    /// <summary>The image whose layers above the base become one.</summary>
    public required string ImageId { get; init; }

    /// <summary>The image <see cref="ImageId"/> was built on: its layers and history entries are kept as they are.</summary>
    public required string BaseImageId { get; init; }

    /// <summary>The squashed image's creation time; now by default.</summary>
    public DateTimeOffset? Created { get; init; }
}

/// <summary>Squashed images: docker build's <c>--squash</c>.</summary>
public sealed partial class ImageService
{
    /// <summary>
    /// Makes an image of <see cref="SquashRequest.BaseImageId"/>'s layers plus one layer holding what the layers
    /// above them change, as docker's <c>SquashImage</c>: the diff of the image's root filesystem against the base's
    /// (<see cref="LayerChanges.Compare"/>, docker's naive diff), so that a file added by one step and deleted by a
    /// later one is in no layer and only what the base has gets a whiteout. The config is the image's, its history
    /// entries above the base's marked <c>empty_layer</c> and one entry added for the new layer
    /// (<c>merge IMAGE to BASE</c>, docker's comment). The image stays as it was; the new one names it as its parent.
    /// On any failure the blobs, snapshots and mount this made are removed again.
    /// </summary>
    public ImageInfo Squash(SquashRequest request)
    {
        using var shared = LockShared();
        var image = Resolve(request.ImageId);
        var baseImage = Resolve(request.BaseImageId);
        if (baseImage.Layers.Count > image.Layers.Count || baseImage.Layers.Zip(image.Layers).Any(pair => pair.First.DiffId != pair.Second.DiffId))
            throw new ImageException(ErrorKind.InvalidArgument,
                $"image {image.ShortId} is not built on image {baseImage.ShortId} (its layers do not start with that image's): squash it onto the image it was built from.");

        string key = "squash-" + Convert.ToHexStringLower(SecureRandom.Bytes(16));
        string target = Path.Combine(Root, "rootfs", key);
        var staged = new StagedBlobs(Content);
        Digest? newSnapshot = null;
        try
        {
            Snapshotter.Prepare(key, image.ChainIds);
            PrivateStore.EnsureDirectory(Path.Combine(Root, "rootfs"));
            PrivateStore.EnsureDirectory(target);
            Snapshotter.Mount(key, target);
            // The base's layers as an overlay stacks them, topmost first: what the diff compares the image's tree with.
            var below = baseImage.ChainIds.Reverse().Select(Snapshotter.LayerPath).ToList();
            Digest diffId = default;
            var layerBlob = staged.Add(output =>
            {
                using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
                using var tar = new HashingStream(gzip, Digest.Sha256);
                TreeArchiver.WriteChanges(target, LayerChanges.Compare(target, below), tar);
                diffId = tar.Digest;
            });
            var diffIds = baseImage.Layers.Select(layer => Digest.Parse(layer.DiffId)).Append(diffId).ToList();
            var chainId = ChainId.ForLayers(diffIds)[^1];
            if (!Snapshotter.HasLayer(chainId))
                newSnapshot = chainId;

            var configBlob = staged.Add(SquashedConfig(image, baseImage, diffIds, request.Created ?? DateTimeOffset.UtcNow));
            var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            var layers = Manifest(baseImage).Layers.Select(OciLayerDescriptor).Append(StagedBlobs.LayerDescriptor(layerBlob, LayerCompression.Gzip)).ToList();
            return Register(staged.StoreWithManifest(configDescriptor, layers, diffIds, []), [], namedHere: true, parentId: image.Id);
        }
        catch
        {
            if (newSnapshot is { } chainId)
                TryRemoveLayer(chainId);
            staged.RollBack();
            throw;
        }
        finally
        {
            Snapshotter.Remove(key);
            if (Directory.Exists(target))
                Directory.Delete(target);
        }
    }

    /// <summary>The image's config with the base's diff IDs plus the squashed one, and docker's squash history.</summary>
    private byte[] SquashedConfig(ImageInfo image, ImageInfo baseImage, IReadOnlyList<Digest> diffIds, DateTimeOffset created)
    {
        var document = ConfigDocument(image);
        int baseHistory = ConfigDocument(baseImage)["history"] is JsonArray kept ? kept.Count : 0;
        string time = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFK", System.Globalization.CultureInfo.InvariantCulture);
        document["created"] = time;
        var rootfs = document["rootfs"] as JsonObject ?? throw new ImageException(ErrorKind.InvalidArgument, $"image config {image.ConfigDigest}: it has no rootfs");
        rootfs["diff_ids"] = new JsonArray([.. diffIds.Select(id => (JsonNode)JsonValue.Create(id.ToString()))]);
        if (document["history"] is not JsonArray history)
            document["history"] = history = [];
        for (int index = baseHistory; index < history.Count; index++)
            if (history[index] is JsonObject entry)
                entry["empty_layer"] = true;
        history.Add((JsonNode)new JsonObject { ["created"] = time, ["comment"] = $"merge {image.Id} to {baseImage.Id}" });
        var bytes = new MemoryStream();
        // As DerivedConfig: '+' in timestamps must stay literal for Go's time parsing.
        using (var writer = new Utf8JsonWriter(bytes, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            document.WriteTo(writer);
        return bytes.ToArray();
    }

    private JsonObject ConfigDocument(ImageInfo image)
    {
        using var stream = Content.Open(Digest.Parse(image.ConfigDigest));
        return JsonNode.Parse(stream) as JsonObject ?? throw new ImageException(ErrorKind.InvalidArgument, $"image config {image.ConfigDigest}: not a JSON object");
    }
}
