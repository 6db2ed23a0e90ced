using System.IO.Pipelines;
using Skiff.Images.Layers;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Metadata;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Service;

public sealed partial class ImageService
{
    /// <summary>
    /// Pulls <paramref name="name"/> (a short name is tried on each search registry in turn) and returns the local
    /// image. Each layer is downloaded and, in the same pass, decompressed and unpacked into a staging directory
    /// (layers in parallel: an overlay lower dir does not need its parent to be unpacked); the layer is renamed into
    /// place under its chain ID only once its blob's digest and its diff ID are verified. Layers already unpacked are
    /// skipped. The image, its layers, tags and blobs are recorded in one transaction at the end, so until then
    /// (and after any failure or kill) no image, tag or row is visible; committed files no row names are freed by the
    /// next garbage collection, and partial downloads are resumed by the next pull.
    /// </summary>
    public async Task<ImageInfo> PullAsync(string name, PullOptions? options = null, IProgress<PullProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new PullOptions();
        IReadOnlyList<ImageReference> candidates;
        try
        {
            candidates = Registries.Candidates(name);
        }
        catch (InvalidReferenceException error)
        {
            throw new ImageException(error.Message, error);
        }
        var failures = new List<string>();
        for (int i = 0; i < candidates.Count; i++)
        {
            try
            {
                return await PullReferenceAsync(candidates[i], options, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException error) when (i < candidates.Count - 1 && IsNotFound(error))
            {
                // Short names: "not here" on one search registry means try the next, as podman does.
                failures.Add(error.Message);
            }
            catch (RegistryException error) when (failures.Count > 0)
            {
                throw new ImageException($"pull {name}: not found on any search registry ({string.Join("; ", failures.Append(error.Message))})", error);
            }
        }
        throw new InvalidOperationException("a name has at least one candidate reference");
    }

    private static bool IsNotFound(RegistryException error) => error.StatusCode == System.Net.HttpStatusCode.NotFound;

    private async Task<ImageInfo> PullReferenceAsync(ImageReference reference, PullOptions options, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await PullUnlessDiskFullAsync(reference, options, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (IsDiskFull(error))
        {
            // ENOSPC arrives from many places (blob writes, unpacking, SQLite) wrapped in their own messages.
            throw new ImageException(ErrorKind.ResourceExhausted, $"pull {reference}: no space left on the device holding {Root}; free some space or pull into another store", error);
        }
    }

    private static bool IsDiskFull(Exception? error)
    {
        const int ENOSPC = 28;
        for (; error is not null; error = error.InnerException)
        {
            if (error is Skiff.Interop.SyscallException { Errno: ENOSPC } || (error is IOException && error.HResult == ENOSPC)
                || error is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 /* SQLITE_FULL */ })
                return true;
        }
        return false;
    }

    private async Task<ImageInfo> PullUnlessDiskFullAsync(ImageReference reference, PullOptions options, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        using var shared = LockShared();
        var registryOptions = new RegistryOptions
        {
            Credentials = _options.Credentials ?? new CredentialStore(),
            InsecureRegistries = !options.TlsVerify || Registries.IsInsecure(reference.Domain) ? [reference.Domain] : [],
            MaxConcurrentDownloads = _options.MaxConcurrentLayers,
        };
        using var puller = new ImagePuller(registryOptions);
        var resolved = await puller.ResolveAsync(reference, options.Platform, Content, cancellationToken).ConfigureAwait(false);
        var manifest = resolved.Manifest;
        var client = puller.ClientFor(reference.Domain);

        await client.FetchBlobAsync(reference.Path, manifest.Config, Content, cancellationToken).ConfigureAwait(false);
        ImageConfig config;
        using (var stream = Content.Open(manifest.Config.Digest))
            config = ParseConfig(stream, manifest.Config.Digest.ToString());
        var diffIds = ParseDiffIds(config, manifest, reference);
        var chainIds = ChainId.ForLayers(diffIds);

        var layers = new LayerRecord[manifest.Layers.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, manifest.Layers.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentLayers, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var layer = manifest.Layers[index];
                long size = await PullLayerAsync(client, reference, layer, diffIds[index], chainIds[index], progress, token).ConfigureAwait(false);
                layers[index] = new LayerRecord(index, layer.Digest.ToString(), layer.Size, diffIds[index].ToString(), chainIds[index].ToString(), size);
            }).ConfigureAwait(false);

        var blobs = new List<BlobRecord>
        {
            new(resolved.Top.Digest.ToString(), resolved.Top.Bytes.Length, resolved.Top.MediaType),
            new(resolved.Image.Digest.ToString(), resolved.Image.Bytes.Length, resolved.Image.MediaType),
            new(manifest.Config.Digest.ToString(), manifest.Config.Size, manifest.Config.MediaType),
        };
        blobs.AddRange(manifest.Layers.Select(layer => new BlobRecord(layer.Digest.ToString(), layer.Size, layer.MediaType)));
        string imageId = manifest.Config.Digest.ToString();
        var record = new ImageRecord(imageId, resolved.Image.Digest.ToString(), imageId, config.Created ?? DateTimeOffset.UnixEpoch);
        string[] tags = reference.Tag is null ? [] : [TagName(reference)];
        Metadata.PutImage(record, layers, tags, blobs.DistinctBy(blob => blob.Digest), [new RepoDigestRecord($"{reference.Name}@{resolved.RepoDigest}", resolved.RepoDigest.ToString())]);
        return Resolve(imageId);
    }

    private static List<Digest> ParseDiffIds(ImageConfig config, ImageManifest manifest, ImageReference reference)
    {
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw new ImageException(ErrorKind.InvalidArgument, $"{reference}: the manifest has {manifest.Layers.Count} layers but the image config lists {config.RootFs.DiffIds.Count} diff IDs");
        var diffIds = new List<Digest>(config.RootFs.DiffIds.Count);
        foreach (string value in config.RootFs.DiffIds)
        {
            diffIds.Add(Digest.TryParse(value, out var diffId, out string error)
                ? diffId
                : throw new ImageException(ErrorKind.InvalidArgument, $"{reference}: image config diff ID \"{value}\": {error}"));
        }
        return diffIds;
    }

    /// <summary>Makes sure layer blob and snapshot are there; returns the snapshot's data size.</summary>
    private async Task<long> PullLayerAsync(RegistryClient client, ImageReference reference, Descriptor layer, Digest diffId, Digest chainId,
        IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        string shortId = ImageInfo.ShortHex(layer.Digest.ToString());
        var blobProgress = progress is null ? null : new Progress(shortId, progress);
        if (Snapshotter.HasLayer(chainId))
        {
            bool present = Content.Exists(layer.Digest);
            if (!present)
                await client.FetchBlobAsync(reference.Path, layer, Content, cancellationToken, blobProgress).ConfigureAwait(false);
            progress?.Report(new PullProgress(shortId, present ? PullPhase.AlreadyExists : PullPhase.Complete, layer.Size, layer.Size));
            return KnownSize(chainId) ?? Skiff.Storage.DirectoryUsage.Bytes(Snapshotter.LayerPath(chainId));
        }

        progress?.Report(new PullProgress(shortId, PullPhase.Waiting, 0, layer.Size));
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20, useSynchronizationContext: false));
        var tap = new StreamingTap(pipe.Writer);
        var download = client.FetchBlobAsync(reference.Path, layer, Content, cancellationToken, blobProgress, tap.WriteAsync);
        var completion = download.ContinueWith(task => tap.Complete(task, layer.Size), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        // Unpacking blocks on the pipe, so it gets a thread of its own rather than a thread-pool one.
        var unpack = Task.Factory.StartNew(() =>
        {
            UnpackedLayer? unpacked = null;
            using var stream = pipe.Reader.AsStream();
            try
            {
                Snapshotter.CommitLayer(chainId, directory =>
                {
                    unpacked = UnpackChecked(stream, directory, layer, diffId, lowerLayers: null);
                    stream.CopyTo(Stream.Null); // anything after the compressed stream's end is still part of the blob
                    // The layer becomes visible only once the blob it came from is verified and stored.
                    download.GetAwaiter().GetResult();
                });
                return unpacked;
            }
            catch (Exception) when (tap.Detached)
            {
                // The bytes did not arrive as one stream from offset 0 (a resumed download, a blob another pull
                // stored, a restart): unpack from the stored blob instead.
                return null;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Corrupt bytes usually break decompression before the download's digest check sees them: when the
                // blob itself is wrong, that is the error to report, not the decompressor's.
                pipe.Reader.Complete();
                if (WaitForFailure(download) is { } downloadError)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(downloadError);
                throw;
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        UnpackedLayer? streamed;
        try
        {
            streamed = await unpack.ConfigureAwait(false);
        }
        finally
        {
            // Unblocks a download still writing into a pipe nobody reads after a failed unpack.
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await completion.ConfigureAwait(false);
        }
        await download.ConfigureAwait(false);
        if (streamed is not null)
        {
            progress?.Report(new PullProgress(shortId, PullPhase.Complete, layer.Size, layer.Size));
            return streamed.Size;
        }

        progress?.Report(new PullProgress(shortId, PullPhase.Extracting, layer.Size, layer.Size));
        UnpackedLayer? fromBlob = null;
        Snapshotter.CommitLayer(chainId, directory =>
        {
            using var blob = Content.Open(layer.Digest);
            fromBlob = UnpackChecked(blob, directory, layer, diffId, lowerLayers: null);
        });
        progress?.Report(new PullProgress(shortId, PullPhase.Complete, layer.Size, layer.Size));
        return fromBlob?.Size ?? KnownSize(chainId) ?? Skiff.Storage.DirectoryUsage.Bytes(Snapshotter.LayerPath(chainId));
    }

    private static Exception? WaitForFailure(Task download)
    {
        try
        {
            download.GetAwaiter().GetResult();
            return null;
        }
        catch (RegistryException error)
        {
            return error;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private long? KnownSize(Digest chainId)
    {
        string id = chainId.ToString();
        foreach (var (known, size) in Metadata.ListSnapshots())
        {
            if (known == id && size > 0)
                return size;
        }
        return null;
    }

    /// <summary>
    /// Feeds downloaded bytes into the unpacker's pipe while they form one stream from offset 0. Anything else
    /// detaches it: the pipe fails, and the layer is unpacked from the stored blob afterwards.
    /// </summary>
    private sealed class StreamingTap(PipeWriter writer)
    {
        private long _position;
        private volatile bool _detached;
        private bool _readerGone;

        public bool Detached => _detached;

        public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            if (_detached || _readerGone)
                return;
            if (offset != _position)
            {
                Detach();
                return;
            }
            _position += bytes.Length;
            var result = await writer.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            _readerGone = result.IsCompleted;
        }

        /// <summary>Ends the stream when the download is over: cleanly if every byte went through, else detached or failed.</summary>
        public void Complete(Task download, long size)
        {
            if (download.IsCompletedSuccessfully && !_detached && _position == size)
                writer.Complete();
            else if (download.IsCompletedSuccessfully || _detached)
                Detach();
            else
                writer.Complete(download.Exception?.InnerException ?? new OperationCanceledException());
        }

        private void Detach()
        {
            if (_detached)
                return;
            _detached = true;
            writer.Complete(new IOException("the download did not arrive as one stream; unpacking from the stored blob"));
        }
    }

    /// <summary>Turns a blob's download progress into layer progress.</summary>
    private sealed class Progress(string shortId, IProgress<PullProgress> target) : IProgress<BlobProgress>
    {
        public void Report(BlobProgress value)
        {
            if (!value.Done)
                target.Report(new PullProgress(shortId, PullPhase.Downloading, value.Bytes, value.Descriptor.Size));
        }
    }
}
