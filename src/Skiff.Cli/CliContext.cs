using Skiff.Images.Service;

namespace Skiff.Cli;

/// <summary>What commands share: the image store (opened on first use, so `--help` never touches it) and the terminal.</summary>
internal sealed class CliContext(string? root) : IDisposable
{
    private ImageService? _images;

    public ImageService Images => _images ??= ImageService.Open(root is null ? new ImageServiceOptions() : new ImageServiceOptions { Root = root });

    public TextWriter Out { get; } = Console.Out;

    /// <summary>Whether stdout is a terminal: progress bars and tables sized for people, else plain lines.</summary>
    public bool IsTerminal { get; } = !Console.IsOutputRedirected;

    public void Dispose() => _images?.Dispose();
}
