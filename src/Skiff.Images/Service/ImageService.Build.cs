using System.IO.Compression;
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

/// <summary>
/// What <see cref="ImageService.Prefix"/> makes: an image of the first layers and history entries of another, with
/// a run configuration of its own. A build takes a step's result from a <c>--cache-from</c> image so.
/// </summary>
public sealed record PrefixRequest
{
    /// <summary>The image whose first layers and history entries are taken.</summary>
    public required string ImageId { get; init; }

    /// <summary>How many layers, bottom first.</summary>
    public required int Layers { get; init; }

    /// <summary>How many history entries, oldest first: as many not marked <c>empty_layer</c> as <see cref="Layers"/>.</summary>
    public required int History { get; init; }

    public required ImageExecutionConfig Config { get; init; }

    /// <summary>The image the new one was made from here (docker's Parent): the build step before.</summary>
    public string? ParentId { get; init; }
}

/// <summary>Images a build makes besides its steps' commits: squashed ones, prefixes of a cache image, and ones with an extra config field.</summary>
public sealed partial class ImageService
{
    /// <summary>
    /// Makes an image of <see cref="PrefixRequest.ImageId"/>'s first layers (the same blobs, so no byte is copied)
    /// and history entries, the run configuration given, the time of the last history entry taken, and no field
    /// of the image's config besides those every image has (architecture, os, ...). Throws an
    /// <see cref="ImageException"/> of kind InvalidArgument when the counts do not describe a prefix of the image.
    /// </summary>
    public ImageInfo Prefix(PrefixRequest request)
    {
        using var shared = LockShared();
        var image = Resolve(request.ImageId);
        var document = ConfigDocument(image);
        var history = document["history"] as JsonArray ?? [];
        if (request.Layers < 0 || request.Layers > image.Layers.Count || request.History < 0 || request.History > history.Count
            || history.Take(request.History).Count(entry => !(entry is JsonObject fields && fields["empty_layer"] is JsonValue flag && flag.TryGetValue(out bool empty) && empty)) != request.Layers)
            throw new ImageException(ErrorKind.InvalidArgument,
                $"image {image.ShortId} has no prefix of {request.Layers} layers and {request.History} history entries: its cache metadata does not describe it.");
        foreach (var field in document.Select(property => property.Key).Except(KeptFields).ToList())
            document.Remove(field);
        document["rootfs"] = new JsonObject
        {
            ["type"] = "layers",
            ["diff_ids"] = new JsonArray([.. image.Layers.Take(request.Layers).Select(layer => (JsonNode)JsonValue.Create(layer.DiffId))]),
        };
        var kept = new JsonArray([.. history.Take(request.History).Select(entry => entry?.DeepClone())]);
        document["history"] = kept;
        if (kept.Count > 0 && kept[^1]?["created"] is { } created)
            document["created"] = created.DeepClone();
        SetRunConfig(document, request.Config);
        return StoreWithLayersOf(image, request.Layers, document, request.ParentId);
    }

    /// <summary>The fields of an image config that describe any prefix of the image (the rest is the image's own).</summary>
    private static readonly string[] KeptFields = ["architecture", "os", "os.version", "os.features", "variant", "author", "config", "created", "rootfs", "history"];

    /// <summary>
    /// Makes an image of <paramref name="imageId"/>'s layers, history and configuration with the top-level config
    /// field <paramref name="field"/> set to <paramref name="value"/> (a build's inline cache metadata), naming the
    /// image as its parent.
    /// </summary>
    public ImageInfo WithConfigField(string imageId, string field, JsonNode value)
    {
        using var shared = LockShared();
        var image = Resolve(imageId);
        var document = ConfigDocument(image);
        document[field] = value.DeepClone();
        return StoreWithLayersOf(image, image.Layers.Count, document, image.Id);
    }

    /// <summary>Records an image of <paramref name="image"/>'s first <paramref name="layers"/> layers (their blobs as they are) and the config <paramref name="document"/>; the config and manifest blobs are removed again on failure.</summary>
    private ImageInfo StoreWithLayersOf(ImageInfo image, int layers, JsonObject document, string? parentId)
    {
        var staged = new StagedBlobs(Content);
        try
        {
            var configBlob = staged.Add(ConfigBytes(document));
            var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            var descriptors = Manifest(image).Layers.Take(layers).Select(OciLayerDescriptor).ToList();
            var diffIds = image.Layers.Take(layers).Select(layer => Digest.Parse(layer.DiffId)).ToList();
            return Register(staged.StoreWithManifest(configDescriptor, descriptors, diffIds, []), [], namedHere: true, parentId: parentId);
        }
        catch
        {
            staged.RollBack();
            throw;
        }
    }

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
            PrivateStore.EnsureDirectory(Path.Combine(Root, "rootfs"));
            PrivateStore.EnsureDirectory(target);
            IReadOnlyList<FileChange> changes = [];
            if (image.Layers.Count > baseImage.Layers.Count)
            {
                // A read-only view: a writable snapshot's root would be its new upper dir, with a new mtime every time,
                // and a squash of the same image would not be the same layer.
                Snapshotter.View(key, image.ChainIds);
                Snapshotter.Mount(key, target);
                // The base's layers as an overlay stacks them, topmost first: what the diff compares the image's tree with.
                changes = LayerChanges.Compare(target, [.. baseImage.ChainIds.Reverse().Select(Snapshotter.LayerPath)]);
            }
            Digest diffId = default;
            var layerBlob = staged.Add(output =>
            {
                using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
                using var tar = new HashingStream(gzip, Digest.Sha256);
                TreeArchiver.WriteChanges(target, changes, tar);
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
        return ConfigBytes(document);
    }

    /// <summary>The image's config document as stored, with what <see cref="ImageConfig"/> does not model (history entries' flags, extra fields).</summary>
    public JsonObject ConfigDocument(ImageInfo image)
    {
        using var stream = Content.Open(Digest.Parse(image.ConfigDigest));
        return JsonNode.Parse(stream) as JsonObject ?? throw new ImageException(ErrorKind.InvalidArgument, $"image config {image.ConfigDigest}: not a JSON object");
    }
}
