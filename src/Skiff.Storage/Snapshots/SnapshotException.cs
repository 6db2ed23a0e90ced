namespace Skiff.Storage.Snapshots;

/// <summary>A snapshot operation that cannot be done (unknown key, missing layer, mount refused), said in one line.</summary>
public sealed class SnapshotException : SkiffException
{
    /// <summary>Of kind Internal: a snapshot the store cannot make or find.</summary>
    public SnapshotException(string message) : base(ErrorKind.Internal, message) { }
    /// <summary>Of the inner error's kind when it has one, else Internal.</summary>
    public SnapshotException(string message, Exception inner) : base(ErrorKinds.Of(inner) is var kind && kind != ErrorKind.Internal ? kind : ErrorKind.Internal, message, inner) { }
    public SnapshotException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
