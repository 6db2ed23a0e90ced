namespace Skiff.Engine.Containers;

/// <summary>`ps --filter KEY=VALUE`: id (prefix), name (substring), status, label (KEY or KEY=VALUE), exited (code); ANDed across keys, ORed within one.</summary>
public sealed class ContainerFilter
{
    private static readonly HashSet<string> Keys = ["id", "name", "status", "label", "exited"];
    private readonly ILookup<string, string> _values;

    private ContainerFilter(ILookup<string, string> values) => _values = values;

    public static ContainerFilter Parse(IReadOnlyList<string> filters)
    {
        var pairs = new List<(string Key, string Value)>();
        foreach (var filter in filters)
        {
            var eq = filter.IndexOf('=');
            if (eq <= 0 || !Keys.Contains(filter[..eq]))
                throw new EngineException($"invalid filter \"{filter}\": expected KEY=VALUE with KEY one of {string.Join(", ", Keys)}");
            var (key, value) = (filter[..eq], filter[(eq + 1)..]);
            if (key == "status" && !Enum.TryParse<ContainerStatus>(value, ignoreCase: true, out _))
                throw new EngineException($"invalid filter \"{filter}\": status is one of created, running, paused, restarting, exited");
            if (key == "exited" && !int.TryParse(value, out _))
                throw new EngineException($"invalid filter \"{filter}\": exited takes an exit code");
            pairs.Add((key, value));
        }
        return new ContainerFilter(pairs.ToLookup(p => p.Key, p => p.Value));
    }

    /// <summary>A status or exited filter lists stopped containers without -a, as docker does.</summary>
    public bool ImpliesAll => _values.Contains("status") || _values.Contains("exited");

    public bool Matches(ContainerRecord container)
        => Match("id", v => container.Id.StartsWith(v, StringComparison.Ordinal))
        && Match("name", v => container.Name.Contains(v.TrimStart('/'), StringComparison.Ordinal))
        && Match("status", v => container.State.Status.ToString().Equals(v, StringComparison.OrdinalIgnoreCase))
        && Match("exited", v => container.State.Status == ContainerStatus.Exited && container.State.ExitCode == int.Parse(v))
        && Match("label", v =>
        {
            var eq = v.IndexOf('=');
            return eq < 0 ? container.Config.Labels.ContainsKey(v)
                : container.Config.Labels.TryGetValue(v[..eq], out var actual) && actual == v[(eq + 1)..];
        });

    private bool Match(string key, Func<string, bool> predicate) => !_values.Contains(key) || _values[key].Any(predicate);
}
