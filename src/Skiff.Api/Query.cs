using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Skiff.Api;

/// <summary>docker's query parameters: its booleans, numbers and JSON-encoded filters.</summary>
internal static class Query
{
    /// <summary>dockerd's httputils.BoolValue: anything but empty, 0, no, false and none is true.</summary>
    public static bool Bool(HttpContext context, string name) => Bool(context.Request.Query, name);

    public static bool Bool(IQueryCollection query, string name)
        => query[name].ToString().Trim().ToLowerInvariant() is not ("" or "0" or "no" or "false" or "none");

    public static string? String(HttpContext context, string name)
        => context.Request.Query.TryGetValue(name, out var values) && values.ToString() is { Length: > 0 } value ? value : null;

    public static int? Int(HttpContext context, string name)
        => String(context, name) is not { } text ? null
            : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value
            : throw ApiErrors.BadRequest($"invalid value for {name}: \"{text}\" is not a whole number");

    /// <summary>A route's value (the container or image named in the path).</summary>
    public static string Route(HttpContext context, string name) => context.Request.RouteValues[name]?.ToString() ?? "";

    /// <summary>
    /// docker's `filters` parameter, `{"key":["v1","v2"]}` or the older `{"key":{"v1":true}}`, as the engine's
    /// KEY=VALUE filters (the form of the CLI's --filter).
    /// </summary>
    public static List<string> Filters(HttpContext context)
    {
        var filters = new List<string>();
        if (String(context, "filters") is not { } text)
            return filters;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw ApiErrors.BadRequest($"invalid filters \"{text}\": expected a JSON object of filter names to values");
            foreach (var filter in document.RootElement.EnumerateObject())
            {
                var values = filter.Value.ValueKind switch
                {
                    JsonValueKind.Array => filter.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Invalid(text)),
                    JsonValueKind.Object => filter.Value.EnumerateObject().Where(v => v.Value.ValueKind == JsonValueKind.True).Select(v => v.Name),
                    _ => throw Invalid(text),
                };
                filters.AddRange(values.Select(value => $"{filter.Name}={value}"));
            }
        }
        catch (JsonException error)
        {
            throw ApiErrors.BadRequest($"invalid filters \"{text}\": {error.Message}");
        }
        return filters;

        static Exception Invalid(string text) => ApiErrors.BadRequest($"invalid filters \"{text}\": each filter's values must be a list of strings");
    }
}
