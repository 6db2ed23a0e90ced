namespace Skiff.Storage.Snapshots;

/// <summary>A snapshot operation that cannot be done (unknown key, missing layer, mount refused), said in one line.</summary>
public sealed class SnapshotException : Exception
{
    public SnapshotException(string message) : base(message) { }
    public SnapshotException(string message, Exception inner) : base(message, inner) { }
}
