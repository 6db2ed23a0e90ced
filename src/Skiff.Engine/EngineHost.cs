using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skiff.Engine.Events;
using Skiff.Images.Service;

namespace Skiff.Engine;

/// <summary>
/// One engine on one store, as a front end (the CLI, the API service, later the CRI) opens it once and shares it
/// between all its requests: the image service, the containers, volumes and events, each opened on first use so
/// that a command that needs none of them (`--help`) touches nothing. Safe for concurrent use.
/// </summary>
public sealed class EngineHost : IDisposable
{
    private readonly Lazy<ImageService> _images;
    private readonly Lazy<ContainerManager> _containers;

    public EngineHost(EngineOptions options, ILoggerFactory? logging = null, Func<ImageServiceOptions, ImageServiceOptions>? configureImages = null)
    {
        Options = options;
        Logging = logging ?? NullLoggerFactory.Instance;
        var imageOptions = new ImageServiceOptions { Root = options.Root };
        _images = new(() => ImageService.Open(configureImages is null ? imageOptions : configureImages(imageOptions)), LazyThreadSafetyMode.ExecutionAndPublication);
        _containers = new(() => new ContainerManager(Options, Rootfs), LazyThreadSafetyMode.ExecutionAndPublication);
        Events = new EventJournal(options.EventsDirectory);
    }

    public EngineOptions Options { get; }

    /// <summary>Where the engine's parts log what a user may want to know but is no failure (a front end decides where it goes).</summary>
    public ILoggerFactory Logging { get; }

    /// <summary>The image store, opened on first use.</summary>
    public ImageService Images => _images.Value;

    /// <summary>Containers' root filesystems: snapshots of the store's images.</summary>
    public IRootfsProvider Rootfs => new ImageRootfsProvider(Images);

    /// <summary>The journal every operation and monitor records its events in (`skiff events` reads it).</summary>
    public EventJournal Events { get; }

    /// <summary>Transitional, until the container use cases are services of their own.</summary>
    public ContainerManager Containers => _containers.Value;

    public void Dispose()
    {
        if (_containers.IsValueCreated)
            _containers.Value.Dispose();
        if (_images.IsValueCreated)
            _images.Value.Dispose();
    }
}
