using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skiff.Engine.Containers;
using Skiff.Engine.Events;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Skiff.Network;

namespace Skiff.Engine;

/// <summary>
/// What the container services (<see cref="ContainerCreation"/>, <see cref="ContainerLifecycle"/>,
/// <see cref="ContainerQueries"/>, <see cref="ContainerExec"/>) and a container's monitor share: the store, the
/// options, the rootfs provider and the event journal, and the few steps they all take on a container. It holds no
/// state of its own beyond them: commands on one container serialize on its lock (<see cref="ContainerDirectory.Lock"/>),
/// so these are safe for concurrent calls as long as the store is.
/// </summary>
internal sealed class ContainerContext : IDisposable
{
    /// <summary>How long to wait for a monitor to record an exit it has seen.</summary>
    public static readonly TimeSpan MonitorGrace = TimeSpan.FromSeconds(10);

    private readonly bool _ownsStore;

    public ContainerContext(EngineOptions options, IRootfsProvider rootfs, ContainerStore store, EventJournal events, bool ownsStore, ILoggerFactory? logging = null)
    {
        Options = options;
        Rootfs = rootfs;
        Store = store;
        Events = events;
        _ownsStore = ownsStore;
        Volumes = new VolumeService(options, store, events);
        _networks = new(() => OpenNetworks(options, logging ?? NullLoggerFactory.Instance), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private readonly Lazy<NetworkService> _networks;

    /// <summary>The store's networks (networks.db, the host's links and rules), opened on first use.</summary>
    public NetworkService Networks => _networks.Value;

    private static NetworkService OpenNetworks(EngineOptions options, ILoggerFactory logging)
    {
        var config = EngineConfig.Load(options.ConfigFile);
        return NetworkService.Open(new NetworkServiceOptions
        {
            DatabasePath = options.NetworkDatabasePath,
            RunRoot = options.RunRoot,
            DefaultBridgeName = options.DefaultBridgeName,
            AddressPools = config.AddressPools(options.ConfigFile),
            DefaultBridgeAddress = config.Bip,
            HostLockPath = Path.Combine(EngineOptions.DefaultRunRoot, "network.lock"),
            DnsResolverCommand = options.DnsResolverCommand,
            CniConfigDirectory = config.CniConfigDir ?? EngineConfig.DefaultCniConfigDirectory,
            Logger = logging.CreateLogger<NetworkService>(),
        });
    }

    /// <summary>
    /// Frees what a container that is not running holds on its networks (interfaces, addresses, published ports, its
    /// namespace): after its monitor stopped it, or when a crash (a killed `run` or monitor, a reboot) left them.
    /// </summary>
    public void ReleaseNetwork(ContainerRecord container)
    {
        if (container.Config.Options.Network == NetworkMode.Bridge)
            Networks.Detach(container.Id);
    }

    /// <summary>Opens the store at <paramref name="options"/>' root (tightening a store an older skiff made by the umask).</summary>
    public static ContainerContext Open(EngineOptions options, IRootfsProvider rootfs, EventJournal events, ILoggerFactory? logging = null)
    {
        PrivateStore.EnsureDirectory(options.ContainersDirectory);
        PrivateStore.EnsureDirectory(options.VolumesDirectory);
        PrivateStore.EnsureDirectory(options.EventsDirectory);
        return new ContainerContext(options, rootfs, ContainerStore.Open(options.DatabasePath), events, ownsStore: true, logging);
    }

    public EngineOptions Options { get; }
    public IRootfsProvider Rootfs { get; }
    public ContainerStore Store { get; }
    public EventJournal Events { get; }
    public VolumeService Volumes { get; }

    public ContainerDirectory DirectoryOf(string id) => new(Options, id);

    public RuntimeClient RuntimeOf(ContainerRecord container) => new(container.Config.Runtime, Options.RuntimeRoot);

    /// <summary>The container with this id, id prefix or name, as recorded.</summary>
    /// <exception cref="EngineException">NotFound.</exception>
    public ContainerRecord Require(string idOrName)
        => Store.Find(idOrName) ?? throw new EngineException(ErrorKind.NotFound, $"no such container: {idOrName}");

    public void RecordEvent(ContainerRecord container, string action, params (string Key, string Value)[] extra)
        => ContainerEvents.Record(Events, container, action, extra);

    public static bool IsActive(ContainerStatus status) => status is ContainerStatus.Running or ContainerStatus.Paused or ContainerStatus.Restarting;

    public static string Describe(ContainerStatus status) => status.ToString().ToLowerInvariant();

    public static bool MonitorAlive(ContainerRecord container)
        => ProcessIdentity.IsAlive(container.State.MonitorPid, container.State.MonitorStartTime);

    /// <summary>
    /// The truth behind a recorded state: a container recorded as running whose monitor and process are both
    /// gone (monitor killed, host rebooted) has exited; its exit status is unknown, recorded as 255 unless an
    /// exit was already recorded. A container whose monitor is gone but whose process lives is still running.
    /// </summary>
    public ContainerRecord Reconcile(ContainerRecord container)
    {
        if (!IsActive(container.State.Status) || MonitorAlive(container))
            return container;
        if (container.State.Status != ContainerStatus.Restarting && ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime))
            return container;
        var monitorPid = container.State.MonitorPid;
        bool died = false;
        var state = Store.ChangeState(container.Id, s =>
        {
            died = s.MonitorPid == monitorPid && IsActive(s.Status);
            return !died ? s : s with { Status = ContainerStatus.Exited, ExitCode = 255, FinishedAt = DateTimeOffset.UtcNow, Pid = 0, PidStartTime = 0 };
        });
        if (died)
        {
            ReleaseNetwork(container);
            RecordEvent(container, "die", ("exitCode", "255"));
        }
        return state is null ? container : container with { State = state };
    }

    /// <summary>
    /// Deletes what is left of a container that is not running, under its lock: the runtime's state, its rootfs, its
    /// anonymous volumes with <paramref name="volumes"/>, its directory and its row.
    /// </summary>
    public void RemoveFiles(ContainerRecord container, bool volumes)
    {
        if (Directory.Exists(Path.Combine(Options.RuntimeRoot, container.Id)))
        {
            var delete = RuntimeOf(container).Run("delete", "--force", container.Id);
            if (delete.ExitCode != 0 && Directory.Exists(Path.Combine(Options.RuntimeRoot, container.Id)))
                throw new EngineException(ErrorKind.Internal, $"cannot remove container {container.Name}: the runtime could not delete it: {delete.Error}");
        }
        ReleaseNetwork(container);
        Rootfs.Release(container.Id);
        if (volumes)
            foreach (var volume in container.Config.AnonymousVolumes)
                Volumes.RemoveUnchecked(volume);
        Directory.Delete(Options.ContainerDirectory(container.Id), recursive: true);
        Store.Delete(container.Id);
        RecordEvent(container, "destroy");
    }

    public void Dispose()
    {
        if (_networks.IsValueCreated)
            _networks.Value.Dispose();
        if (_ownsStore)
            Store.Dispose();
    }
}
