using Skiff.Engine;
using Skiff.Engine.Events;
using Skiff.Images.Service;

namespace Skiff.Cli;

/// <summary>What commands share: the engine (whose parts open on first use, so `--help` never touches the store) and the terminal.</summary>
internal sealed class CliContext(EngineHost engine) : IDisposable
{
    public EngineHost Engine { get; } = engine;

    public ImageService Images => Engine.Images;

    public EngineOptions EngineOptions => Engine.Options;

    public ContainerLifecycle Containers => Engine.Containers;

    public IRootfsProvider RootfsProvider => Engine.Rootfs;

    /// <summary>The engine's event journal: image commands record what they did there, as the engine does for containers.</summary>
    public EventJournal Events => Engine.Events;

    /// <summary>An image event as docker's daemon logs it: the actor (an image ID or a reference) and the name attribute.</summary>
    public void RecordImageEvent(string action, string actorId, string name)
        => Events.TryRecord(EngineEvent.Now(EngineEvent.Image, action, actorId, new Dictionary<string, string> { ["name"] = name }));

    /// <summary>untag and delete events for what <c>rmi</c> or a prune removed; <paramref name="before"/> tells the image of each name.</summary>
    public void RecordRemovalEvents(RemovalReport report, IReadOnlyList<Skiff.Images.Service.ImageInfo> before)
    {
        foreach (var name in report.Untagged)
            RecordImageEvent("untag", before.FirstOrDefault(i => i.RepoTags.Contains(name) || i.RepoDigests.Contains(name))?.Id ?? name, Output.Familiar(name));
        foreach (var id in report.Deleted)
            RecordImageEvent("delete", id, id);
    }

    public TextWriter Out { get; } = Console.Out;

    /// <summary>Whether stdout is a terminal: progress bars and tables sized for people, else plain lines.</summary>
    public bool IsTerminal { get; } = !Console.IsOutputRedirected;

    public void Dispose() => Engine.Dispose();
}
