namespace Skiff.Storage.Content;

/// <summary>A content store failure with a one-line message naming the blob or ingest, e.g.
/// <c>blob sha256:ab..: expected 1024 bytes, got 1000</c>.</summary>
public sealed class ContentException : SkiffException
{
    /// <summary>Of kind Internal: a blob the store cannot keep.</summary>
    public ContentException(string message) : base(ErrorKind.Internal, message) { }
    /// <summary>Of the inner error's kind when it has one, else Internal.</summary>
    public ContentException(string message, Exception inner) : base(ErrorKinds.Of(inner) is var kind && kind != ErrorKind.Internal ? kind : ErrorKind.Internal, message, inner) { }
    public ContentException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
