using Skiff.Oci.Image;

namespace Skiff.Storage.Content;

/// <summary>What the store knows about a committed blob.</summary>
public sealed record BlobInfo(Digest Digest, long Size);
