namespace Skiff.Images.Archive;

/// <summary>An archive that cannot be written, read or imported, with a one-line message naming the part at fault,
/// e.g. <c>archive: layer blobs/sha256/ab.. listed in manifest.json is missing</c>.</summary>
public sealed class ArchiveException : Exception
{
    public ArchiveException(string message) : base(message) { }
    public ArchiveException(string message, Exception inner) : base(message, inner) { }
}
