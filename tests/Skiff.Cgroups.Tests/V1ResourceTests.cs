using Skiff.Cgroups;
using Skiff.Oci;

namespace Skiff.Cgroups.Tests;

public class V1ResourceTests : IDisposable
{
    private readonly FakeCgroupTree _tree = new(CgroupMode.V1);
    private readonly CgroupManager _m;
    private const string Mem = "/sys/fs/cgroup/memory/skiff/c1/";
    private const string Cpu = "/sys/fs/cgroup/cpu,cpuacct/skiff/c1/";

    public V1ResourceTests()
    {
        _m = CgroupManager.Create(_tree, "c1", "/skiff/c1");
        _m.Create();
        _tree.Writes.Clear();
    }

    public void Dispose() => _tree.Dispose();

    private string R(string p) => _tree.Read(p);

    [Fact]
    public void Null_resources_write_nothing()
    {
        _m.Apply(null);
        _m.Apply(new LinuxResources());
        Assert.Empty(_tree.Writes);
    }

    [Fact]
    public void Memory_limit_reservation_swappiness_oom()
    {
        _m.Apply(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 100 << 20, Reservation = 50 << 20, Swappiness = 10, DisableOOMKiller = true },
        });
        Assert.Equal("104857600", R(Mem + "memory.limit_in_bytes"));
        Assert.Equal("52428800", R(Mem + "memory.soft_limit_in_bytes"));
        Assert.Equal("10", R(Mem + "memory.swappiness"));
        Assert.Equal("1", R(Mem + "memory.oom_control"));
        Assert.Equal("9223372036854771712", R(Mem + "memory.memsw.limit_in_bytes")); // swap untouched
    }

    [Fact]
    public void Memory_swap_is_memsw_and_written_in_the_order_the_kernel_accepts()
    {
        // raising: current limit (huge) >= new swap → memory first, then memsw
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100, Swap = 300 } });
        Assert.Equal("100", R(Mem + "memory.limit_in_bytes"));
        Assert.Equal("300", R(Mem + "memory.memsw.limit_in_bytes"));
        Assert.Equal(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"], _tree.Writes.Select(w => w.Path[(w.Path.LastIndexOf('/') + 1)..]));
        // current limit 100 < new swap 1000 → memsw first
        _tree.Writes.Clear();
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 500, Swap = 1000 } });
        Assert.Equal(["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"], _tree.Writes.Select(w => w.Path[(w.Path.LastIndexOf('/') + 1)..]));
    }

    [Fact]
    public void Unlimited_memory_without_swap_sets_unlimited_swap()
    {
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = -1 } });
        Assert.Equal("-1", R(Mem + "memory.limit_in_bytes"));
        Assert.Equal("-1", R(Mem + "memory.memsw.limit_in_bytes"));
    }

    [Fact]
    public void Swap_below_memory_is_rejected_before_any_write()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources
        {
            Pids = new LinuxPids { Limit = 10 },
            Memory = new LinuxMemory { Limit = 200, Swap = 100 },
        }));
        Assert.Contains("memory+swap limit (100) should be >= memory limit (200)", e.Message);
        Assert.Empty(_tree.Writes);
    }

    [Theory]
    [InlineData(-2L, null)]
    [InlineData(null, -5L)]
    public void Negative_values_are_rejected(long? limit, long? quota)
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = limit },
            CPU = new LinuxCPU { Quota = quota },
        }));
        Assert.Contains("negative", e.Message);
        Assert.Empty(_tree.Writes);
    }

    [Fact]
    public void Swappiness_above_100_is_rejected()
    {
        Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Memory = new LinuxMemory { Swappiness = 101 } }));
    }

    [Fact]
    public void Swap_without_memsw_file_is_a_clear_error()
    {
        _tree.DeleteFile(Mem + "memory.memsw.limit_in_bytes");
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100, Swap = 200 } }));
        Assert.Contains("memory.memsw.limit_in_bytes does not exist", e.Message);
    }

    [Fact]
    public void Kernel_memory_written_when_present_ignored_when_missing_or_unsupported()
    {
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Kernel = 1000, KernelTCP = 2000 } });
        Assert.Equal("1000", R(Mem + "memory.kmem.limit_in_bytes"));
        Assert.Equal("2000", R(Mem + "memory.kmem.tcp.limit_in_bytes"));
        _tree.DeleteFile(Mem + "memory.kmem.limit_in_bytes");
        _tree.WriteFault = (p, _) => p.EndsWith("kmem.tcp.limit_in_bytes") ? new IOException("Operation not supported", 95) : null;
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Kernel = 1, KernelTCP = 2 } });
        Assert.False(_tree.FileExists(Mem + "memory.kmem.limit_in_bytes"));
    }

    [Fact]
    public void Kernel_rejection_names_file_and_value()
    {
        _tree.WriteFault = (p, _) => p.EndsWith("/memory.limit_in_bytes") ? new IOException("busy", 16) : null;
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 1 } }));
        Assert.Equal($"cannot set memory limit: write 1 to {Mem}memory.limit_in_bytes: Device or resource busy", e.Message);
    }

    [Fact]
    public void Cpu_shares_quota_period_burst_rt_idle()
    {
        _m.Apply(new LinuxResources
        {
            CPU = new LinuxCPU
            {
                Shares = 512, Quota = 50000, Period = 200000, Burst = 1000,
                RealtimePeriod = 1000000, RealtimeRuntime = 950000, Idle = 1,
            },
        });
        Assert.Equal("512", R(Cpu + "cpu.shares"));
        Assert.Equal("50000", R(Cpu + "cpu.cfs_quota_us"));
        Assert.Equal("200000", R(Cpu + "cpu.cfs_period_us"));
        Assert.Equal("1000", R(Cpu + "cpu.cfs_burst_us"));
        Assert.Equal("1000000", R(Cpu + "cpu.rt_period_us"));
        Assert.Equal("950000", R(Cpu + "cpu.rt_runtime_us"));
        Assert.Equal("1", R(Cpu + "cpu.idle"));
    }

    [Fact]
    public void Cpu_period_refused_with_einval_is_retried_after_the_quota()
    {
        var refused = false;
        _tree.WriteFault = (p, _) =>
        {
            if (!p.EndsWith("cpu.cfs_period_us") || refused) return null;
            refused = true;
            return new IOException("Invalid argument", 22);
        };
        _m.Apply(new LinuxResources { CPU = new LinuxCPU { Quota = 1000, Period = 10000 } });
        Assert.Equal(["cpu.cfs_quota_us", "cpu.cfs_period_us"], _tree.Writes.Select(w => w.Path[(w.Path.LastIndexOf('/') + 1)..]));
        Assert.Equal("10000", R(Cpu + "cpu.cfs_period_us"));
    }

    [Fact]
    public void Cpu_shares_clamped_by_the_kernel_is_an_error()
    {
        // emulate the kernel clamping cpu.shares to its maximum
        var clamping = new Clamp(_tree);
        var m = CgroupManager.FromPaths(clamping, _m.Paths);
        var e = Assert.Throws<CgroupException>(() => m.Apply(new LinuxResources { CPU = new LinuxCPU { Shares = 1000000 } }));
        Assert.Contains("maximum allowed cpu-shares is 262144", e.Message);
    }

    private sealed class Clamp(FakeCgroupTree t) : CgroupFileSystem(t.Root)
    {
        public override void WriteFile(string path, string value)
        {
            if (path.EndsWith("cpu.shares") && ulong.Parse(value) > 262144) value = "262144";
            base.WriteFile(path, value);
        }
    }

    [Fact]
    public void Cpuset_cpus_and_mems()
    {
        _m.Apply(new LinuxResources { CPU = new LinuxCPU { Cpus = "0-1", Mems = "0" } });
        Assert.Equal("0-1", R("/sys/fs/cgroup/cpuset/skiff/c1/cpuset.cpus"));
        Assert.Equal("0", R("/sys/fs/cgroup/cpuset/skiff/c1/cpuset.mems"));
    }

    [Theory]
    [InlineData(100L, "100")]
    [InlineData(0L, "max")]
    [InlineData(-1L, "max")]
    public void Pids_limit(long limit, string expected)
    {
        _m.Apply(new LinuxResources { Pids = new LinuxPids { Limit = limit } });
        Assert.Equal(expected, R("/sys/fs/cgroup/pids/skiff/c1/pids.max"));
    }

    [Fact]
    public void Blkio_throttles_one_write_per_device()
    {
        _m.Apply(new LinuxResources
        {
            BlockIO = new LinuxBlockIO
            {
                ThrottleReadBpsDevice = [new() { Major = 8, Minor = 0, Rate = 1048576 }],
                ThrottleWriteBpsDevice = [new() { Major = 8, Minor = 0, Rate = 2097152 }],
                ThrottleReadIOPSDevice = [new() { Major = 8, Minor = 0, Rate = 100 }, new() { Major = 8, Minor = 16, Rate = 50 }],
                ThrottleWriteIOPSDevice = [new() { Major = 8, Minor = 0, Rate = 200 }],
            },
        });
        const string b = "/sys/fs/cgroup/blkio/skiff/c1/";
        Assert.Equal("8:0 1048576", R(b + "blkio.throttle.read_bps_device"));
        Assert.Equal("8:0 2097152", R(b + "blkio.throttle.write_bps_device"));
        Assert.Equal("8:16 50", R(b + "blkio.throttle.read_iops_device")); // last write wins in the fake
        Assert.Equal(2, _tree.Writes.Count(w => w.Path.EndsWith("read_iops_device")));
        Assert.Equal("8:0 200", R(b + "blkio.throttle.write_iops_device"));
    }

    [Fact]
    public void Blkio_weight_missing_file_is_a_clear_error()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { BlockIO = new LinuxBlockIO { Weight = 500 } }));
        Assert.Contains("cannot set blkio weight: neither blkio.bfq.weight nor blkio.weight exists", e.Message);
    }

    [Fact]
    public void Blkio_weight_prefers_bfq()
    {
        const string b = "/sys/fs/cgroup/blkio/skiff/c1/";
        _tree.SetFile(b + "blkio.weight", "100");
        _m.Apply(new LinuxResources { BlockIO = new LinuxBlockIO { Weight = 300 } });
        Assert.Equal("300", R(b + "blkio.weight"));
        _tree.SetFile(b + "blkio.bfq.weight", "100");
        _tree.SetFile(b + "blkio.bfq.weight_device", "");
        _m.Apply(new LinuxResources { BlockIO = new LinuxBlockIO { Weight = 400, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 700 }] } });
        Assert.Equal("400", R(b + "blkio.bfq.weight"));
        Assert.Equal("8:0 700", R(b + "blkio.bfq.weight_device"));
    }

    [Fact]
    public void Hugetlb_limits()
    {
        _m.Apply(new LinuxResources { HugepageLimits = [new() { Pagesize = "2MB", Limit = 4194304 }] });
        Assert.Equal("4194304", R("/sys/fs/cgroup/hugetlb/skiff/c1/hugetlb.2MB.limit_in_bytes"));
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { HugepageLimits = [new() { Pagesize = "64KB", Limit = 1 }] }));
        Assert.Contains("page size 64KB is not supported", e.Message);
    }

    [Fact]
    public void Network_class_id_and_priorities()
    {
        _m.Apply(new LinuxResources
        {
            Network = new LinuxNetwork { ClassID = 0x100001, Priorities = [new() { Name = "eth0", Priority = 5 }] },
        });
        Assert.Equal("1048577", R("/sys/fs/cgroup/net_cls,net_prio/skiff/c1/net_cls.classid"));
        Assert.Equal("eth0 5", R("/sys/fs/cgroup/net_cls,net_prio/skiff/c1/net_prio.ifpriomap"));
    }

    [Fact]
    public void Devices_deny_all_first_then_rules_in_order()
    {
        _m.Apply(new LinuxResources
        {
            Devices =
            [
                new() { Allow = false, Access = "rwm" },
                new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
                new() { Allow = true, Type = "c", Major = 136, Access = "rw" },
                new() { Allow = false, Type = "b", Major = 8, Minor = 0, Access = "m" },
            ],
        });
        var dev = _tree.Writes.Where(w => w.Path.Contains("/devices/")).Select(w => w.Path[(w.Path.LastIndexOf('/') + 1)..] + " " + w.Value);
        Assert.Equal(
        [
            "devices.deny a",
            "devices.deny a *:* rwm",
            "devices.allow c 1:3 rwm",
            "devices.allow c 136:* rw",
            "devices.deny b 8:0 m",
        ], dev);
        Assert.True(_m.EnforcesDeviceRules);
    }

    [Fact]
    public void Invalid_device_rule_is_rejected()
    {
        Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Devices = [new() { Type = "x", Access = "r" }] }));
        Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Devices = [new() { Type = "c", Access = "rwx" }] }));
    }

    [Fact]
    public void Unified_on_v1_is_an_error()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Unified = new() { ["memory.high"] = "1" } }));
        Assert.Contains("need cgroup v2", e.Message);
    }

    [Fact]
    public void Rdma_without_controller_is_an_error()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Rdma = new() { ["mlx5_0"] = new() { HcaHandles = 3 } } }));
        Assert.Contains("rdma cgroup controller is not available", e.Message);
    }
}

public class V1MissingFileTests
{
    [Fact]
    public void Leaf_weight_missing_file_names_the_file()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        var e = Assert.Throws<CgroupException>(() => m.Apply(new LinuxResources { BlockIO = new LinuxBlockIO { LeafWeight = 100 } }));
        Assert.StartsWith("cannot set blkio leaf weight: blkio.leaf_weight does not exist in /sys/fs/cgroup/blkio/skiff/c1", e.Message);
    }

    [Fact]
    public void Hybrid_without_v1_freezer_uses_cgroup_freeze()
    {
        using var tree = new FakeCgroupTree(CgroupMode.Hybrid);
        // drop the v1 freezer hierarchy from mountinfo
        var mi = File.ReadAllLines(tree.Map("/proc/self/mountinfo")).Where(l => !l.Contains("freezer"));
        File.WriteAllLines(tree.Map("/proc/self/mountinfo"), mi);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        tree.SetFile("/sys/fs/cgroup/unified/skiff/c1/cgroup.events", "populated 1\nfrozen 1\n");
        m.Freeze();
        Assert.Equal("1", tree.Read("/sys/fs/cgroup/unified/skiff/c1/cgroup.freeze"));
    }
}
