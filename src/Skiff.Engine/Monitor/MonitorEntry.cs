using Microsoft.Extensions.Logging;
using Skiff.Images.Service;

namespace Skiff.Engine.Monitor;

/// <summary>
/// Where a front end's binary hands over when the engine starts it as a container's monitor
/// (<see cref="EngineOptions.MonitorCommand"/>): the rest of its arguments, <c>--root DIR --run-root DIR --runtime-root DIR [ID]</c>.
/// </summary>
public static class MonitorEntry
{
    /// <summary>Runs the monitor of a container whose rootfs is a snapshot of the image store at its root; returns the exit status.</summary>
    /// <param name="logging">Where the monitor tells what it could not do: its stderr is the container's monitor.log.</param>
    public static int Run(IReadOnlyList<string> args, ILoggerFactory logging)
    {
        ImageService? images = null;
        try
        {
            // The store the container came from is the one the engine named, not this process's default.
            return ContainerMonitor.Run(args, root => new ImageRootfsProvider(images = ImageService.Open(new ImageServiceOptions { Root = root })), logging);
        }
        finally
        {
            images?.Dispose();
        }
    }
}
