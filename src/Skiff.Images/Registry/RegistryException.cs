using System.Net;

namespace Skiff.Images.Registry;

/// <summary>A registry failure with a one-line message naming the registry, repository and what was asked, e.g.
/// <c>manifest localhost:5000/app:1: unsupported media type "text/html"</c>.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException(string message) : base(message) { }
    public RegistryException(string message, Exception inner) : base(message, inner) { }

    public RegistryException(string message, HttpStatusCode statusCode, Exception? inner = null) : base(message, inner)
    {
        StatusCode = statusCode;
    }

    /// <summary>The registry's (or token endpoint's) answer when it refused the request, e.g. 401 for wrong credentials.</summary>
    public HttpStatusCode? StatusCode { get; init; }
}
