using Skiff.Engine;
using Skiff.Images.Service;

namespace Skiff.Cli;

/// <summary>What commands share: the image store (opened on first use, so `--help` never touches it) and the terminal.</summary>
internal sealed class CliContext(string? root) : IDisposable
{
    private ImageService? _images;
    private ContainerManager? _containers;

    public ImageService Images => _images ??= ImageService.Open(root is null ? new ImageServiceOptions() : new ImageServiceOptions { Root = root });

    /// <summary>The engine's options: its state lives under the same root as the images.</summary>
    public EngineOptions EngineOptions => new() { Root = Images.Root };

    public ContainerManager Containers => _containers ??= new ContainerManager(EngineOptions, RootfsProvider);

    public IRootfsProvider RootfsProvider => new ImageRootfsProvider(Images);

    public TextWriter Out { get; } = Console.Out;

    /// <summary>Whether stdout is a terminal: progress bars and tables sized for people, else plain lines.</summary>
    public bool IsTerminal { get; } = !Console.IsOutputRedirected;

    public void Dispose()
    {
        _containers?.Dispose();
        _images?.Dispose();
    }
}
