using Skiff.Oci.Image;

namespace Skiff.Images.Registry;

/// <summary>A manifest as the registry served it: its verified digest, media type and exact bytes, parsed as
/// either an image manifest or an index (exactly one of the two is set).</summary>
public sealed record ManifestResult(Digest Digest, string MediaType, byte[] Bytes, ImageManifest? Manifest, ImageIndex? Index);

/// <summary>What <see cref="ImagePuller"/> put in the content store: the image manifest chosen (for the platform when
/// the reference named an index), its config and layers, and the index digest when there was one.</summary>
public sealed record PullResult(
    string Reference,
    Digest ManifestDigest,
    string ManifestMediaType,
    Descriptor Config,
    IReadOnlyList<Descriptor> Layers,
    Digest? IndexDigest);

/// <summary>Transfer progress of one blob: bytes held so far when pulling (including resumed ones), bytes sent when
/// pushing; <paramref name="Done"/> once verified and stored, or once the registry has it.</summary>
public sealed record BlobProgress(Descriptor Descriptor, long Bytes, bool Done);

/// <summary>What <see cref="ImagePusher"/> put in the registry: the reference, the manifest (or index) pushed under
/// it with its media type, and how each config and layer blob got there.</summary>
public sealed record PushResult(string Reference, Digest ManifestDigest, string ManifestMediaType, IReadOnlyList<PushedBlob> Blobs);

public sealed record PushedBlob(Descriptor Descriptor, BlobPushOutcome Outcome);

/// <summary>Receives downloaded blob bytes at <paramref name="offset"/>; the buffer is reused once the returned task completes.</summary>
public delegate ValueTask BlobTap(long offset, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

/// <summary>A reference resolved to one image manifest (chosen for the platform from an index when there was one),
/// whose manifest and index bytes are in the content store; no config or layer was downloaded yet.</summary>
public sealed record ResolvedManifest(ManifestResult Top, ManifestResult Image)
{
    public ImageManifest Manifest => Image.Manifest!;

    /// <summary>The digest the reference's repository knows the image by: the index's when there was one.</summary>
    public Digest RepoDigest => Top.Digest;
}
