namespace Skiff.Images.Service;

/// <summary>An image operation that failed, with a one-line message saying what, on which image, and what to do.</summary>
public class ImageException : SkiffException
{
    /// <summary>Of kind FailedPrecondition: an image that cannot be used or changed as asked.</summary>
    public ImageException(string message) : base(ErrorKind.FailedPrecondition, message) { }
    /// <summary>Of the inner error's kind when it has one, else FailedPrecondition.</summary>
    public ImageException(string message, Exception inner) : base(ErrorKinds.Of(inner) is var kind && kind != ErrorKind.Internal ? kind : ErrorKind.FailedPrecondition, message, inner) { }
    public ImageException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}

/// <summary>No local image has the name or ID asked for.</summary>
public sealed class ImageNotFoundException(string nameOrId)
    : ImageException(ErrorKind.NotFound, $"no such image: {nameOrId}")
{
    public string NameOrId { get; } = nameOrId;
}
