using Skiff.Engine.Events;

namespace Skiff.Engine.Containers;

/// <summary>Container events as docker records them, from the engine's services and from a container's monitor.</summary>
public static class ContainerEvents
{
    /// <summary>Records an event with docker's attributes: the container's labels, its image and name, then <paramref name="extra"/>.</summary>
    public static void Record(EventJournal journal, ContainerRecord container, string action, params (string Key, string Value)[] extra)
    {
        var attributes = new Dictionary<string, string>(container.Config.Labels) { ["image"] = container.Image, ["name"] = container.Name };
        foreach (var (key, value) in extra)
            attributes[key] = value;
        journal.TryRecord(EngineEvent.Now(EngineEvent.Container, action, container.Id, attributes));
    }
}
