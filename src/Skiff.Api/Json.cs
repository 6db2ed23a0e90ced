using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Skiff.Api;

/// <summary>Request and response bodies through the source-generated contexts only (no reflection: NativeAOT).</summary>
internal static class Json
{
    public static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted)
                ?? throw ApiErrors.BadRequest("the request's body is empty: send a JSON object");
        }
        catch (JsonException error)
        {
            throw ApiErrors.BadRequest($"the request's body is not valid JSON for this endpoint: {error.Message}");
        }
    }

    public static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }
}
