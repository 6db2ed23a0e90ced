using Skiff.Engine.Containers;

namespace Skiff.Engine;

/// <summary>
/// The filters of docker's prunes: until (created before a time: RFC 3339, unix seconds or a duration back from now;
/// containers and images), label (KEY or KEY=VALUE present) and label! (absent); for volumes, all (true: named
/// volumes too, as docker's API takes it).
/// </summary>
public sealed class PruneFilter
{
    internal static readonly string[] ContainerKeys = ["until", "label", "label!"];
    internal static readonly string[] ImageKeys = ContainerKeys;
    internal static readonly string[] VolumeKeys = ["label", "label!", "all"];

    private readonly FilterValues _values;
    private readonly DateTimeOffset? _until;

    private PruneFilter(FilterValues values, DateTimeOffset now)
    {
        _values = values;
        _until = values.Until(now);
    }

    /// <exception cref="EngineException">InvalidArgument for a key the prune does not take (docker's "invalid filter 'KEY'") or a bad value.</exception>
    internal static PruneFilter Parse(IReadOnlyList<string> filters, IReadOnlyCollection<string> keys, DateTimeOffset now)
        => new(FilterValues.Parse(filters, keys, (filter, key, value) =>
        {
            if (key == "all" && value is not ("true" or "false" or "1" or "0"))
                throw FilterValues.Invalid(filter);
        }), now);

    public bool HasUntil => _until is not null;

    /// <summary>The volume prune's `all` filter: named volumes as well as anonymous ones.</summary>
    public bool All => _values.Values("all").LastOrDefault() is "true" or "1";

    /// <summary>Whether the labels are needed (an image's cost reading its config).</summary>
    public bool UsesLabels => _values.Has("label") || _values.Has("label!");

    /// <summary>Whether an object created at <paramref name="created"/> with these labels is to be pruned (null labels: not needed, see <see cref="UsesLabels"/>).</summary>
    public bool Matches(DateTimeOffset created, IReadOnlyDictionary<string, string>? labels)
        => (_until is not { } until || created < until) && (labels is null || _values.MatchLabels(labels));
}
