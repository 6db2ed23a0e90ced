namespace Skiff.Engine.Containers;

/// <summary>
/// docker's --filter KEY=VALUE lists (ps, images, events, prune): ANDed across keys, ORed within one. As docker's
/// client, the key is what precedes the first `=` (so `label!=a=b` is key `label!`), lowercased, and key and value
/// are trimmed.
/// </summary>
internal sealed class FilterValues
{
    private readonly ILookup<string, string> _values;

    private FilterValues(ILookup<string, string> values) => _values = values;

    /// <summary>Parses the filters; <paramref name="validate"/> (filter, key, value) may throw for a value its key does not take.</summary>
    /// <exception cref="EngineException">InvalidArgument: not KEY=VALUE, or a key not among <paramref name="keys"/> (docker's "invalid filter 'KEY'").</exception>
    public static FilterValues Parse(IReadOnlyList<string> filters, IReadOnlyCollection<string> keys, Action<string, string, string>? validate = null)
    {
        var pairs = new List<(string Key, string Value)>();
        foreach (var filter in filters)
        {
            var eq = filter.IndexOf('=');
            if (eq < 0)
                throw new EngineException(ErrorKind.InvalidArgument, $"bad format of filter \"{filter}\" (expected name=value)");
            var (key, value) = (filter[..eq].Trim().ToLowerInvariant(), filter[(eq + 1)..].Trim());
            if (!keys.Contains(key))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter '{key}'");
            validate?.Invoke($"{key}={value}", key, value);
            pairs.Add((key, value));
        }
        return new FilterValues(pairs.ToLookup(p => p.Key, p => p.Value));
    }

    /// <summary>docker's error for a value its key does not take: "invalid filter 'KEY=VALUE'".</summary>
    public static EngineException Invalid(string filter) => new(ErrorKind.InvalidArgument, $"invalid filter '{filter}'");

    public bool Has(string key) => _values.Contains(key);

    public IEnumerable<string> Values(string key) => _values[key];

    /// <summary>True when no filter has this key, or one of its values satisfies <paramref name="predicate"/>.</summary>
    public bool Match(string key, Func<string, bool> predicate) => !_values.Contains(key) || _values[key].Any(predicate);

    /// <summary>`label=KEY[=VALUE]` (one of them present) and, where a prune takes it, `label!=KEY[=VALUE]` (none present).</summary>
    public bool MatchLabels(IReadOnlyDictionary<string, string> labels)
        => Match("label", v => HasLabel(labels, v)) && !_values["label!"].Any(v => HasLabel(labels, v));

    /// <summary>docker's label filter: KEY is present, or KEY=VALUE is.</summary>
    public static bool HasLabel(IReadOnlyDictionary<string, string> labels, string filter)
    {
        var eq = filter.IndexOf('=');
        return eq < 0 ? labels.ContainsKey(filter) : labels.TryGetValue(filter[..eq], out var actual) && actual == filter[(eq + 1)..];
    }

    /// <summary>The `until` filter's time; null without one.</summary>
    /// <exception cref="EngineException">InvalidArgument: not one of docker's time forms, or more than one.</exception>
    public DateTimeOffset? Until(DateTimeOffset now)
    {
        if (!Has("until"))
            return null;
        if (_values["until"].Count() > 1)
            throw new EngineException(ErrorKind.InvalidArgument, "more than one until filter specified");
        var value = _values["until"].Single();
        return DockerTime.TryParse(value, now) ?? throw Invalid($"until={value}");
    }
}
