namespace Skiff.Images.Registry;

/// <summary>How registries are reached: credentials, which registries are plain HTTP, retries, parallelism.</summary>
public sealed record RegistryOptions
{
    /// <summary>Where credentials come from; null means anonymous access only.</summary>
    public ICredentialSource? Credentials { get; init; }

    /// <summary>Registries (host[:port], as in references) reached over plain HTTP. Every other one uses TLS with the system CAs.</summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>Attempts per request (and per blob download) on 5xx answers and connection errors, including the first.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Delay before the second attempt; doubled before each later one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Blobs of one image downloaded at the same time.</summary>
    public int MaxConcurrentDownloads { get; init; } = 3;

    /// <summary>Blobs of one image uploaded at the same time.</summary>
    public int MaxConcurrentUploads { get; init; } = 3;

    /// <summary>Blobs larger than this are uploaded in chunks (<c>PATCH</c> with <c>Content-Range</c>) instead of one
    /// <c>PUT</c>, for registries or proxies that limit request bodies; 0 chunks every blob.</summary>
    public long ChunkedUploadThreshold { get; init; } = 128L << 20;

    /// <summary>Bytes per <c>PATCH</c> of a chunked upload (raised to the registry's <c>OCI-Chunk-Min-Length</c>).</summary>
    public long UploadChunkSize { get; init; } = 32L << 20;

    /// <summary>How long a download waits for another writer of the same blob (another pull) before failing.</summary>
    public TimeSpan IngestLockTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public string UserAgent { get; init; } = "skiff";

    public bool IsInsecure(string registry) => InsecureRegistries.Contains(registry, StringComparer.OrdinalIgnoreCase);
}
