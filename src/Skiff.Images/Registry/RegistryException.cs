namespace Skiff.Images.Registry;

/// <summary>A registry failure with a one-line message naming the registry, repository and what was asked, e.g.
/// <c>manifest localhost:5000/app:1: unsupported media type "text/html"</c>.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException(string message) : base(message) { }
    public RegistryException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The registry's HTTP status when it answered with an error (404: the repository or tag is not there).</summary>
    public System.Net.HttpStatusCode? StatusCode { get; init; }
}
