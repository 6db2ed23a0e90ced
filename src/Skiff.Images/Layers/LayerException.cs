namespace Skiff.Images.Layers;

/// <summary>A layer that cannot be unpacked, with a one-line message naming the entry, e.g.
/// <c>layer entry "../x" escapes the root</c>.</summary>
public sealed class LayerException : Exception
{
    public LayerException(string message) : base(message) { }
    public LayerException(string message, Exception inner) : base(message, inner) { }
}
