using System.Collections.Concurrent;
using Skiff.Images.References;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Registry;

/// <summary>
/// Pushes an image from a content store to a registry: a manifest, or an index with the manifests it lists, and
/// every config and layer blob they reference (several at a time), then the manifests, children first, the top one
/// under the target's tag. Blobs the repository has are not sent; blobs in another repository of the same registry
/// are mounted from it when the caller says where they are.
/// </summary>
public sealed class ImagePusher : IDisposable
{
    private readonly RegistryClientPool _clients;

    public ImagePusher(RegistryOptions? options = null)
    {
        _clients = new RegistryClientPool(options ?? new RegistryOptions());
    }

    /// <summary>The client this pusher uses for <paramref name="registry"/> (one per registry, kept for token reuse).</summary>
    public RegistryClient ClientFor(string registry) => _clients.For(registry);

    public void Dispose() => _clients.Dispose();

    /// <summary>
    /// Pushes the manifest or index <paramref name="manifestDigest"/> of <paramref name="store"/> to
    /// <paramref name="target"/>: under its tag, or by digest when it names only a digest (which must then be
    /// <paramref name="manifestDigest"/>). Everything the manifest references must be in the store, which is checked
    /// before anything is sent: an index whose platforms were not all pulled cannot be pushed (push the platform's
    /// manifest instead). <paramref name="mountFrom"/>, when on the target's registry, is a repository that holds
    /// the blobs (e.g. where the image was pulled from): they are mounted from there instead of uploaded.
    /// <paramref name="progress"/> hears about each blob (from several threads at once).
    /// </summary>
    public async Task<PushResult> PushAsync(ContentStore store, Digest manifestDigest, ImageReference target, ImageReference? mountFrom = null,
        CancellationToken cancellationToken = default, IProgress<BlobProgress>? progress = null)
    {
        if (target.Tag is null && target.Digest is { } named && named != manifestDigest)
            throw new RegistryException(ErrorKind.InvalidArgument, $"push {target}: the reference names digest {named}, but the manifest pushed is {manifestDigest}");

        var manifests = new List<ManifestResult>();
        var blobs = new List<Descriptor>();
        CollectFromStore(store, manifestDigest, target.Name, manifests, blobs);
        var top = manifests[^1];

        var client = ClientFor(target.Domain);
        foreach (var blob in blobs)
            RegistryClient.StoredSize(store, blob, client.BlobWhat(target.Path, blob.Digest));
        string? mountRepository = mountFrom is not null && string.Equals(mountFrom.Domain, target.Domain, StringComparison.OrdinalIgnoreCase)
            ? mountFrom.Path
            : null;
        var pushed = new ConcurrentDictionary<Digest, BlobPushOutcome>();
        await Parallel.ForEachAsync(
            blobs.DistinctBy(blob => blob.Digest),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _clients.Options.MaxConcurrentUploads), CancellationToken = cancellationToken },
            async (blob, token) => pushed[blob.Digest] = await client.PushBlobAsync(target.Path, blob, store, mountRepository, token, progress).ConfigureAwait(false))
            .ConfigureAwait(false);

        // The registry refuses a manifest whose references it does not have: children go first, by digest.
        foreach (var child in manifests.Take(manifests.Count - 1))
            await client.PutManifestAsync(target.Path, child.Digest.ToString(), child.MediaType, child.Bytes, cancellationToken).ConfigureAwait(false);
        await client.PutManifestAsync(target.Path, target.Tag ?? manifestDigest.ToString(), top.MediaType, top.Bytes, cancellationToken).ConfigureAwait(false);

        return new PushResult(target.ToString(), top.Digest, top.MediaType,
            blobs.DistinctBy(blob => blob.Digest).Select(blob => new PushedBlob(blob, pushed[blob.Digest])).ToList());
    }

    /// <summary>
    /// Reads the manifest <paramref name="digest"/> and, for an index, the manifests it lists (depth first), appending
    /// each after its children to <paramref name="manifests"/> and their config and layer descriptors to <paramref name="blobs"/>.
    /// </summary>
    private static void CollectFromStore(ContentStore store, Digest digest, string name, List<ManifestResult> manifests, List<Descriptor> blobs)
    {
        string what = $"{name}@{digest}";
        if (!store.Exists(digest))
            throw new RegistryException(ErrorKind.NotFound, $"push {what}: the manifest is not in the content store {store.Root}");
        var size = store.Info(digest).Size;
        if (size > RegistryClient.MaxManifestSize)
            throw new RegistryException(ErrorKind.InvalidArgument, $"push {what}: {size} bytes, larger than the {RegistryClient.MaxManifestSize / (1 << 20)} MiB limit for manifests");
        byte[] bytes;
        using (var stream = store.Open(digest))
        {
            bytes = new byte[size];
            stream.ReadExactly(bytes);
        }
        // The content store keeps no media types: the document's mediaType decides, else its shape (OCI).
        var manifest = RegistryClient.ParseManifest($"push {what}", digest, bytes, contentType: null);
        if (manifest.Index is { } index)
        {
            var missing = index.Manifests.Where(child => !store.Exists(child.Digest)).ToList();
            if (missing.Count > 0)
                throw new RegistryException(ErrorKind.NotFound, $"push {what}: the index lists manifests that are not in the content store "
                    + $"({string.Join(", ", missing.Select(child => child.Platform is { } platform ? $"{platform} {child.Digest}" : child.Digest.ToString()))}); "
                    + "push one platform's manifest by its digest instead, or pull every platform first");
            foreach (var child in index.Manifests)
                CollectFromStore(store, child.Digest, name, manifests, blobs);
        }
        else
        {
            blobs.Add(manifest.Manifest!.Config);
            blobs.AddRange(manifest.Manifest.Layers);
        }
        manifests.Add(manifest);
    }
}
