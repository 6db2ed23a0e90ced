using Skiff.Images.References;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Registry;

/// <summary>
/// Pulls an image into a content store: resolves the reference to a manifest (choosing the platform's manifest from
/// an index), then downloads the config and layer blobs, several at a time. The manifest (and index) bytes are
/// stored too, under their digests. Unpacking and image metadata are not done here.
/// </summary>
public sealed class ImagePuller : IDisposable
{
    private readonly RegistryClientPool _clients;

    public ImagePuller(RegistryOptions? options = null)
    {
        _clients = new RegistryClientPool(options ?? new RegistryOptions());
    }

    /// <summary>The client this puller uses for <paramref name="registry"/> (one per registry, kept for token reuse).</summary>
    public RegistryClient ClientFor(string registry) => _clients.For(registry);

    public void Dispose() => _clients.Dispose();

    /// <summary>
    /// Pulls <paramref name="reference"/> for <paramref name="platform"/> (default: <see cref="Platform.Host"/>; a variant
    /// is compared only when given) into <paramref name="store"/>. Blobs already there are not downloaded again;
    /// <paramref name="progress"/> hears about each config and layer blob (from several threads at once).
    /// </summary>
    public async Task<PullResult> PullAsync(ImageReference reference, Platform? platform, ContentStore store,
        CancellationToken cancellationToken = default, IProgress<BlobProgress>? progress = null)
    {
        var client = ClientFor(reference.Domain);
        var resolved = await ResolveAsync(reference, platform, store, cancellationToken).ConfigureAwait(false);
        var manifest = resolved.Manifest;
        var blobs = new List<Descriptor>(manifest.Layers.Count + 1) { manifest.Config };
        blobs.AddRange(manifest.Layers);
        await Parallel.ForEachAsync(
            blobs.DistinctBy(blob => blob.Digest),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _clients.Options.MaxConcurrentDownloads), CancellationToken = cancellationToken },
            async (blob, token) => await client.FetchBlobAsync(reference.Path, blob, store, token, progress).ConfigureAwait(false)).ConfigureAwait(false);

        return new PullResult(reference.ToString(), resolved.Image.Digest, resolved.Image.MediaType, manifest.Config, manifest.Layers,
            resolved.Top.Index is null ? null : resolved.Top.Digest);
    }

    /// <summary>
    /// Resolves <paramref name="reference"/> to the image manifest for <paramref name="platform"/> (default: the host's)
    /// and stores the manifest (and index) bytes in <paramref name="store"/>; blobs are left to the caller.
    /// </summary>
    public async Task<ResolvedManifest> ResolveAsync(ImageReference reference, Platform? platform, ContentStore store, CancellationToken cancellationToken = default)
    {
        var client = ClientFor(reference.Domain);
        var top = await client.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        await StoreManifestAsync(store, top, cancellationToken).ConfigureAwait(false);

        var chosen = top;
        if (top.Index is { } index)
        {
            var wanted = platform ?? Platform.Host;
            var descriptor = SelectPlatform(index, wanted, reference);
            chosen = await client.GetManifestAsync(reference.Path, descriptor.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            if (chosen.Bytes.Length != descriptor.Size)
                throw new RegistryException(ErrorKind.InvalidArgument, $"manifest {reference.Name}@{descriptor.Digest}: {chosen.Bytes.Length} bytes, the index says {descriptor.Size}");
            if (chosen.Manifest is null)
                throw new RegistryException(ErrorKind.InvalidArgument, $"manifest {reference.Name}@{descriptor.Digest}: an index inside an index is not supported");
            await StoreManifestAsync(store, chosen, cancellationToken).ConfigureAwait(false);
        }
        return new ResolvedManifest(top, chosen);
    }

    /// <summary>The first image manifest of <paramref name="index"/> whose platform matches <paramref name="wanted"/>.</summary>
    public static Descriptor SelectPlatform(ImageIndex index, Platform wanted, ImageReference reference)
    {
        foreach (var entry in index.Manifests)
        {
            if (entry.Platform is { } candidate && MediaTypes.IsImageManifest(entry.MediaType) && wanted.Matches(candidate))
                return entry;
        }
        var available = index.Manifests
            .Where(entry => entry.Platform is not null && MediaTypes.IsImageManifest(entry.MediaType))
            .Select(entry => entry.Platform!.ToString())
            .Distinct()
            .ToList();
        throw new RegistryException(ErrorKind.NotFound, $"{reference}: no image for platform {wanted} (available: {(available.Count == 0 ? "none" : string.Join(", ", available))})");
    }

    private static async Task StoreManifestAsync(ContentStore store, ManifestResult manifest, CancellationToken cancellationToken)
    {
        using var bytes = new MemoryStream(manifest.Bytes, writable: false);
        await store.IngestAsync(manifest.Digest, manifest.Bytes.Length, bytes, cancellationToken).ConfigureAwait(false);
    }
}
