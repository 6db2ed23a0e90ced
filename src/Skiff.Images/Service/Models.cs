using Skiff.Oci.Image;
using Skiff.Storage.Metadata;

namespace Skiff.Images.Service;

/// <summary>
/// A local image: its ID (the config digest), the names it has, and its layers bottom first.
/// <see cref="Size"/> is the unpacked size of all its layers, as docker reports it. <see cref="Parent"/> is the
/// image it was committed or built from here (null when it arrived whole: pull, load, import), and
/// <see cref="LastTagTime"/> when it was last named here (null when it never was, or only by a pull or load).
/// </summary>
public sealed record ImageInfo(
    string Id,
    IReadOnlyList<string> RepoTags,
    IReadOnlyList<string> RepoDigests,
    DateTimeOffset Created,
    string ManifestDigest,
    string ConfigDigest,
    IReadOnlyList<LayerRecord> Layers,
    string? Parent = null,
    DateTimeOffset? LastTagTime = null)
{
    public long Size => Layers.Sum(layer => layer.Size);

    /// <summary>The 12 hex digits docker shows for an image ID.</summary>
    public string ShortId => ShortHex(Id);

    public static string ShortHex(string digest)
    {
        int colon = digest.IndexOf(':');
        string hex = colon >= 0 ? digest[(colon + 1)..] : digest;
        return hex.Length > 12 ? hex[..12] : hex;
    }

    public IReadOnlyList<Digest> ChainIds => [.. Layers.Select(layer => Digest.Parse(layer.ChainId))];
}

/// <summary>How a pull reaches the registry.</summary>
public sealed record PullOptions
{
    /// <summary>The platform to choose from a multi-platform image; null: the host's.</summary>
    public Platform? Platform { get; init; }

    /// <summary>false: plain HTTP to the registry of this pull (podman's <c>--tls-verify=false</c>).</summary>
    public bool TlsVerify { get; init; } = true;
}

public enum PullPhase
{
    /// <summary>Queued behind other layers.</summary>
    Waiting,
    /// <summary>Bytes arriving (and being unpacked as they arrive).</summary>
    Downloading,
    /// <summary>Downloaded; unpacking from the stored blob.</summary>
    Extracting,
    /// <summary>Blob stored and layer unpacked.</summary>
    Complete,
    /// <summary>Nothing to do: blob and layer were already there.</summary>
    AlreadyExists,
}

/// <summary>Progress of one layer of a pull: <paramref name="Layer"/> is the 12-hex short form of its blob digest.</summary>
public sealed record PullProgress(string Layer, PullPhase Phase, long Bytes, long Total);

/// <summary>What <c>rmi</c> did, in docker's terms: names removed, images deleted.</summary>
public sealed record RemovalReport(IReadOnlyList<string> Untagged, IReadOnlyList<string> Deleted, long ReclaimedBytes);

/// <summary>The store's images and blobs, with the bytes of unpacked layers (snapshots) and of compressed content
/// (blobs), and what a prune of unused images would free of each.</summary>
public sealed record DiskUsage(int Images, int ActiveImages, int Blobs, int ActiveBlobs, long LayersSize, long BlobsSize,
    long ReclaimableLayersSize, long ReclaimableBlobsSize);
