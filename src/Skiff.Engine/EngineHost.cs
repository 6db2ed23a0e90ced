using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skiff.Engine.Events;
using Skiff.Images.Service;

namespace Skiff.Engine;

/// <summary>
/// One engine on one store, as a front end (the CLI, the API service, later the CRI) opens it once and shares it
/// between all its requests: the image store, the containers, volumes and events, each opened on first use so
/// that a command that needs none of them (`--help`) touches nothing, and the use-case services over them.
/// Safe for concurrent use.
/// </summary>
public sealed class EngineHost : IDisposable
{
    /// <summary>The engine's version, as `version` and `system info` report it.</summary>
    public const string Version = "0.1.0";

    private readonly Lazy<ImageService> _imageStore;
    private readonly Lazy<ContainerManager> _containers;

    public EngineHost(EngineOptions options, ILoggerFactory? logging = null, Func<ImageServiceOptions, ImageServiceOptions>? configureImages = null)
    {
        Options = options;
        Logging = logging ?? NullLoggerFactory.Instance;
        var imageOptions = new ImageServiceOptions { Root = options.Root };
        _imageStore = new(() => ImageService.Open(configureImages is null ? imageOptions : configureImages(imageOptions)), LazyThreadSafetyMode.ExecutionAndPublication);
        var journal = new EventJournal(options.EventsDirectory, logger: Logging.CreateLogger<EventJournal>());
        _containers = new(() => new ContainerManager(Options, Rootfs, journal), LazyThreadSafetyMode.ExecutionAndPublication);
        Events = new EventService(journal);
        Images = new ImageOperations(() => ImageStore, Events);
        System = new SystemService(options, () => ImageStore, Images, () => Containers);
    }

    public EngineOptions Options { get; }

    /// <summary>Where the engine's parts log what a user may want to know but is no failure (a front end decides where it goes).</summary>
    public ILoggerFactory Logging { get; }

    /// <summary>The image store (Skiff.Images, low level: no events), opened on first use.</summary>
    public ImageService ImageStore => _imageStore.Value;

    /// <summary>The image use cases: pull, push, tag, remove, prune, history, inspect, save, load, import, with their events.</summary>
    public ImageOperations Images { get; }

    /// <summary>Containers' root filesystems: snapshots of the store's images.</summary>
    public IRootfsProvider Rootfs => new ImageRootfsProvider(ImageStore);

    /// <summary>The engine's events: recorded by every operation and monitor, read and followed by `events`.</summary>
    public EventService Events { get; }

    /// <summary>Named and anonymous volumes.</summary>
    public VolumeService Volumes => Containers.Volumes;

    /// <summary>The engine as a whole: info, disk usage, prune.</summary>
    public SystemService System { get; }

    /// <summary>Transitional, until the container use cases are services of their own.</summary>
    public ContainerManager Containers => _containers.Value;

    public void Dispose()
    {
        if (_containers.IsValueCreated)
            _containers.Value.Dispose();
        if (_imageStore.IsValueCreated)
            _imageStore.Value.Dispose();
    }
}
