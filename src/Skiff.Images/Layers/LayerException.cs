namespace Skiff.Images.Layers;

/// <summary>A layer that cannot be unpacked, with a one-line message naming the entry, e.g.
/// <c>layer entry "../x" escapes the root</c>.</summary>
public sealed class LayerException : SkiffException
{
    /// <summary>Of kind InvalidArgument: a layer that is not a valid tar of a filesystem.</summary>
    public LayerException(string message) : base(ErrorKind.InvalidArgument, message) { }
    /// <summary>Of the inner error's kind when it has one, else InvalidArgument.</summary>
    public LayerException(string message, Exception inner) : base(ErrorKinds.Of(inner) is var kind && kind != ErrorKind.Internal ? kind : ErrorKind.InvalidArgument, message, inner) { }
    public LayerException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
