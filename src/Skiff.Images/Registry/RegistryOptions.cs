namespace Skiff.Images.Registry;

/// <summary>How registries are reached: credentials, which registries are plain HTTP, retries, parallelism.</summary>
public sealed class RegistryOptions
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

    /// <summary>How long a download waits for another writer of the same blob (another pull) before failing.</summary>
    public TimeSpan IngestLockTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public string UserAgent { get; init; } = "skiff";

    public bool IsInsecure(string registry) => InsecureRegistries.Contains(registry, StringComparer.OrdinalIgnoreCase);
}
