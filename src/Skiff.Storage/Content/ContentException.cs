namespace Skiff.Storage.Content;

/// <summary>A content store failure with a one-line message naming the blob or ingest, e.g.
/// <c>blob sha256:ab..: expected 1024 bytes, got 1000</c>.</summary>
public sealed class ContentException : Exception
{
    public ContentException(string message) : base(message) { }
    public ContentException(string message, Exception inner) : base(message, inner) { }
}
