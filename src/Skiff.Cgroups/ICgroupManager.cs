using Skiff.Cgroups.Systemd;
using Skiff.Oci;

namespace Skiff.Cgroups;

/// <summary>One hierarchy's directory of a container.</summary>
public sealed record CgroupDirectory(string Path, bool IsV2);

/// <summary>What the runtime needs to bind into the container for a "cgroup" mount.</summary>
public sealed class CgroupMountSource
{
    public CgroupMountSource(string containerPath, string hostDirectory, IReadOnlyList<string> controllers,
        bool isV2, IReadOnlyList<string> symlinks)
    {
        ContainerPath = containerPath;
        HostDirectory = hostDirectory;
        Controllers = controllers;
        IsV2 = isV2;
        Symlinks = symlinks;
    }

    /// <summary>Mount point inside the container: "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/systemd",
    /// "/sys/fs/cgroup/unified" (hybrid) or "/sys/fs/cgroup" (v2).</summary>
    public string ContainerPath { get; }

    /// <summary>The host directory to bind there (the container's cgroup in that hierarchy).</summary>
    public string HostDirectory { get; }

    /// <summary>v1 controllers of the hierarchy ("cpu","cpuacct"), "name=systemd" for named ones; empty for v2.</summary>
    public IReadOnlyList<string> Controllers { get; }

    public bool IsV2 { get; }

    /// <summary>Names of symlinks to create next to <see cref="ContainerPath"/> pointing at it, for comounted
    /// controllers (runc: cpu → cpu,cpuacct and cpuacct → cpu,cpuacct). Just names, relative to /sys/fs/cgroup.</summary>
    public IReadOnlyList<string> Symlinks { get; }
}

public interface ICgroupManager
{
    CgroupMode Mode { get; }

    /// <summary>Resolved directories, serialisable.</summary>
    CgroupPaths Paths { get; }

    /// <summary>The cgroup.procs files (host paths) a process writes its pid into to join every hierarchy.</summary>
    IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>The container's directory in every hierarchy, and whether that hierarchy is cgroup2.</summary>
    IReadOnlyList<CgroupDirectory> Directories { get; }

    IReadOnlyList<CgroupMountSource> MountSources { get; }

    /// <summary>False when device rules in <see cref="Apply"/> are not enforced: a hybrid host without a v1 devices
    /// hierarchy (the eBPF filter is only used on pure cgroup v2 hosts).</summary>
    bool EnforcesDeviceRules { get; }

    /// <summary>mkdir -p in every hierarchy; on failure removes what it created and throws.</summary>
    void Create();

    /// <summary>Writes the limits. Throws <see cref="CgroupException"/> naming file and value.</summary>
    void Apply(LinuxResources? resources);

    /// <summary>True when the container's init must be handed to <see cref="RegisterInit"/> while it waits
    /// before running anything of the container (systemd creates the scope with its pid).</summary>
    bool RegistersInit { get; }

    /// <summary>Registers the container's init, already placed in <see cref="Directories"/> by skiff-init.</summary>
    void RegisterInit(int pid);

    /// <summary>Moves a process into the cgroup in every hierarchy.</summary>
    void AddProcess(int pid);

    /// <summary>Every process in the cgroup and its descendants.</summary>
    IReadOnlyList<int> GetPids();

    /// <summary>Usage counters in runc's events "stats" shape.</summary>
    CgroupStats GetStats();

    /// <summary>Starts watching for OOM kills; throws <see cref="CgroupException"/> without a memory controller.</summary>
    OomNotifier WatchOom();

    void Freeze();

    void Thaw();

    /// <summary>rmdir leaf-first in every hierarchy; missing dirs are fine, EBUSY is retried a few times. Parent
    /// directories are kept, except those this instance's <see cref="Create"/> made (a failed create leaves nothing).</summary>
    void Destroy();
}

/// <summary>The cgroup driver chosen by --systemd-cgroup, and the manager of an existing container.</summary>
public static class CgroupManagers
{
    public static ICgroupManager Create(string containerId, string? cgroupsPath, bool systemd) =>
        systemd ? SystemdCgroupManager.Create(containerId, cgroupsPath) : CgroupManager.Create(containerId, cgroupsPath);

    /// <summary>The manager of a container from the <see cref="CgroupPaths"/> its create saved.</summary>
    public static ICgroupManager FromPaths(CgroupPaths paths) =>
        paths.SystemdUnit is null ? CgroupManager.FromPaths(paths) : SystemdCgroupManager.FromPaths(paths);
}
