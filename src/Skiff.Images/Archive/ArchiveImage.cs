using Skiff.Oci.Image;
using Skiff.Storage.Metadata;

namespace Skiff.Images.Archive;

/// <summary>
/// One image to save: its manifest (in the content store) and the names to record for it, in full
/// (<c>docker.io/library/busybox:latest</c>). No names is valid: the image is saved untagged, as <c>docker save ID</c> does.
/// </summary>
public sealed record ArchiveImage(Digest ManifestDigest, IReadOnlyList<string> Tags)
{
    public static ArchiveImage Of(ImageRecord image, IEnumerable<string> tags) => new(Digest.Parse(image.ManifestDigest), [.. tags]);
}

/// <summary>
/// An image that <see cref="ImageArchiveReader"/> or <see cref="RootfsImporter"/> put in the content store: its
/// manifest (stored too, its bytes are those of <paramref name="ManifestDigest"/>), config and layers, the layers'
/// uncompressed digests (diff IDs, bottom first, for chain IDs and snapshots) and the names it came with, as the
/// archive wrote them: docker writes familiar names (<c>busybox:latest</c>), so normalize them with ImageReference.
/// </summary>
public sealed record LoadedImage(
    Digest ManifestDigest,
    string ManifestMediaType,
    Descriptor Config,
    IReadOnlyList<Descriptor> Layers,
    IReadOnlyList<Digest> DiffIds,
    IReadOnlyList<string> Tags);
