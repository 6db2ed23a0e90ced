using System.Net;
using System.Net.Http.Headers;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Registry;

/// <summary>How a blob got into the target repository.</summary>
public enum BlobPushOutcome
{
    /// <summary>Its bytes were sent.</summary>
    Uploaded,

    /// <summary>The repository had it already (<c>HEAD</c> answered 200); nothing was sent.</summary>
    Existed,

    /// <summary>The registry linked it from another of its repositories (cross-repository mount); nothing was sent.</summary>
    Mounted,
}

/// <summary>The push side of the distribution-spec: blob existence checks, mounts, uploads and manifest PUTs.</summary>
public sealed partial class RegistryClient
{
    /// <summary><c>HEAD</c> on the blob: whether <paramref name="repository"/> has <paramref name="digest"/>.</summary>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        var url = BlobUrl(repository, digest);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, url), PushScope(repository), cancellationToken).ConfigureAwait(false);
        return await BlobExistsAsync(response, BlobWhat(repository, digest), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts the blob <paramref name="descriptor"/> of <paramref name="store"/> into <paramref name="repository"/>:
    /// nothing when the repository has it already; a cross-repository mount when <paramref name="mountFrom"/> names
    /// another repository of this registry that has it (a registry that cannot mount answers with an upload session,
    /// which is then used); else an upload, in one <c>PUT</c>, or in <c>PATCH</c> chunks for blobs larger than
    /// <see cref="RegistryOptions.ChunkedUploadThreshold"/>. A connection error or 5xx answer starts the blob over
    /// (after a new existence check) up to <see cref="RegistryOptions.MaxAttempts"/> times, with backoff.
    /// <paramref name="progress"/> hears the bytes sent and, once the registry has the blob, Done.
    /// </summary>
    public async Task<BlobPushOutcome> PushBlobAsync(string repository, Descriptor descriptor, ContentStore store, string? mountFrom = null,
        CancellationToken cancellationToken = default, IProgress<BlobProgress>? progress = null)
    {
        var digest = descriptor.Digest;
        string what = BlobWhat(repository, digest);
        long size = StoredSize(store, descriptor, what);
        if (mountFrom == repository)
            mountFrom = null;

        var outcome = await RetryAsync(what, async _ =>
        {
            var url = BlobUrl(repository, digest);
            using (var head = await SendOnceAsync(() => new HttpRequestMessage(HttpMethod.Head, url), PushScope(repository), cancellationToken).ConfigureAwait(false))
            {
                if (await BlobExistsAsync(head, what, cancellationToken).ConfigureAwait(false))
                    return BlobPushOutcome.Existed;
            }

            string start = $"v2/{repository}/blobs/uploads/";
            if (mountFrom is not null)
                start += $"?mount={digest}&from={Uri.EscapeDataString(mountFrom)}";
            var startUrl = new Uri(Endpoint, start);
            // A mount reads the source repository: its token must grant pull there too.
            string scope = mountFrom is null ? PushScope(repository) : $"{PushScope(repository)} {PullScope(mountFrom)}";
            Uri location;
            long chunkSize = _options.UploadChunkSize;
            using (var response = await SendOnceAsync(() => new HttpRequestMessage(HttpMethod.Post, startUrl), scope, cancellationToken).ConfigureAwait(false))
            {
                if (IsServerError(response))
                    throw ServerError(response);
                await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
                if (mountFrom is not null && response.StatusCode == HttpStatusCode.Created)
                    return BlobPushOutcome.Mounted;
                location = UploadLocation(response, what);
                if (response.Headers.TryGetValues("OCI-Chunk-Min-Length", out var values) && long.TryParse(values.FirstOrDefault(), out long minimum))
                    chunkSize = Math.Max(chunkSize, minimum);
            }

            bool chunked = size > _options.ChunkedUploadThreshold;
            if (chunked)
                location = await UploadChunksAsync(location, repository, descriptor, size, Math.Max(1, chunkSize), store, what, progress, cancellationToken).ConfigureAwait(false);
            var finish = WithQuery(location, "digest=" + Uri.EscapeDataString(digest.ToString()));
            using (var response = await SendOnceAsync(() => new HttpRequestMessage(HttpMethod.Put, finish)
            {
                // After chunks the PUT only closes the session; otherwise it carries the whole blob.
                Content = chunked ? new ByteArrayContent([]) : new StoredBlobContent(store, descriptor, 0, size, progress),
            }, PushScope(repository), cancellationToken).ConfigureAwait(false))
            {
                if (IsServerError(response))
                    throw ServerError(response);
                await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
            }
            return BlobPushOutcome.Uploaded;
        }, cancellationToken).ConfigureAwait(false);

        progress?.Report(new BlobProgress(descriptor, size, Done: true));
        return outcome;
    }

    /// <summary>
    /// <c>PUT</c>s a manifest or index under <paramref name="tagOrDigest"/> with <paramref name="mediaType"/> as its
    /// Content-Type (the registry stores and serves it as that type). Every blob and manifest it references must be in
    /// the repository already. Returns its digest.
    /// </summary>
    public async Task<Digest> PutManifestAsync(string repository, string tagOrDigest, string mediaType, byte[] bytes, CancellationToken cancellationToken = default)
    {
        string what = $"manifest {Registry}/{repository}{(tagOrDigest.Contains(':') ? "@" : ":")}{tagOrDigest}";
        if (bytes.Length > MaxManifestSize)
            throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: {bytes.Length} bytes, larger than the {MaxManifestSize / (1 << 20)} MiB limit for manifests");
        var digest = Digest.Compute(bytes);
        var url = new Uri(Endpoint, $"v2/{repository}/manifests/{tagOrDigest}");
        using var response = await SendAsync(() =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
        }, PushScope(repository), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values)
            && Digest.TryParse(values.FirstOrDefault(), out var stored)
            && stored.Algorithm == Digest.Sha256 && stored != digest)
            throw new RegistryException(ErrorKind.Internal, $"{what}: the registry stored it as {stored}, but its content has digest {digest}");
        return digest;
    }

    /// <summary>Sends <paramref name="size"/> bytes as <c>PATCH</c> chunks; returns the session's location for the closing <c>PUT</c>.</summary>
    private async Task<Uri> UploadChunksAsync(Uri location, string repository, Descriptor descriptor, long size, long chunkSize, ContentStore store,
        string what, IProgress<BlobProgress>? progress, CancellationToken cancellationToken)
    {
        for (long offset = 0; offset < size; offset += chunkSize)
        {
            long length = Math.Min(chunkSize, size - offset);
            var target = location;
            long from = offset;
            using var response = await SendOnceAsync(() =>
            {
                var content = new StoredBlobContent(store, descriptor, from, length, progress);
                // The distribution-spec's form, without the "bytes " unit of RFC 9110, so not the typed header.
                content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{from + length - 1}");
                return new HttpRequestMessage(HttpMethod.Patch, target) { Content = content };
            }, PushScope(repository), cancellationToken).ConfigureAwait(false);
            if (IsServerError(response))
                throw ServerError(response);
            await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
            location = UploadLocation(response, what);
        }
        return location;
    }

    private async Task<bool> BlobExistsAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
            return false;
        if (IsServerError(response))
            throw ServerError(response);
        await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The size of the blob in the store, which must be what its descriptor says.</summary>
    internal static long StoredSize(ContentStore store, Descriptor descriptor, string what)
    {
        if (!store.Exists(descriptor.Digest))
            throw new RegistryException(ErrorKind.NotFound, $"{what}: not in the content store {store.Root}");
        long size = store.Info(descriptor.Digest).Size;
        if (size != descriptor.Size)
            throw new RegistryException(ErrorKind.Internal, $"{what}: {size} bytes in the content store, the descriptor says {descriptor.Size}");
        return size;
    }

    /// <summary>Where the upload session continues: the answer's <c>Location</c>, which may be relative.</summary>
    private Uri UploadLocation(HttpResponseMessage response, string what)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException(ErrorKind.Internal, $"{what}: the registry answered {(int)response.StatusCode} without the Location of the upload session");
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage?.RequestUri ?? Endpoint, location);
    }

    private static Uri WithQuery(Uri location, string parameter)
    {
        var builder = new UriBuilder(location);
        string existing = builder.Query.TrimStart('?');
        builder.Query = existing.Length == 0 ? parameter : existing + "&" + parameter;
        return builder.Uri;
    }

    internal string BlobWhat(string repository, Digest digest) => $"blob {Registry}/{repository}@{digest}";

    private Uri BlobUrl(string repository, Digest digest) => new(Endpoint, $"v2/{repository}/blobs/{digest}");

    private static string PushScope(string repository) => $"repository:{repository}:pull,push";

    /// <summary>
    /// A range of a stored blob as a request body, opened only while it is being sent, so a request sent again (after
    /// a 401 or a redirect) reads it again, and no file stays open after the request.
    /// </summary>
    private sealed class StoredBlobContent : HttpContent
    {
        private readonly ContentStore _store;
        private readonly Descriptor _descriptor;
        private readonly long _offset;
        private readonly long _length;
        private readonly IProgress<BlobProgress>? _progress;

        public StoredBlobContent(ContentStore store, Descriptor descriptor, long offset, long length, IProgress<BlobProgress>? progress)
        {
            _store = store;
            _descriptor = descriptor;
            _offset = offset;
            _length = length;
            _progress = progress;
            Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
            => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var blob = _store.Open(_descriptor.Digest);
            await using (blob.ConfigureAwait(false))
            {
                blob.Seek(_offset, SeekOrigin.Begin);
                var buffer = new byte[(int)Math.Min(1 << 20, _length)];
                long sent = 0;
                while (sent < _length)
                {
                    int read = await blob.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, _length - sent)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        throw new RegistryException(ErrorKind.Internal, $"blob {_descriptor.Digest}: the content store's copy ended after {_offset + sent} bytes");
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    sent += read;
                    _progress?.Report(new BlobProgress(_descriptor, _offset + sent, Done: false));
                }
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return true;
        }
    }
}
