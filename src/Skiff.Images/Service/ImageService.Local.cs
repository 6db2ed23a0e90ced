using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Metadata;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Service;

/// <summary>Images that arrive without a pull (load, import) and images that leave through a push or a save.</summary>
public sealed partial class ImageService
{
    /// <summary>
    /// Records an image whose blobs are already in the content store (from <see cref="ImageArchiveReader"/> or
    /// <see cref="RootfsImporter"/>): unpacks the layers not yet unpacked, bottom first, then records the image and
    /// its names in one transaction. The caller holds <see cref="LockShared"/> from before the blobs were stored,
    /// so garbage collection cannot take them in between.
    /// </summary>
    /// <param name="namedHere">The names were given by the user here (import, commit) rather than carried by the
    /// archive (load): docker then records the time as the image's LastTagTime, and only when there are names.</param>
    /// <param name="parentId">The image this one was made from here (commit), docker's Parent.</param>
    public ImageInfo Register(LoadedImage loaded, IEnumerable<string> names, bool namedHere = false, string? parentId = null)
    {
        var tags = names.Select(NormalizeName).ToList();
        var chainIds = ChainId.ForLayers(loaded.DiffIds);
        var layers = new List<LayerRecord>(loaded.Layers.Count);
        for (int index = 0; index < loaded.Layers.Count; index++)
        {
            var layer = loaded.Layers[index];
            var chainId = chainIds[index];
            long size;
            if (Snapshotter.HasLayer(chainId))
            {
                size = KnownSize(chainId) ?? Skiff.Storage.DirectoryUsage.Bytes(Snapshotter.LayerPath(chainId));
            }
            else
            {
                // In order, with the layers below already unpacked: the unpacker then gives directories the layer
                // does not list the mode and owner they have below (what an overlay shows), as umoci does.
                var lower = Enumerable.Range(0, index).Reverse().Select(i => Snapshotter.LayerPath(chainIds[i])).ToList();
                UnpackedLayer? unpacked = null;
                Snapshotter.CommitLayer(chainId, directory =>
                {
                    using var blob = Content.Open(layer.Digest);
                    unpacked = UnpackChecked(blob, directory, layer, loaded.DiffIds[index], lower);
                });
                size = unpacked?.Size ?? KnownSize(chainId) ?? Skiff.Storage.DirectoryUsage.Bytes(Snapshotter.LayerPath(chainId));
            }
            layers.Add(new LayerRecord(index, layer.Digest.ToString(), layer.Size, loaded.DiffIds[index].ToString(), chainId.ToString(), size));
        }

        var manifest = Content.Info(loaded.ManifestDigest);
        var blobs = new List<BlobRecord>
        {
            new(loaded.ManifestDigest.ToString(), manifest.Size, loaded.ManifestMediaType),
            new(loaded.Config.Digest.ToString(), loaded.Config.Size, loaded.Config.MediaType),
        };
        blobs.AddRange(loaded.Layers.Select(layer => new BlobRecord(layer.Digest.ToString(), layer.Size, layer.MediaType)));
        ImageConfig config;
        using (var stream = Content.Open(loaded.Config.Digest))
            config = ParseConfig(stream, loaded.Config.Digest.ToString());
        string imageId = loaded.Config.Digest.ToString();
        var record = new ImageRecord(imageId, loaded.ManifestDigest.ToString(), imageId, config.Created ?? DateTimeOffset.UnixEpoch,
            parentId, namedHere && tags.Count > 0 ? DateTimeOffset.UtcNow : null);
        Metadata.PutImage(record, layers, tags, blobs.DistinctBy(blob => blob.Digest), []);
        return Resolve(imageId);
    }

    /// <summary>Pushes a local image to <paramref name="destination"/> (default: the name it was asked by).</summary>
    public async Task<PushResult> PushAsync(string nameOrId, string? destination, PushOptions? options = null,
        IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new PushOptions();
        var image = Resolve(nameOrId);
        var target = ParseName(destination ?? nameOrId);
        // Blobs of an image pulled from the same registry can be mounted from the repository they came from.
        var mountFrom = image.RepoDigests.Concat(image.RepoTags)
            .Select(name => ImageReference.TryParse(name, out var reference) ? reference : null)
            .FirstOrDefault(reference => reference is not null && reference.Domain == target.Domain && reference.Path != target.Path);
        var registryOptions = new RegistryOptions
        {
            Credentials = _options.Credentials ?? new CredentialStore(options.AuthFile),
            InsecureRegistries = !options.TlsVerify || Registries.IsInsecure(target.Domain) ? [target.Domain] : [],
        };
        using var shared = LockShared();
        using var pusher = new ImagePusher(registryOptions);
        return await pusher.PushAsync(Content, Digest.Parse(image.ManifestDigest), target, mountFrom, cancellationToken, progress).ConfigureAwait(false);
    }

    /// <summary>A name as the store keeps it: <c>busybox</c> → <c>docker.io/library/busybox:latest</c>.</summary>
    public static string NormalizeName(string name) => TagName(ParseName(name));

    private static ImageReference ParseName(string name)
    {
        try
        {
            return ImageReference.Parse(name);
        }
        catch (InvalidReferenceException error)
        {
            throw new ImageException(ErrorKind.InvalidArgument, error.Message, error);
        }
    }

    /// <summary>Unpacks and checks the diff ID; a stream that is not a valid layer is a one-line <see cref="ImageException"/>.
    /// In parallel pulls the layers below are not there yet: <paramref name="lowerLayers"/> is then null.</summary>
    private static UnpackedLayer UnpackChecked(Stream stream, string directory, Descriptor layer, Digest diffId, IReadOnlyList<string>? lowerLayers)
    {
        UnpackedLayer unpacked;
        try
        {
            unpacked = new LayerUnpacker { LowerLayers = lowerLayers }.Unpack(stream, directory);
        }
        catch (Exception error) when (error is InvalidDataException or FormatException or ZstdSharp.ZstdException or LayerException)
        {
            throw new ImageException($"layer {layer.Digest}: {error.Message.ReplaceLineEndings(" ")}", error);
        }
        return unpacked.DiffId == diffId
            ? unpacked
            : throw new ImageException(ErrorKind.InvalidArgument, $"layer {layer.Digest}: its uncompressed content has digest {unpacked.DiffId}, but the image config says {diffId}");
    }
}

/// <summary>How a push reaches the registry.</summary>
public sealed record PushOptions
{
    /// <summary>false: plain HTTP to the destination registry.</summary>
    public bool TlsVerify { get; init; } = true;

    /// <summary>Credentials file instead of the usual lookup (podman's --authfile).</summary>
    public string? AuthFile { get; init; }
}
