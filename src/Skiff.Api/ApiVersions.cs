using System.Globalization;

namespace Skiff.Api;

/// <summary>
/// The Docker Engine API versions served and docker's version prefix: every route answers with and without
/// `/vX.Y`, as dockerd's router does, and a version outside the range is refused with dockerd's message.
/// </summary>
internal static class ApiVersions
{
    public const string Minimum = "1.41";
    public const string Maximum = "1.47";

    /// <summary>
    /// Splits a request path into its version prefix (null when none) and the route path. A path such as `/v1.41`
    /// alone or `/vfoo/x` has no prefix and is routed as it is (to a 404).
    /// </summary>
    public static (string? Version, string Path) Split(string path)
    {
        if (path.Length < 3 || path[1] != 'v' || !char.IsAsciiDigit(path[2]))
            return (null, path);
        int end = path.IndexOf('/', 2);
        if (end < 0)
            return (null, path);
        string version = path[2..end];
        return Parse(version) is null ? (null, path) : (version, path[end..]);
    }

    /// <summary>docker's MAJOR.MINOR, compared numerically (1.9 is older than 1.41); null when it is not one.</summary>
    public static (int Major, int Minor)? Parse(string version)
    {
        int dot = version.IndexOf('.');
        return dot > 0
            && int.TryParse(version.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int major)
            && int.TryParse(version.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int minor)
            ? (major, minor) : null;
    }

    /// <summary>dockerd's refusal of a version it does not serve (a 400), or null when <paramref name="version"/> is served.</summary>
    public static string? Refusal(string version)
    {
        var asked = Parse(version)!.Value;
        if (asked.CompareTo(Parse(Minimum)!.Value) < 0)
            return $"client version {version} is too old. Minimum supported API version is {Minimum}, please upgrade your client to a newer version";
        if (asked.CompareTo(Parse(Maximum)!.Value) > 0)
            return $"client version {version} is too new. Maximum supported API version is {Maximum}";
        return null;
    }

    /// <summary>The version a request speaks: its prefix, else the newest served (as dockerd assumes).</summary>
    public static string Of(Microsoft.AspNetCore.Http.HttpContext context)
        => context.Items.TryGetValue(typeof(ApiVersions), out var version) && version is string v ? v : Maximum;

    /// <summary>Whether the request's version is at least <paramref name="version"/>.</summary>
    public static bool AtLeast(Microsoft.AspNetCore.Http.HttpContext context, string version)
        => Parse(Of(context))!.Value.CompareTo(Parse(version)!.Value) >= 0;
}
