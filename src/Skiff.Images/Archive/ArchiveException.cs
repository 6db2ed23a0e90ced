namespace Skiff.Images.Archive;

/// <summary>An archive that cannot be written, read or imported, with a one-line message naming the part at fault,
/// e.g. <c>archive: layer blobs/sha256/ab.. listed in manifest.json is missing</c>.</summary>
public sealed class ArchiveException : SkiffException
{
    /// <summary>Of kind InvalidArgument: an archive that is not what it claims to be.</summary>
    public ArchiveException(string message) : base(ErrorKind.InvalidArgument, message) { }
    /// <summary>Of the inner error's kind when it has one, else InvalidArgument.</summary>
    public ArchiveException(string message, Exception inner) : base(ErrorKinds.Of(inner) is var kind && kind != ErrorKind.Internal ? kind : ErrorKind.InvalidArgument, message, inner) { }
    public ArchiveException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
