using Skiff.Engine;
using Skiff.Images.Service;

namespace Skiff.Cli;

/// <summary>What commands share: the engine (whose parts open on first use, so `--help` never touches the store) and the terminal.</summary>
internal sealed class CliContext(EngineHost engine) : IDisposable
{
    public EngineHost Engine { get; } = engine;

    /// <summary>The image use cases (pull, rmi, tag, inspect...), which record their events.</summary>
    public ImageOperations Images => Engine.Images;

    /// <summary>The image store itself, for what is not an image use case of the engine yet (run's image, commit).</summary>
    public ImageService ImageStore => Engine.ImageStore;

    public EngineOptions EngineOptions => Engine.Options;

    public ContainerLifecycle Containers => Engine.Containers;

    public IRootfsProvider RootfsProvider => Engine.Rootfs;

    public TextWriter Out { get; } = Console.Out;

    /// <summary>Whether stdout is a terminal: progress bars and tables sized for people, else plain lines.</summary>
    public bool IsTerminal { get; } = !Console.IsOutputRedirected;

    public void Dispose() => Engine.Dispose();
}
