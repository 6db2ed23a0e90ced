using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Skiff.Images.References;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Registry;

/// <summary>
/// The pull side of the OCI distribution-spec for one registry: <c>GET /v2/</c>, manifests and blobs, with the
/// authentication the registry asks for in <c>WWW-Authenticate</c> (Bearer tokens, cached per scope, or Basic).
/// TLS with the system CAs unless the registry is listed as insecure in <see cref="RegistryOptions"/>, which means
/// plain HTTP. Safe for concurrent use.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    /// <summary>The largest manifest accepted (distribution-spec: registries SHOULD accept at least 4 MiB).</summary>
    public const int MaxManifestSize = 4 << 20;

    private const int MaxErrorBodySize = 64 << 10;

    private static readonly string[] ManifestAcceptTypes =
        [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList];

    private readonly RegistryOptions _options;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private volatile AuthenticationHeaderValue? _basic;

    public RegistryClient(string registry, RegistryOptions? options = null)
        : this(registry, options, handler: null)
    {
    }

    /// <summary>With <paramref name="handler"/> null, a SocketsHttpHandler following redirects is used.</summary>
    internal RegistryClient(string registry, RegistryOptions? options, HttpMessageHandler? handler)
    {
        if (string.IsNullOrEmpty(registry))
            throw new ArgumentException("a registry host is needed", nameof(registry));
        _options = options ?? new RegistryOptions();
        Registry = registry;
        // Docker Hub's API lives at registry-1.docker.io; references and credentials say docker.io.
        string host = registry == ImageReference.DefaultDomain ? "registry-1.docker.io" : registry;
        string scheme = _options.IsInsecure(registry) ? "http" : "https";
        Endpoint = new Uri($"{scheme}://{host}/");
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 10,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            // Blob bodies can take long; a stalled connect is bounded by ConnectTimeout.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(_options.UserAgent);
    }

    /// <summary>The registry as references name it: <c>docker.io</c>, <c>localhost:5000</c>.</summary>
    public string Registry { get; }

    /// <summary>Base URL of the API: <c>https://registry-1.docker.io/</c>.</summary>
    public Uri Endpoint { get; }

    public void Dispose()
    {
        _http.Dispose();
        _authLock.Dispose();
    }

    /// <summary><c>GET /v2/</c>, authenticating when asked: succeeds when the registry speaks the v2 API and accepts us.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var url = new Uri(Endpoint, "v2/");
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), scope: null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"ping {Registry}", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="GetManifestAsync(string, string, CancellationToken)"/>
    public Task<ManifestResult> GetManifestAsync(ImageReference reference, CancellationToken cancellationToken = default)
    {
        if (!string.Equals(reference.Domain, Registry, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{reference} is not on registry {Registry}", nameof(reference));
        string tagOrDigest = reference.Digest?.ToString() ?? reference.Tag ?? ImageReference.DefaultTag;
        return GetManifestAsync(reference.Path, tagOrDigest, cancellationToken);
    }

    /// <summary>
    /// Fetches the manifest <paramref name="tagOrDigest"/> of <paramref name="repository"/>: an OCI manifest or index,
    /// or a Docker schema2 manifest or manifest list. When asked by digest the bytes must have that digest; by tag, the
    /// digest is computed (and must equal a <c>Docker-Content-Digest</c> of the same algorithm). Larger than
    /// <see cref="MaxManifestSize"/>, schema 1 or any other media type: a <see cref="RegistryException"/>.
    /// </summary>
    public async Task<ManifestResult> GetManifestAsync(string repository, string tagOrDigest, CancellationToken cancellationToken = default)
    {
        string what = $"manifest {Registry}/{repository}{(tagOrDigest.Contains(':') ? "@" : ":")}{tagOrDigest}";
        Digest? expected = null;
        if (tagOrDigest.Contains(':'))
            expected = Digest.TryParse(tagOrDigest, out var parsed, out var digestError)
                ? parsed
                : throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: {digestError}");

        var url = new Uri(Endpoint, $"v2/{repository}/manifests/{tagOrDigest}");
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            foreach (string type in ManifestAcceptTypes)
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            return request;
        }, PullScope(repository), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);

        if (response.Content.Headers.ContentLength is long declared && declared > MaxManifestSize)
            throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: {declared} bytes, larger than the {MaxManifestSize / (1 << 20)} MiB limit for manifests");
        byte[] bytes = await ReadLimitedAsync(response.Content, MaxManifestSize, cancellationToken).ConfigureAwait(false)
            ?? throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: larger than the {MaxManifestSize / (1 << 20)} MiB limit for manifests");

        Digest digest;
        if (expected is { } wanted)
        {
            digest = Digest.Compute(bytes, wanted.Algorithm);
            if (digest != wanted)
                throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: the registry sent content with digest {digest}");
        }
        else
        {
            digest = Digest.Compute(bytes);
            if (response.Headers.TryGetValues("Docker-Content-Digest", out var values)
                && Digest.TryParse(values.FirstOrDefault(), out var announced)
                && announced.Algorithm == Digest.Sha256 && announced != digest)
                throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: the registry announced digest {announced} but sent content with digest {digest}");
        }

        return ParseManifest(what, digest, bytes, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// Reads <paramref name="bytes"/> (whose digest is <paramref name="digest"/>) as an OCI manifest or index, or a
    /// Docker schema2 manifest or manifest list. Without a specific <paramref name="contentType"/> (none, or a generic
    /// JSON or binary type) the type comes from the document's <c>mediaType</c>, else from its shape. Schema 1 and any
    /// other type: a <see cref="RegistryException"/> about <paramref name="what"/>.
    /// </summary>
    internal static ManifestResult ParseManifest(string what, Digest digest, byte[] bytes, string? contentType)
    {
        ManifestProbe probe;
        try
        {
            probe = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ManifestProbe)
                ?? throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: the body is JSON null, not a manifest");
        }
        catch (JsonException error)
        {
            throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: not valid JSON ({OneLine(error.Message)})", error);
        }

        string? mediaType = contentType;
        if (mediaType is null or "application/json" or "text/plain" or "application/octet-stream")
        {
            mediaType = probe.MediaType
                ?? (probe.Manifests is not null ? MediaTypes.OciIndex
                    : probe.Config is not null ? MediaTypes.OciManifest
                    : probe.FsLayers is not null || probe.SchemaVersion == 1 ? MediaTypes.DockerSchema1Manifest
                    : null);
        }
        if (MediaTypes.IsSchema1(mediaType) || probe.SchemaVersion == 1)
            throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: Docker schema 1 manifests are not supported (push the image again with a current docker, podman or skopeo)");
        if (!MediaTypes.IsImageManifest(mediaType) && !MediaTypes.IsIndex(mediaType))
            throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: unsupported media type \"{mediaType ?? "(none)"}\" (expected an OCI or Docker schema2 manifest or index)");

        try
        {
            if (MediaTypes.IsIndex(mediaType!))
            {
                var index = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageIndex)
                    ?? throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: the body is JSON null");
                return new ManifestResult(digest, mediaType!, bytes, null, index);
            }
            var manifest = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageManifest)
                ?? throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: the body is JSON null");
            if (manifest.SchemaVersion != 2)
                throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: schemaVersion {manifest.SchemaVersion}, expected 2");
            return new ManifestResult(digest, mediaType!, bytes, manifest, null);
        }
        catch (JsonException error)
        {
            throw new RegistryException(ErrorKind.InvalidArgument, $"{what}: invalid {mediaType}: {OneLine(error.Message)}", error);
        }
    }

    /// <summary>
    /// Downloads the blob <paramref name="descriptor"/> of <paramref name="repository"/> into <paramref name="store"/>
    /// through a resumable ingest, which verifies size and digest before the blob becomes visible. Redirects are
    /// followed; a cut connection or a 5xx answer is retried (up to <see cref="RegistryOptions.MaxAttempts"/>, with
    /// backoff) from where it stopped with <c>Range: bytes=N-</c>; the partial data survives a failed call, so a later
    /// call resumes too. Wrong content is never retried: it is a <see cref="RegistryException"/> and nothing is stored.
    /// </summary>
    /// <remarks>
    /// Partial data is keyed by digest alone, so a download of the same blob from another repository resumes it too.
    /// While another writer (another pull, in this process or another) holds that ingest, this waits for it, up to
    /// <see cref="RegistryOptions.IngestLockTimeout"/>, and returns its blob when it commits. <paramref name="progress"/>
    /// hears the bytes held so far (also after resuming) and once more when the blob is complete. <paramref name="tap"/>
    /// sees every downloaded chunk after it was written to the ingest, with its offset in the blob, so a consumer can
    /// decompress while downloading; a resumed or restarted download shows as an offset it did not expect, and a blob
    /// another writer committed (or that was already there) as no chunks at all.
    /// </remarks>
    public async Task<BlobInfo> FetchBlobAsync(string repository, Descriptor descriptor, ContentStore store,
        CancellationToken cancellationToken = default, IProgress<BlobProgress>? progress = null, BlobTap? tap = null)
    {
        var digest = descriptor.Digest;
        if (store.Exists(digest))
        {
            // Already there, or just committed by a concurrent pull of the same blob: complete all the same.
            progress?.Report(new BlobProgress(descriptor, descriptor.Size, Done: true));
            return store.Info(digest);
        }
        if (descriptor.Size < 0)
            throw new RegistryException(ErrorKind.InvalidArgument, $"blob {digest}: negative size {descriptor.Size} in its descriptor");
        string what = $"blob {Registry}/{repository}@{digest}";
        string ingest = $"pull {digest}";
        var url = new Uri(Endpoint, $"v2/{repository}/blobs/{digest}");

        for (int attempt = 1; ; attempt++)
        {
            var writer = await OpenIngestAsync(store, ingest, descriptor, what, cancellationToken).ConfigureAwait(false);
            if (writer is null)
            {
                progress?.Report(new BlobProgress(descriptor, descriptor.Size, Done: true));
                return store.Info(digest);
            }
            try
            {
                progress?.Report(new BlobProgress(descriptor, writer.Offset, Done: false));
                if (writer.Offset == descriptor.Size)
                    return Committed(writer.Commit(), descriptor, progress);
                long offset = writer.Offset;
                using var response = await SendOnceAsync(() =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, url);
                    if (offset > 0)
                        request.Headers.Range = new RangeHeaderValue(offset, null);
                    return request;
                }, PullScope(repository), cancellationToken).ConfigureAwait(false);

                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
                {
                    // The partial data does not fit what the registry has: start over.
                    writer.Dispose();
                    store.AbortIngest(ingest);
                    throw new HttpRequestException($"the registry refused to resume at byte {offset}");
                }
                if (IsServerError(response))
                    throw ServerError(response);
                await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);

                if (offset > 0 && (response.StatusCode != HttpStatusCode.PartialContent || response.Content.Headers.ContentRange?.From != offset))
                {
                    // The registry ignored the range (or answered another one): take the whole body from the start.
                    writer.Dispose();
                    store.AbortIngest(ingest);
                    writer = store.OpenIngest(ingest, digest, descriptor.Size);
                    if (response.StatusCode == HttpStatusCode.PartialContent)
                        throw new HttpRequestException($"the registry answered range {response.Content.Headers.ContentRange} to bytes={offset}-");
                }

                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    var buffer = new byte[1 << 20];
                    int read;
                    while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        if (tap is not null)
                            await tap(writer.Offset - read, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        progress?.Report(new BlobProgress(descriptor, writer.Offset, Done: false));
                    }
                }
                if (writer.Offset < descriptor.Size)
                    throw new IOException($"the connection ended after {writer.Offset} of {descriptor.Size} bytes");
                return Committed(writer.Commit(), descriptor, progress);
            }
            catch (ContentException error)
            {
                throw new RegistryException($"{what}: {error.Message}", error);
            }
            catch (Exception error) when (IsTransient(error, cancellationToken))
            {
                long kept = writer.Offset;
                writer.Dispose();
                if (attempt >= _options.MaxAttempts)
                    throw new RegistryException(
                        $"{what}: {OneLine(error.Message)} (gave up after {attempt} attempt{(attempt == 1 ? "" : "s")}; {kept} bytes kept to resume)", error);
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                writer.Dispose();
            }
        }
    }

    private static BlobInfo Committed(BlobInfo info, Descriptor descriptor, IProgress<BlobProgress>? progress)
    {
        progress?.Report(new BlobProgress(descriptor, info.Size, Done: true));
        return info;
    }

    /// <summary>
    /// Opens the resumable ingest, waiting while another writer holds it; null when the blob got committed meanwhile.
    /// </summary>
    private async Task<ContentWriter?> OpenIngestAsync(ContentStore store, string ingest, Descriptor descriptor, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.IngestLockTimeout;
        while (true)
        {
            if (store.Exists(descriptor.Digest))
                return null;
            try
            {
                return store.OpenIngest(ingest, descriptor.Digest, descriptor.Size);
            }
            catch (Exception error) when (error is ContentException or IOException)
            {
                // Most often another pull of the same blob holds the ingest (a raw IOException when that writer
                // committed between our open and the store's check); a stale partial that cannot be resumed is
                // removed by the failed open, so the next try starts over.
                if (DateTime.UtcNow >= deadline)
                    throw new RegistryException($"{what}: {error.Message} (waited {_options.IngestLockTimeout.TotalSeconds:0} s)", error);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string PullScope(string repository) => $"repository:{repository}:pull";

    private static bool IsServerError(HttpResponseMessage response) => (int)response.StatusCode >= 500;

    /// <summary>A 5xx answer as the transient error that <see cref="RetryAsync"/> and blob transfers retry on.</summary>
    private static HttpRequestException ServerError(HttpResponseMessage response)
        => new($"{(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);

    private TimeSpan Backoff(int attempt) => _options.RetryDelay * Math.Pow(2, attempt - 1);

    private static bool IsTransient(Exception error, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested
           && error is HttpRequestException or IOException or TaskCanceledException
           && error is not RegistryException;

    /// <summary>Sends with retries on 5xx answers and connection errors (the request must be safe to repeat).</summary>
    private Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string? scope, CancellationToken cancellationToken)
        => RetryAsync(Registry, async lastAttempt =>
        {
            var response = await SendOnceAsync(create, scope, cancellationToken).ConfigureAwait(false);
            if (!IsServerError(response) || lastAttempt)
                return response;
            response.Dispose();
            throw ServerError(response);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="attempt"/> (told whether it is the last one) until it succeeds, at most
    /// <see cref="RegistryOptions.MaxAttempts"/> times with doubling delays, while it fails with a connection error or
    /// a 5xx (an <see cref="HttpRequestException"/> or <see cref="IOException"/>); then a one-line
    /// <see cref="RegistryException"/> about <paramref name="what"/>. Other failures are not retried.
    /// </summary>
    private async Task<T> RetryAsync<T>(string what, Func<bool, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (int number = 1; ; number++)
        {
            try
            {
                return await attempt(number >= _options.MaxAttempts).ConfigureAwait(false);
            }
            catch (Exception error) when (IsTransient(error, cancellationToken) && number < _options.MaxAttempts)
            {
            }
            catch (Exception error) when (IsTransient(error, cancellationToken))
            {
                throw new RegistryException($"{what}: {OneLine(error.Message)} (gave up after {number} attempt{(number == 1 ? "" : "s")})", error);
            }
            await Task.Delay(Backoff(number), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends once with what we know of the registry's authentication; on a 401, answers the challenge and sends again.</summary>
    private async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> create, string? scope, CancellationToken cancellationToken)
    {
        var request = create();
        var used = Authorize(request, scope);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
            return response;
        var challenges = response.Headers.WwwAuthenticate.ToList();
        response.Dispose();
        request.Dispose();
        await AuthenticateAsync(challenges, scope, used, cancellationToken).ConfigureAwait(false);
        request = create();
        Authorize(request, scope);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds what we hold for this scope (a live Bearer token, else Basic credentials); returns what was added.</summary>
    private AuthenticationHeaderValue? Authorize(HttpRequestMessage request, string? scope)
    {
        if (_tokens.TryGetValue(scope ?? "", out var token) && token.Expires > DateTimeOffset.UtcNow)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        else if (_basic is { } basic)
            request.Headers.Authorization = basic;
        return request.Headers.Authorization;
    }

    /// <summary>
    /// Answers a 401 to a request that carried <paramref name="refused"/>. Requests sent at the same time all get
    /// their 401 before the first one is answered: what another request obtained meanwhile is used, not fetched
    /// again, and only credentials that were themselves refused count as wrong.
    /// </summary>
    private async Task AuthenticateAsync(List<AuthenticationHeaderValue> challenges, string? scope, AuthenticationHeaderValue? refused, CancellationToken cancellationToken)
    {
        string? refusedToken = refused?.Scheme == "Bearer" ? refused.Parameter : null;
        var credential = _options.Credentials?.Find(Registry);
        var bearer = challenges.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        if (bearer is not null)
        {
            await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Another request may have fetched a token for this scope while we waited: use it, unless it is the
                // one just refused.
                if (_tokens.TryGetValue(scope ?? "", out var cached) && cached.Expires > DateTimeOffset.UtcNow && cached.Value != refusedToken)
                    return;
                var challenge = AuthChallenge.Parse(bearer.Scheme, bearer.Parameter);
                var token = await FetchTokenAsync(challenge, scope, credential, cancellationToken).ConfigureAwait(false);
                _tokens[scope ?? ""] = token;
            }
            finally
            {
                _authLock.Release();
            }
            return;
        }
        if (challenges.Any(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)))
        {
            if (credential is null)
                throw new RegistryException($"{Registry}: authentication required (Basic) and no credentials for it; log in first", HttpStatusCode.Unauthorized);
            var header = BasicHeader(credential);
            if (refused?.Scheme == "Basic" && refused.Parameter == header.Parameter)
                throw new RegistryException($"{Registry}: the credentials of {credential.Username} were refused", HttpStatusCode.Unauthorized);
            _basic = header;
            return;
        }
        throw new RegistryException(ErrorKind.PermissionDenied, challenges.Count == 0
            ? $"{Registry}: 401 Unauthorized without a WWW-Authenticate challenge"
            : $"{Registry}: unsupported authentication scheme \"{challenges[0].Scheme}\"");
    }

    /// <summary>The docker token flow: <c>GET realm?service=..&amp;scope=..</c>, anonymous or with Basic credentials.</summary>
    private async Task<CachedToken> FetchTokenAsync(AuthChallenge challenge, string? scope, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        string realm = challenge["realm"] ?? throw new RegistryException(ErrorKind.Internal, $"{Registry}: Bearer challenge without a realm");
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("https" or "http"))
            throw new RegistryException(ErrorKind.Internal, $"{Registry}: Bearer realm \"{realm}\" is not an http(s) URL");
        if (realmUri.Scheme == "http" && credential is not null && !_options.IsInsecure(Registry))
            throw new RegistryException(ErrorKind.PermissionDenied, $"{Registry}: refusing to send credentials to the plain-HTTP token endpoint {realm}");

        var query = new List<string>();
        if (challenge["service"] is { } service)
            query.Add("service=" + Uri.EscapeDataString(service));
        string? wantedScope = scope ?? challenge["scope"];
        // Several scopes (a cross-repository mount needs the source's pull too) are one scope parameter each.
        foreach (string one in (wantedScope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            query.Add("scope=" + Uri.EscapeDataString(one));
        var builder = new UriBuilder(realmUri);
        string existing = builder.Query.TrimStart('?');
        builder.Query = string.Join('&', (existing.Length > 0 ? [existing] : Array.Empty<string>()).Concat(query));

        using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
        if (credential is not null)
            request.Headers.Authorization = BasicHeader(credential);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            throw new RegistryException($"{Registry}: token endpoint {realmUri.GetLeftPart(UriPartial.Path)}: {OneLine(error.Message)}", error);
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw new RegistryException(credential is null
                    ? $"{Registry}: the token endpoint refused anonymous access to {wantedScope ?? "the registry"}; log in first"
                    : $"{Registry}: the token endpoint refused the credentials of {credential.Username} for {wantedScope ?? "the registry"}",
                    response.StatusCode);
            await EnsureSuccessAsync(response, $"{Registry}: token endpoint {realmUri.GetLeftPart(UriPartial.Path)}", cancellationToken).ConfigureAwait(false);
            byte[] body = await ReadLimitedAsync(response.Content, 1 << 20, cancellationToken).ConfigureAwait(false)
                ?? throw new RegistryException(ErrorKind.Internal, $"{Registry}: the token endpoint's answer is larger than 1 MiB");
            TokenResponse? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.TokenResponse);
            }
            catch (JsonException error)
            {
                throw new RegistryException(ErrorKind.Internal, $"{Registry}: the token endpoint's answer is not valid JSON", error);
            }
            string token = parsed?.Token is { Length: > 0 } t ? t
                : parsed?.AccessToken is { Length: > 0 } a ? a
                : throw new RegistryException(ErrorKind.Internal, $"{Registry}: the token endpoint's answer has no token");
            // The token spec's default lifetime is 60 s; keep a margin so a token does not expire in flight.
            int lifetime = parsed.ExpiresIn is int seconds && seconds > 0 ? seconds : 60;
            return new CachedToken(token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(lifetime - 10, 1)));
        }
    }

    private static AuthenticationHeaderValue BasicHeader(RegistryCredential credential)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));

    /// <summary>Throws a one-line <see cref="RegistryException"/> for a non-2xx answer, with the registry's error codes.</summary>
    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        string detail = "";
        try
        {
            byte[]? body = await ReadLimitedAsync(response.Content, MaxErrorBodySize, cancellationToken).ConfigureAwait(false);
            if (body is { Length: > 0 })
            {
                var errors = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.ErrorResponse)?.Errors;
                if (errors is { Count: > 0 })
                    detail = ": " + string.Join("; ", errors.Select(e => $"{e.Code}: {e.Message}"));
            }
        }
        catch (Exception error) when (error is JsonException or IOException or HttpRequestException)
        {
        }
        string status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        throw new RegistryException(response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => $"{what}: {status}: the registry refused our credentials{detail}",
            HttpStatusCode.NotFound => $"{what}: not found ({status}){detail}",
            _ => $"{what}: {status}{detail}",
        }, response.StatusCode);
    }

    /// <summary>Reads the whole body, or returns null as soon as it is longer than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                    return null;
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    private sealed record CachedToken(string Value, DateTimeOffset Expires);
}
