using Skiff.Cgroups;

namespace Skiff.Cgroups.Tests;

/// <summary>
/// A fake cgroupfs in a temp directory: proc/self/{mountinfo,cgroup} plus hierarchy directories.
/// mkdir in a hierarchy populates the control files the kernel would create; rmdir removes them.
/// Faults can be injected into mkdir and writes.
/// </summary>
public sealed class FakeCgroupTree : CgroupFileSystem, IDisposable
{
    public const string V1MountInfo = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
        26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
        28 25 0:24 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpuset
        29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
        30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
        31 25 0:27 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,devices
        32 25 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,freezer
        33 25 0:29 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,blkio
        34 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
        35 25 0:31 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,net_cls,net_prio
        36 25 0:32 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,hugetlb
        """;

    public const string V1SelfCgroup = """
        11:hugetlb:/
        10:net_cls,net_prio:/
        9:pids:/user.slice
        8:blkio:/user.slice
        7:freezer:/
        6:devices:/user.slice
        5:memory:/user.slice
        4:cpu,cpuacct:/user.slice
        3:cpuset:/
        1:name=systemd:/user.slice/user-0.slice/session-1.scope
        """;

    // Ubuntu 20.04 style hybrid: unified has no controllers except what v1 does not use
    public const string HybridMountInfo = """
        24 30 0:22 / /sys fs rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        31 24 0:25 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        32 31 0:26 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
        33 31 0:27 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
        36 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
        37 31 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
        38 31 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
        39 31 0:33 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,cpuset
        40 31 0:34 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices
        41 31 0:35 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,freezer
        42 31 0:36 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,blkio
        """;

    public const string HybridSelfCgroup = """
        9:name=systemd:/user.slice/user-1000.slice/session-3.scope
        8:pids:/user.slice/user-1000.slice/session-3.scope
        7:blkio:/user.slice
        6:freezer:/
        5:devices:/user.slice
        4:memory:/user.slice/user-1000.slice/session-3.scope
        3:cpuset:/
        2:cpu,cpuacct:/user.slice
        0::/user.slice/user-1000.slice/session-3.scope
        """;

    public const string V2MountInfo = """
        23 29 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """;

    public const string V2SelfCgroup = "0::/user.slice/user-0.slice/session-1.scope\n";

    public const string V2RootControllers = "cpuset cpu io memory hugetlb pids rdma misc";

    private readonly HashSet<string> _v1Mounts = new(StringComparer.Ordinal);
    private string? _v2Mount;

    public FakeCgroupTree(CgroupMode mode) : base(Directory.CreateTempSubdirectory("skiff-cgfake-").FullName)
    {
        Mode = mode;
        var (mountinfo, self) = mode switch
        {
            CgroupMode.V1 => (V1MountInfo, V1SelfCgroup),
            CgroupMode.Hybrid => (HybridMountInfo, HybridSelfCgroup),
            _ => (V2MountInfo, V2SelfCgroup),
        };
        Directory.CreateDirectory(Map("/proc/self"));
        File.WriteAllText(Map("/proc/self/mountinfo"), mountinfo.Replace("\r", "") + "\n");
        File.WriteAllText(Map("/proc/self/cgroup"), self.Replace("\r", "") + "\n");
        foreach (var line in mountinfo.Split('\n'))
        {
            var parts = line.Trim().Split(' ');
            if (parts.Length < 5) continue;
            if (line.Contains(" - cgroup2 ")) _v2Mount = parts[4];
            else if (line.Contains(" - cgroup ")) _v1Mounts.Add(parts[4]);
        }
        foreach (var m in _v1Mounts) { Directory.CreateDirectory(Map(m)); Populate(m, isRoot: true); }
        if (_v2Mount is not null) { Directory.CreateDirectory(Map(_v2Mount)); Populate(_v2Mount, isRoot: true); }
    }

    public CgroupMode Mode { get; }

    /// <summary>Return an exception to make mkdir of that (host) path fail.</summary>
    public Func<string, Exception?>? MkdirFault { get; set; }

    /// <summary>Return an exception to make a write to that (host) path fail.</summary>
    public Func<string, string, Exception?>? WriteFault { get; set; }

    public List<(string Path, string Value)> Writes { get; } = new();

    /// <summary>Device programs "attached" to cgroup2 directories (a temp dir cannot take a real one).</summary>
    public List<(string Directory, ulong[] Program)> DeviceFilters { get; } = new();

    public override void AttachDeviceFilter(string directory, ulong[] program) => DeviceFilters.Add((directory, program));

    public string Read(string hostPath) => File.ReadAllText(Map(hostPath)).Trim();

    public bool Exists(string hostPath) => File.Exists(Map(hostPath)) || Directory.Exists(Map(hostPath));

    public void SetFile(string hostPath, string content) => File.WriteAllText(Map(hostPath), content);

    public void DeleteFile(string hostPath) => File.Delete(Map(hostPath));

    public override void CreateDirectory(string path)
    {
        if (MkdirFault?.Invoke(path) is { } e) throw e;
        base.CreateDirectory(path);
        Populate(path, isRoot: false);
    }

    public override void WriteFile(string path, string value)
    {
        if (WriteFault?.Invoke(path, value) is { } e) throw e;
        if (path.EndsWith("/cgroup.subtree_control", StringComparison.Ordinal))
        {
            // the kernel interprets "+cpu -io" and shows the resulting set
            var set = File.ReadAllText(Map(path)).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            foreach (var tok in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (tok[0] == '+' && !set.Contains(tok[1..])) set.Add(tok[1..]);
                else if (tok[0] == '-') set.Remove(tok[1..]);
            }
            base.WriteFile(path, string.Join(' ', set));
        }
        else base.WriteFile(path, value);
        Writes.Add((path, value));
    }

    public override void RemoveDirectory(string path)
    {
        var mapped = Map(path);
        if (!Directory.Exists(mapped)) throw new DirectoryNotFoundException(path);
        if (Directory.EnumerateDirectories(mapped).Any()) throw new IOException("Directory not empty", 39);
        var procs = Path.Combine(mapped, "cgroup.procs");
        if (File.Exists(procs) && File.ReadAllText(procs).Trim().Length > 0) throw new IOException("Device or resource busy", 16);
        Directory.Delete(mapped, recursive: true);
    }

    private void Populate(string dir, bool isRoot)
    {
        void F(string name, string content = "") => File.WriteAllText(Map(dir + "/" + name), content);
        F("cgroup.procs");
        if (_v2Mount is not null && (dir == _v2Mount || dir.StartsWith(_v2Mount + "/", StringComparison.Ordinal))
            && !_v1Mounts.Any(m => dir == m || dir.StartsWith(m + "/", StringComparison.Ordinal)))
        {
            var controllers = isRoot
                ? (Mode == CgroupMode.V2 ? V2RootControllers : "hugetlb")
                : File.ReadAllText(Map(ParentOf(dir) + "/cgroup.subtree_control")).Trim();
            F("cgroup.controllers", controllers);
            F("cgroup.subtree_control");
            if (isRoot) return;
            F("cgroup.freeze", "0");
            F("cgroup.events", "populated 0\nfrozen 0\n");
            var set = controllers.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            if (set.Contains("memory")) { F("memory.max", "max"); F("memory.low", "0"); F("memory.swap.max", "max"); }
            if (set.Contains("cpu")) { F("cpu.weight", "100"); F("cpu.max", "max 100000"); F("cpu.max.burst", "0"); F("cpu.idle", "0"); }
            if (set.Contains("cpuset")) { F("cpuset.cpus"); F("cpuset.mems"); }
            if (set.Contains("pids")) F("pids.max", "max");
            if (set.Contains("io")) { F("io.max"); F("io.weight", "default 100"); }
            if (set.Contains("hugetlb")) { F("hugetlb.2MB.max", "max"); F("hugetlb.2MB.rsvd.max", "max"); F("hugetlb.1GB.max", "max"); }
            if (set.Contains("rdma")) F("rdma.max");
            return;
        }
        var mount = _v1Mounts.First(m => dir == m || dir.StartsWith(m + "/", StringComparison.Ordinal));
        var ctrls = mount[(mount.LastIndexOf('/') + 1)..].Split(',');
        foreach (var c in ctrls)
        {
            switch (c)
            {
                case "memory":
                    foreach (var f in new[] { "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
                                 "memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes" })
                        F(f, "9223372036854771712");
                    F("memory.swappiness", "60");
                    F("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
                    break;
                case "cpu":
                    F("cpu.shares", "1024"); F("cpu.cfs_period_us", "100000"); F("cpu.cfs_quota_us", "-1"); F("cpu.cfs_burst_us", "0");
                    F("cpu.rt_period_us", "1000000"); F("cpu.rt_runtime_us", "0"); F("cpu.idle", "0");
                    break;
                case "cpuset":
                    F("cpuset.cpus", isRoot ? "0-7" : ""); F("cpuset.mems", isRoot ? "0" : "");
                    break;
                case "pids":
                    if (!isRoot) F("pids.max", "max");
                    break;
                case "devices":
                    F("devices.allow"); F("devices.deny"); F("devices.list", "a *:* rwm");
                    break;
                case "freezer":
                    if (!isRoot) F("freezer.state", "THAWED");
                    break;
                case "blkio":
                    foreach (var f in new[] { "read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device" })
                        F("blkio.throttle." + f);
                    break;
                case "hugetlb":
                    F("hugetlb.2MB.limit_in_bytes", "9223372036854771712"); F("hugetlb.1GB.limit_in_bytes", "9223372036854771712");
                    break;
                case "net_cls": F("net_cls.classid", "0"); break;
                case "net_prio": F("net_prio.ifpriomap", "lo 0"); break;
            }
        }
    }

    private static string ParentOf(string p) => p[..p.LastIndexOf('/')];

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
