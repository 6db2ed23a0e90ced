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
    /// <summary>The engine's version, as `version` and `system info` report it.</summary>
    public const string Version = "0.1.0";

    private readonly Lazy<ImageService> _imageStore;
    private readonly IRootfsProvider? _rootfs;
    private readonly Lazy<ContainerContext> _containerContext;
    private readonly Lazy<ContainerLifecycle> _containers;
    private readonly Lazy<ContainerCreation> _containerCreation;
    private readonly Lazy<ContainerQueries> _containerQueries;
    private readonly Lazy<ContainerExec> _containerExec;
    private readonly Lazy<NetworkOperations> _networks;

    /// <param name="rootfs">Where containers' root filesystems come from: snapshots of the image store unless given (tests give directories).</param>
    public EngineHost(EngineOptions options, ILoggerFactory? logging = null, Func<ImageServiceOptions, ImageServiceOptions>? configureImages = null,
        IRootfsProvider? rootfs = null)
    {
        Options = options;
        Logging = logging ?? NullLoggerFactory.Instance;
        var imageOptions = new ImageServiceOptions { Root = options.Root };
        _imageStore = new(() => ImageService.Open(configureImages is null ? imageOptions : configureImages(imageOptions)), LazyThreadSafetyMode.ExecutionAndPublication);
        _rootfs = rootfs;
        var journal = new EventJournal(options.EventsDirectory, logger: Logging.CreateLogger<EventJournal>());
        Events = new EventService(journal);
        Images = new ImageOperations(() => ImageStore, Events);
        _containerContext = new(() => ContainerContext.Open(Options, Rootfs, journal, Logging), LazyThreadSafetyMode.ExecutionAndPublication);
        _containers = new(() => new ContainerLifecycle(_containerContext.Value), LazyThreadSafetyMode.ExecutionAndPublication);
        _containerCreation = new(() => new ContainerCreation(_containerContext.Value), LazyThreadSafetyMode.ExecutionAndPublication);
        _containerQueries = new(() => new ContainerQueries(_containerContext.Value, Images.AndDescendants), LazyThreadSafetyMode.ExecutionAndPublication);
        _containerExec = new(() => new ContainerExec(_containerContext.Value), LazyThreadSafetyMode.ExecutionAndPublication);
        _networks = new(() => new NetworkOperations(_containerContext.Value), LazyThreadSafetyMode.ExecutionAndPublication);
        System = new SystemService(this);
    }

    public EngineOptions Options { get; }

    /// <summary>Where the engine's parts log what a user may want to know but is no failure (a front end decides where it goes).</summary>
    public ILoggerFactory Logging { get; }

    /// <summary>The image store (Skiff.Images, low level: no events), opened on first use.</summary>
    public ImageService ImageStore => _imageStore.Value;

    /// <summary>The image use cases: pull, push, tag, remove, prune, history, inspect, save, load, import, with their events.</summary>
    public ImageOperations Images { get; }

    /// <summary>Containers' root filesystems: snapshots of the store's images.</summary>
    public IRootfsProvider Rootfs => _rootfs ?? new ImageRootfsProvider(ImageStore);

    /// <summary>The engine's events: recorded by every operation and monitor, read and followed by `events`.</summary>
    public EventService Events { get; }

    /// <summary>Containers' lives: start, stop, kill, restart, pause, unpause, rename, remove, prune, wait, attach.</summary>
    public ContainerLifecycle Containers => _containers.Value;

    /// <summary>New containers, and monitors started ahead of them.</summary>
    public ContainerCreation ContainerCreation => _containerCreation.Value;

    /// <summary>Containers as they are: list, get, inspect, top, logs.</summary>
    public ContainerQueries ContainerQueries => _containerQueries.Value;

    /// <summary>Processes run in running containers.</summary>
    public ContainerExec ContainerExec => _containerExec.Value;

    /// <summary>Named and anonymous volumes (on the containers' database).</summary>
    public VolumeService Volumes => _containerContext.Value.Volumes;

    /// <summary>Networks: create, list, inspect, remove, prune, connect, disconnect.</summary>
    public NetworkOperations Networks => _networks.Value;

    /// <summary>The engine as a whole: info, disk usage, prune.</summary>
    public SystemService System { get; }

    /// <summary>What creating a container decides: its image (pulled per policy), seccomp filter and security options.</summary>
    public ContainerRunPolicy RunPolicy => new(ImageStore);

    /// <summary>Images made from containers: commit (pausing a running one) and a container's changes.</summary>
    public ContainerCommit Commits => new(ContainerQueries, Containers, ImageStore, Events);

    /// <summary>Files in and out of containers as tar streams, with docker cp's path rules; export.</summary>
    public ContainerArchives ContainerFiles => new(ContainerQueries);

    /// <summary>Streams of containers' statistics with CPU % and the other docker stats columns.</summary>
    public ContainerStatsService ContainerStats => new(ContainerQueries);

    public void Dispose()
    {
        if (_containerContext.IsValueCreated)
            _containerContext.Value.Dispose();
        if (_imageStore.IsValueCreated)
            _imageStore.Value.Dispose();
    }
}
