namespace Skiff.Engine.Containers;

/// <summary>docker's --filter KEY=VALUE lists (ps, events): ANDed across keys, ORed within one.</summary>
internal sealed class FilterValues
{
    private readonly ILookup<string, string> _values;

    private FilterValues(ILookup<string, string> values) => _values = values;

    /// <summary>Parses the filters; <paramref name="validate"/> may throw for a value its key does not take.</summary>
    public static FilterValues Parse(IReadOnlyList<string> filters, IReadOnlyCollection<string> keys, Action<string, string, string>? validate = null)
    {
        var pairs = new List<(string Key, string Value)>();
        foreach (var filter in filters)
        {
            var eq = filter.IndexOf('=');
            if (eq <= 0 || !keys.Contains(filter[..eq]))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter \"{filter}\": expected KEY=VALUE with KEY one of {string.Join(", ", keys)}");
            var (key, value) = (filter[..eq], filter[(eq + 1)..]);
            validate?.Invoke(filter, key, value);
            pairs.Add((key, value));
        }
        return new FilterValues(pairs.ToLookup(p => p.Key, p => p.Value));
    }

    public bool Has(string key) => _values.Contains(key);

    /// <summary>True when no filter has this key, or one of its values satisfies <paramref name="predicate"/>.</summary>
    public bool Match(string key, Func<string, bool> predicate) => !_values.Contains(key) || _values[key].Any(predicate);

    /// <summary>docker's label filter: KEY is present, or KEY=VALUE is.</summary>
    public static bool HasLabel(IReadOnlyDictionary<string, string> labels, string filter)
    {
        var eq = filter.IndexOf('=');
        return eq < 0 ? labels.ContainsKey(filter) : labels.TryGetValue(filter[..eq], out var actual) && actual == filter[(eq + 1)..];
    }
}
