using System.Net;

namespace Skiff.Images.Registry;

/// <summary>A registry failure with a one-line message naming the registry, repository and what was asked, e.g.
/// <c>manifest localhost:5000/app:1: unsupported media type "text/html"</c>.</summary>
public sealed class RegistryException : SkiffException
{
    /// <summary>Of kind Internal: a registry that answered something this client cannot use.</summary>
    public RegistryException(string message) : base(ErrorKind.Internal, message) { }
    /// <summary>A registry that could not be reached is Unavailable; else the inner error's kind.</summary>
    public RegistryException(string message, Exception inner)
        : base(inner is HttpRequestException or IOException or TimeoutException ? ErrorKind.Unavailable : ErrorKinds.Of(inner), message, inner) { }
    public RegistryException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }

    public RegistryException(string message, HttpStatusCode statusCode, Exception? inner = null) : base(KindOf(statusCode), message, inner)
    {
        StatusCode = statusCode;
    }

    /// <summary>The kind of a registry's refusal, as the distribution spec's status codes mean them.</summary>
    public static ErrorKind KindOf(HttpStatusCode status) => (int)status switch
    {
        401 or 403 => ErrorKind.PermissionDenied,
        404 => ErrorKind.NotFound,
        400 or 405 or 413 or 416 => ErrorKind.InvalidArgument,
        409 => ErrorKind.Conflict,
        429 => ErrorKind.ResourceExhausted,
        >= 500 => ErrorKind.Unavailable,
        _ => ErrorKind.Internal,
    };

    /// <summary>The registry's (or token endpoint's) answer when it refused the request, e.g. 401 for wrong credentials.</summary>
    public HttpStatusCode? StatusCode { get; init; }
}
