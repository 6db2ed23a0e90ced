using Skiff.Engine.Containers;
using Skiff.Images.Service;

namespace Skiff.Engine;

/// <summary>
/// `images --filter KEY=VALUE` with docker's keys: dangling (true: only untagged images, false: only tagged ones),
/// label (KEY or KEY=VALUE among the image's labels), before and since (created before or after an image), until (a
/// time), reference (a glob such as `busy*:*` or `*/test/*` on NAME:TAG or NAME, as docker's path.Match: `*` and `?`
/// stop at `/`). A reference filter keeps only the names it matches. ANDed across keys, ORed within one.
/// </summary>
public sealed class ImageFilter
{
    private static readonly string[] Keys = ["dangling", "label", "before", "since", "until", "reference"];

    private readonly FilterValues _values;
    private readonly bool? _dangling;
    private readonly DateTimeOffset? _before;
    private readonly DateTimeOffset? _since;
    private readonly DateTimeOffset? _until;

    private ImageFilter(FilterValues values, Func<string, ImageInfo> resolve, DateTimeOffset now)
    {
        _values = values;
        if (values.Has("dangling"))
            _dangling = values.Values("dangling").Last() is "true" or "1";
        if (values.Values("before").LastOrDefault() is { } before)
            _before = resolve(before).Created;
        if (values.Values("since").LastOrDefault() is { } since)
            _since = resolve(since).Created;
        _until = values.Until(now);
    }

    /// <param name="resolve">The image a before or since filter names (throwing NotFound).</param>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses.</exception>
    internal static ImageFilter Parse(IReadOnlyList<string> filters, Func<string, ImageInfo> resolve, DateTimeOffset now)
        => new(FilterValues.Parse(filters, Keys, (filter, key, value) =>
        {
            bool valid = key switch
            {
                "dangling" => value is "true" or "false" or "1" or "0",
                "reference" => GlobMatch(value, "") is not null,
                _ => true,
            };
            if (!valid)
                throw FilterValues.Invalid(filter);
        }), resolve, now);

    /// <summary>Whether the image's labels are needed (reading them costs its config).</summary>
    public bool UsesLabels => _values.Has("label");

    /// <summary>
    /// The image as the filter keeps it (with only the names a reference filter matches), or null when it is not
    /// selected. <paramref name="labels"/> is read only when <see cref="UsesLabels"/>.
    /// </summary>
    public ImageInfo? Select(ImageInfo image, Func<IReadOnlyDictionary<string, string>> labels)
    {
        bool dangling = image.RepoTags.Count == 0;
        if ((_dangling is { } wanted && wanted != dangling)
            || (_before is { } before && image.Created >= before)
            || (_since is { } since && image.Created <= since)
            || (_until is { } until && image.Created >= until)
            || (UsesLabels && !_values.MatchLabels(labels())))
            return null;
        if (!_values.Has("reference"))
            return image;
        var names = image.RepoTags.Where(tag => _values.Values("reference").Any(pattern => MatchesReference(pattern, tag))).ToList();
        return names.Count > 0 ? image with { RepoTags = names } : null;
    }

    /// <summary>docker's reference.FamiliarMatch: the pattern against the familiar NAME:TAG, else against the familiar NAME.</summary>
    internal static bool MatchesReference(string pattern, string name)
    {
        var familiar = ImageNames.Familiar(name);
        return GlobMatch(pattern, familiar) == true || GlobMatch(pattern, ImageNames.Split(familiar).Repository) == true;
    }

    /// <summary>Go's path.Match: `*` any run of characters but `/`, `?` one of them, `[...]` a class (`^` negates, `a-z` ranges), `\` escapes; null for a malformed pattern.</summary>
    internal static bool? GlobMatch(string pattern, string name)
    {
        // Checks the whole pattern first, as Go reports a bad pattern whatever the name.
        if (!WellFormed(pattern))
            return null;
        return Match(pattern, 0, name, 0);
    }

    private static bool Match(string pattern, int p, string name, int n)
    {
        while (p < pattern.Length)
        {
            switch (pattern[p])
            {
                case '*':
                    for (int end = n; ; end++)
                    {
                        if (Match(pattern, p + 1, name, end))
                            return true;
                        if (end == name.Length || name[end] == '/')
                            return false;
                    }
                case '?':
                    if (n == name.Length || name[n] == '/')
                        return false;
                    p++;
                    n++;
                    break;
                case '[':
                    if (n == name.Length || name[n] == '/' || !ClassMatches(pattern, ref p, name[n]))
                        return false;
                    n++;
                    break;
                case '\\':
                    p++;
                    goto default;
                default:
                    if (n == name.Length || name[n] != pattern[p])
                        return false;
                    p++;
                    n++;
                    break;
            }
        }
        return n == name.Length;
    }

    /// <summary>Matches <paramref name="c"/> against the class starting at <paramref name="p"/> and moves past it.</summary>
    private static bool ClassMatches(string pattern, ref int p, char c)
    {
        p++;
        bool negated = pattern[p] == '^';
        if (negated)
            p++;
        bool matched = false;
        for (bool first = true; first || pattern[p] != ']'; first = false)
        {
            char low = ClassChar(pattern, ref p), high = low;
            if (pattern[p] == '-')
            {
                p++;
                high = ClassChar(pattern, ref p);
            }
            matched |= low <= c && c <= high;
        }
        p++;
        return matched != negated;
    }

    private static char ClassChar(string pattern, ref int p)
    {
        if (pattern[p] == '\\')
            p++;
        return pattern[p++];
    }

    private static bool WellFormed(string pattern)
    {
        for (int p = 0; p < pattern.Length; p++)
        {
            if (pattern[p] == '\\')
            {
                if (++p == pattern.Length)
                    return false;
            }
            else if (pattern[p] == '[')
            {
                p++;
                if (p < pattern.Length && pattern[p] == '^')
                    p++;
                for (bool first = true; ; first = false)
                {
                    if (p == pattern.Length || (pattern[p] is '-' && first) || (pattern[p] == ']' && first))
                        return false;
                    if (pattern[p] == ']')
                        break;
                    if (!ClassCharWellFormed(pattern, ref p))
                        return false;
                    if (p < pattern.Length && pattern[p] == '-')
                    {
                        p++;
                        if (p == pattern.Length || pattern[p] == ']' || !ClassCharWellFormed(pattern, ref p))
                            return false;
                    }
                }
            }
        }
        return true;
    }

    private static bool ClassCharWellFormed(string pattern, ref int p)
    {
        if (pattern[p] == '\\' && ++p == pattern.Length)
            return false;
        p++;
        return true;
    }
}
