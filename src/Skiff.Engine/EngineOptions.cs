using Skiff.Engine.Specs;
using Skiff.Oci.Image;

namespace Skiff.Engine;

/// <summary>
/// Where the engine keeps its state and which programs it runs: the one paths policy of every front end
/// (<see cref="Resolve"/>), so that the CLI, the API service and the monitor all find the same store.
/// </summary>
public sealed record EngineOptions
{
    public const string DefaultRoot = "/var/lib/skiff";
    /// <summary>Environment variable overriding <see cref="DefaultRoot"/>.</summary>
    public const string RootVariable = "SKIFF_ROOT";
    /// <summary>On tmpfs, so after a reboot the runtime has no state for containers that cannot be running any more.</summary>
    public const string DefaultRunRoot = "/run/skiff";
    public const string RunRootVariable = "SKIFF_RUNROOT";
    public const string DefaultConfigDirectory = "/etc/skiff";

    private readonly string? _runRoot;
    private readonly string? _runtimeRoot;

    /// <summary>The store: images (content, metadata.db, snapshots), engine.db, containers/ID (bundle, logs, sockets, lock), volumes/NAME/_data.</summary>
    public required string Root { get; init; }

    /// <summary>The store's state that a reboot clears (<see cref="RunRootFor"/> unless given).</summary>
    public string RunRoot
    {
        get => _runRoot ?? RunRootFor(Root);
        init => _runRoot = value;
    }

    /// <summary>
    /// The runtime's --root: its state for this store's containers, RUNROOT/runtime. Two stores never share it: the
    /// runtime would list, and `rm` could delete, the other store's containers.
    /// </summary>
    public string RuntimeRoot
    {
        get => _runtimeRoot ?? Path.Combine(RunRoot, "runtime");
        init => _runtimeRoot = value;
    }

    /// <summary>registries.conf and the engine's other configuration.</summary>
    public string ConfigDirectory { get; init; } = DefaultConfigDirectory;

    /// <summary>
    /// The options of the store a front end was asked for: <paramref name="root"/> else $SKIFF_ROOT else
    /// <see cref="DefaultRoot"/>; <paramref name="runRoot"/> else $SKIFF_RUNROOT else derived from the root.
    /// </summary>
    public static EngineOptions Resolve(string? root = null, string? runRoot = null)
    {
        root ??= NonEmpty(Environment.GetEnvironmentVariable(RootVariable)) ?? DefaultRoot;
        runRoot ??= NonEmpty(Environment.GetEnvironmentVariable(RunRootVariable));
        return runRoot is null
            ? new EngineOptions { Root = Path.GetFullPath(root) }
            : new EngineOptions { Root = Path.GetFullPath(root), RunRoot = Path.GetFullPath(runRoot) };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>
    /// Where the state of <paramref name="root"/> that must not outlive a reboot lives: /run/skiff for the default
    /// store, else /run/skiff/store-HASH, HASH naming the store's absolute path (podman's --runroot, derived).
    /// </summary>
    public static string RunRootFor(string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (full == DefaultRoot)
            return DefaultRunRoot;
        ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(full));
        return Path.Combine(DefaultRunRoot, $"store-{hash:x16}");
    }
    /// <summary>The runc-compatible runtime new containers use (`--runtime PATH`).</summary>
    public string Runtime { get; init; } = DefaultRuntime();
    /// <summary>
    /// argv of the monitor up to its own arguments: the running `skiff` re-executed in its hidden `monitor` mode,
    /// which calls <see cref="Monitor.ContainerMonitor.Run"/>.
    /// </summary>
    public IReadOnlyList<string> MonitorCommand { get; init; } = [Environment.ProcessPath ?? "skiff", "monitor"];
    /// <summary>argv of the store's DNS resolver for user networks (the running `skiff` in its hidden mode); null runs none.</summary>
    public IReadOnlyList<string>? DnsResolverCommand { get; init; } = [Environment.ProcessPath ?? "skiff", "dns-resolver"];
    /// <summary>skiff-init, the pid 1 of `run --init`: $SKIFF_INIT, else next to the running binary; null when missing.</summary>
    public string? InitBinary { get; init; } = DefaultInit();
    /// <summary>Parent of the cgroup of every container that does not name its own (docker's --cgroup-parent).</summary>
    public string CgroupParent { get; init; } = "/skiff";

    /// <summary>
    /// The linux.cgroupsPath a container gets; its stats and OOM count are read there again, through Skiff.Cgroups'
    /// cgroupfs reader. The engine never asks the runtime for systemd cgroups (no --systemd-cgroup): a path in this
    /// form is placed as it is by the cgroupfs driver of skiff-runtime and runc, and their systemd driver refuses it
    /// at create ("slice:prefix:name" expected), so a container never runs with its counters where the engine does
    /// not look. Supporting a systemd driver means reading stats through the runtime (`events --stats`) instead.
    /// </summary>
    /// <param name="cgroupParent">The container's own parent (docker's --cgroup-parent, <see cref="CgroupParents.Normalize"/>d), else <see cref="CgroupParent"/>.</param>
    public string CgroupsPathOf(string containerId, string? cgroupParent = null)
        => cgroupParent is null ? $"{CgroupParent}/{containerId}" : $"{CgroupParents.Normalize(cgroupParent).TrimEnd('/')}/{containerId}";
    public HostFacts? Host { get; init; }

    public string DatabasePath => Path.Combine(Root, "engine.db");
    /// <summary>networks.db: networks, and the endpoints of running containers with their addresses.</summary>
    public string NetworkDatabasePath => Path.Combine(Root, "networks.db");
    /// <summary>The engine's settings (docker's daemon.json keys that apply): $SKIFF_CONFIG, else /etc/skiff/engine.json; missing means defaults.</summary>
    public string ConfigFile { get; init; } = Environment.GetEnvironmentVariable("SKIFF_CONFIG") is { Length: > 0 } file ? file : Path.Combine(DefaultConfigDirectory, "engine.json");

    /// <summary>
    /// The default network's bridge: skiff0 for the default store, skiff-HASH8 for another (HASH8 from its run root's
    /// name), so that two stores on one host never share a bridge.
    /// </summary>
    public string DefaultBridgeName
    {
        get
        {
            var runRoot = Path.GetFileName(Path.TrimEndingDirectorySeparator(RunRoot));
            return RunRoot == DefaultRunRoot ? "skiff0" : runRoot.StartsWith("store-", StringComparison.Ordinal) ? "skiff-" + runRoot[6..14]
                : "skiff-" + System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(RunRoot)).ToString("x16")[..8];
        }
    }
    public string ContainersDirectory => Path.Combine(Root, "containers");
    public string VolumesDirectory => Path.Combine(Root, "volumes");
    /// <summary>The event journal every command and monitor appends to (see <see cref="Events.EventJournal"/>).</summary>
    public string EventsDirectory => Path.Combine(Root, "events");
    public string ContainerDirectory(string id) => Path.Combine(ContainersDirectory, id);

    private static string? DefaultInit()
    {
        if (Environment.GetEnvironmentVariable("SKIFF_INIT") is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        var beside = Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/bin", "skiff-init");
        return File.Exists(beside) ? beside : null;
    }

    /// <summary>$SKIFF_RUNTIME, else skiff-runtime next to the running binary, else on PATH.</summary>
    public static string DefaultRuntime()
    {
        if (Environment.GetEnvironmentVariable("SKIFF_RUNTIME") is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        var beside = Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/bin", "skiff-runtime");
        return File.Exists(beside) ? beside : "skiff-runtime";
    }
}

/// <summary>An image as a container needs it: its id and its execution config (the CLI resolves and pulls it per --pull).</summary>
public sealed record ContainerImage(string Id, ImageExecutionConfig? Config);

/// <summary>
/// A container's root filesystem: the image service's overlay snapshot in production, a plain directory copy in
/// tests. Prepare must leave nothing behind when it fails; Release must accept a container it never prepared.
/// </summary>
public interface IRootfsProvider
{
    /// <summary>Prepares a writable rootfs for <paramref name="containerId"/> from the image; returns its host path.</summary>
    string Prepare(string containerId, string imageId);

    /// <summary>Unmounts and removes the container's rootfs (idempotent).</summary>
    void Release(string containerId);

    /// <summary>
    /// Mounts a prepared rootfs at its path again when it is not mounted there (the host rebooted since it was
    /// prepared); true when this call mounted it, and the caller then <see cref="Unmount"/>s it when done.
    /// </summary>
    bool Remount(string containerId);

    /// <summary>Unmounts the rootfs from its path: what <see cref="Remount"/> mounted, or a finished build step's before its commit.</summary>
    void Unmount(string containerId);

    /// <summary>Bytes of what the container changed in its rootfs (docker's SizeRw); 0 when it has no rootfs.</summary>
    long WritableSize(string containerId);
}
