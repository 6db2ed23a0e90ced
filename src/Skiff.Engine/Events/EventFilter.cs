using Skiff.Engine.Containers;

namespace Skiff.Engine.Events;

/// <summary>
/// `events --filter KEY=VALUE` as docker has it: container (ID prefix or name), image (a container's image, or an
/// image's ID or name), event (the action; "exec_create" matches "exec_create: CMD"), type, label (KEY or
/// KEY=VALUE among the attributes), volume (name). ANDed across keys, ORed within one.
/// </summary>
public sealed class EventFilter
{
    private static readonly string[] Keys = ["container", "image", "event", "type", "label", "volume"];
    private readonly FilterValues _values;

    private EventFilter(FilterValues values) => _values = values;

    public static EventFilter Parse(IReadOnlyList<string> filters) => new(FilterValues.Parse(filters, Keys));

    public bool Matches(EngineEvent e)
    {
        var attributes = e.Actor.Attributes;
        return _values.Match("type", v => e.Type == v)
            && _values.Match("event", v => e.Action == v || e.Action.StartsWith(v + ":", StringComparison.Ordinal))
            && _values.Match("container", v => e.Type == EngineEvent.Container && (e.Actor.Id.StartsWith(v, StringComparison.Ordinal) || attributes.GetValueOrDefault("name") == v))
            && _values.Match("image", v => e.Type switch
            {
                EngineEvent.Container => attributes.GetValueOrDefault("image") == v,
                EngineEvent.Image => e.Actor.Id == v || e.Actor.Id == "sha256:" + v || attributes.GetValueOrDefault("name") == v,
                _ => false,
            })
            && _values.Match("volume", v => e.Type == EngineEvent.Volume && e.Actor.Id == v)
            && _values.Match("label", v => FilterValues.HasLabel(attributes, v));
    }
}
