namespace Skiff.Images.Service;

/// <summary>An image operation that failed, with a one-line message saying what, on which image, and what to do.</summary>
public class ImageException : Exception
{
    public ImageException(string message) : base(message) { }
    public ImageException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>No local image has the name or ID asked for.</summary>
public sealed class ImageNotFoundException(string nameOrId)
    : ImageException($"no such image: {nameOrId}")
{
    public string NameOrId { get; } = nameOrId;
}
