using Skiff.Interop;
using Skiff.Oci;
using static Skiff.Interop.Interop;

namespace Skiff.Engine.Specs;

/// <summary>
/// What the spec builder needs to know about the host, gathered once so the builder itself stays a pure
/// function that tests drive with made-up hosts.
/// </summary>
public sealed record HostFacts
{
    public required int CpuCount { get; init; }
    /// <summary>Every capability this kernel knows.</summary>
    public required IReadOnlyList<string> Capabilities { get; init; }
    /// <summary>
    /// The capabilities a container can be given here: this process's bounding set, which no child can
    /// exceed. What --privileged and "ALL" grant, as podman does, since asking for more fails in capset.
    /// </summary>
    public required IReadOnlyList<string> BoundingSet { get; init; }
    /// <summary>RLIMIT_* name → the highest hard limit a container may be given here.</summary>
    public required Func<string, ulong> RlimitHardMaximum { get; init; }
    /// <summary>cgroup v2 hosts give containers a private cgroup namespace by default, as docker does.</summary>
    public bool CgroupNamespace { get; init; }
    /// <summary>The device node at a host path (type, major, minor, mode), or null when there is none.</summary>
    public required Func<string, LinuxDevice?> LookupDevice { get; init; }
    /// <summary>NUMA memory nodes, numbered from 0 (cpuset.mems).</summary>
    public int MemoryNodeCount { get; init; } = 1;
    /// <summary>Whether block IO weights take effect: the blkio controller has a weight file (CFQ or BFQ), or cgroup v2's io controller.</summary>
    public bool BlockIOWeight { get; init; } = true;
    /// <summary>This process's oom_score_adj: lower ones need CAP_SYS_RESOURCE.</summary>
    public int OomScoreAdj { get; init; }
    /// <summary>Whether cgroups have real-time CPU bandwidth (cgroup v1 cpu.rt_runtime_us: a kernel built with CONFIG_RT_GROUP_SCHED).</summary>
    public bool CpuRealtime { get; init; }
    /// <summary>The real-time runtime and period (µs) of a cgroup of the cpu hierarchy by its path, or null when it does not exist.</summary>
    public Func<string, (long Runtime, long Period)?> RealtimeBudget { get; init; } = _ => null;
    /// <summary>Whether per-device block IO throttles take effect: the blkio controller's throttle files, or cgroup v2's io controller.</summary>
    public bool BlockIOThrottle { get; init; } = true;

    /// <summary>The host this process runs on.</summary>
    public static HostFacts Current() => new()
    {
        CpuCount = Environment.ProcessorCount,
        Capabilities = Oci.Capabilities.Names.Take(ProcessCapabilities.LastCapability + 1).ToList(),
        BoundingSet = Oci.Capabilities.Names.Take(ProcessCapabilities.LastCapability + 1).Where((_, bit) => ProcessCapabilities.InBoundingSet(bit)).ToList(),
        RlimitHardMaximum = CurrentHardLimit,
        CgroupNamespace = File.Exists("/sys/fs/cgroup/cgroup.controllers"),
        LookupDevice = LookupHostDevice,
        MemoryNodeCount = MemoryNodes(),
        BlockIOWeight = File.Exists("/sys/fs/cgroup/cgroup.controllers") || File.Exists("/sys/fs/cgroup/blkio/blkio.weight") || File.Exists("/sys/fs/cgroup/blkio/blkio.bfq.weight"),
        CpuRealtime = File.Exists(CpuHierarchy + "/cpu.rt_runtime_us"),
        RealtimeBudget = RealtimeBudgetOf,
        BlockIOThrottle = File.Exists("/sys/fs/cgroup/cgroup.controllers") || File.Exists("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device"),
        OomScoreAdj = int.Parse(SmallFile.ReadAllText("/proc/self/oom_score_adj").Trim(), System.Globalization.CultureInfo.InvariantCulture),
    };

    private const string CpuHierarchy = "/sys/fs/cgroup/cpu";

    private static (long Runtime, long Period)? RealtimeBudgetOf(string cgroup)
    {
        var directory = CpuHierarchy + (cgroup == "/" ? "" : cgroup);
        if (!File.Exists(directory + "/cpu.rt_runtime_us"))
            return null;
        return (long.Parse(SmallFile.ReadAllText(directory + "/cpu.rt_runtime_us").Trim(), System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(SmallFile.ReadAllText(directory + "/cpu.rt_period_us").Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The highest node of /sys/devices/system/node/online ("0" or "0-1") plus one; 1 without NUMA support.</summary>
    private static int MemoryNodes()
    {
        const string online = "/sys/devices/system/node/online";
        if (!File.Exists(online))
            return 1;
        var last = SmallFile.ReadAllText(online).Trim().Split(',', '-')[^1];
        return int.TryParse(last, out var node) ? node + 1 : 1;
    }

    /// <summary>
    /// Without CAP_SYS_RESOURCE no process can raise a hard limit above its own, and the container's limits
    /// are set by the runtime, a child of this process: so our own hard limit is the ceiling.
    /// </summary>
    private static unsafe ulong CurrentHardLimit(string name)
    {
        if (!Rlimits.TryGetResource(name, out var resource))
            return ulong.MaxValue;
        Libc.RLimit limit;
        return Libc.GetRlimit(resource, &limit) == 0 ? limit.Maximum : ulong.MaxValue;
    }

    private static LinuxDevice? LookupHostDevice(string path)
    {
        using var root = FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/");
        if (Libc.TryStatAt(root, path, followLastSymlink: true) is not { } status)
            return null;
        var type = (status.Mode & 0xF000) switch
        {
            0x2000 => "c",
            0x6000 => "b",
            0x1000 => "p",
            _ => null,
        };
        if (type is null)
            return null;
        return new LinuxDevice
        {
            Path = path,
            Type = type,
            Major = status.RdevMajor,
            Minor = status.RdevMinor,
            FileMode = (uint)(status.Mode & 0xFFF),
            UID = status.Uid,
            GID = status.Gid,
        };
    }
}
