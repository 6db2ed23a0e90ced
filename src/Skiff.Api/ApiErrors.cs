using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Skiff.Engine;

namespace Skiff.Api;

/// <summary>
/// The one mapping of errors to HTTP, docker's: an error's kind (never its exception type) gives the status, and the
/// body is `{"message": "..."}`, which docker's clients print as it is and branch on by status (404 pulls, 409 conflicts).
/// </summary>
internal static class ApiErrors
{
    public static int Status(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => StatusCodes.Status400BadRequest,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.AlreadyExists or ErrorKind.Conflict or ErrorKind.FailedPrecondition => StatusCodes.Status409Conflict,
        ErrorKind.PermissionDenied => StatusCodes.Status403Forbidden,
        ErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The sentence a client shows: the engine's own, or a system exception's message as one.</summary>
    public static string Message(Exception error) => error is SkiffException ? error.Message.ReplaceLineEndings(" ") : SystemErrors.Sentence(error.Message);

    /// <summary>Answers with the error, unless the response has started (a stream): then the connection is cut, as dockerd does.</summary>
    public static async Task WriteAsync(HttpContext context, Exception error)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = Status(ErrorKinds.Of(error));
        await WriteMessageAsync(context, Message(error));
    }

    public static Task WriteMessageAsync(HttpContext context, string message)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new ErrorResponse(message), ApiJsonContext.Default.ErrorResponse, context.RequestAborted);
    }

    /// <summary>A request the API itself cannot take (a malformed body or parameter): InvalidArgument, so a 400.</summary>
    public static EngineException BadRequest(string message) => new(ErrorKind.InvalidArgument, message);
}
