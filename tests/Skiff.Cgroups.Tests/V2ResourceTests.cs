using Skiff.Cgroups;
using Skiff.Oci;

namespace Skiff.Cgroups.Tests;

public class V2ResourceTests : IDisposable
{
    private readonly FakeCgroupTree _tree = new(CgroupMode.V2);
    private readonly CgroupManager _m;
    private const string D = "/sys/fs/cgroup/skiff/c1/";

    public V2ResourceTests()
    {
        _m = CgroupManager.Create(_tree, "c1", "/skiff/c1");
        _m.Create();
        _tree.Writes.Clear();
    }

    public void Dispose() => _tree.Dispose();

    private string R(string f) => _tree.Read(D + f);

    [Fact]
    public void Memory_max_low_and_swap_is_swap_minus_limit()
    {
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100 << 20, Reservation = 50 << 20, Swap = 300 << 20 } });
        Assert.Equal("104857600", R("memory.max"));
        Assert.Equal("52428800", R("memory.low"));
        Assert.Equal("209715200", R("memory.swap.max"));
    }

    [Fact]
    public void Memory_unlimited_is_max_for_both()
    {
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100 } });
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = -1 } });
        Assert.Equal("max", R("memory.max"));
        Assert.Equal("max", R("memory.swap.max"));
    }

    [Fact]
    public void Swap_equal_to_memory_means_no_swap()
    {
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 1000, Swap = 1000 } });
        Assert.Equal("0", R("memory.swap.max"));
    }

    [Fact]
    public void Swap_below_memory_is_rejected()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 1000, Swap = 10 } }));
        Assert.Contains("should be >= memory limit", e.Message);
        Assert.Empty(_tree.Writes);
    }

    [Fact]
    public void Swappiness_oom_and_kernel_memory_are_ignored_on_v2()
    {
        _m.Apply(new LinuxResources { Memory = new LinuxMemory { Swappiness = 10, DisableOOMKiller = true, Kernel = 100 } });
        Assert.Empty(_tree.Writes);
    }

    [Theory]
    [InlineData(2UL, "1")]
    [InlineData(1024UL, "100")]
    [InlineData(262144UL, "10000")]
    [InlineData(512UL, "59")]
    [InlineData(4096UL, "303")]
    public void Cpu_shares_become_weight(ulong shares, string weight)
    {
        _m.Apply(new LinuxResources { CPU = new LinuxCPU { Shares = shares } });
        Assert.Equal(weight, R("cpu.weight"));
    }

    [Fact]
    public void Cpu_max_quota_period_burst_idle()
    {
        _m.Apply(new LinuxResources { CPU = new LinuxCPU { Quota = 50000, Period = 100000, Burst = 1000, Idle = 0 } });
        Assert.Equal("50000 100000", R("cpu.max"));
        Assert.Equal("1000", R("cpu.max.burst"));
        Assert.Equal("0", R("cpu.idle"));
        _m.Apply(new LinuxResources { CPU = new LinuxCPU { Quota = -1, Period = 20000 } });
        Assert.Equal("max 20000", R("cpu.max"));
        _m.Apply(new LinuxResources { CPU = new LinuxCPU { Quota = 30000 } });
        Assert.Equal("30000", R("cpu.max"));
    }

    [Fact]
    public void Realtime_is_an_error_on_v2()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { CPU = new LinuxCPU { RealtimeRuntime = 1000 } }));
        Assert.Contains("not supported by cgroup v2", e.Message);
    }

    [Fact]
    public void Cpuset_pids_hugetlb_rdma()
    {
        _m.Apply(new LinuxResources
        {
            CPU = new LinuxCPU { Cpus = "1", Mems = "0" },
            Pids = new LinuxPids { Limit = 0 },
            HugepageLimits = [new() { Pagesize = "2MB", Limit = 2097152 }],
            Rdma = new() { ["mlx5_0"] = new() { HcaHandles = 3, HcaObjects = 100 } },
        });
        Assert.Equal("1", R("cpuset.cpus"));
        Assert.Equal("0", R("cpuset.mems"));
        Assert.Equal("max", R("pids.max"));
        Assert.Equal("2097152", R("hugetlb.2MB.max"));
        Assert.Equal("2097152", R("hugetlb.2MB.rsvd.max"));
        Assert.Equal("mlx5_0 hca_handle=3 hca_object=100", R("rdma.max"));
    }

    [Fact]
    public void Io_weight_conversion_and_io_max()
    {
        _m.Apply(new LinuxResources
        {
            BlockIO = new LinuxBlockIO
            {
                Weight = 500,
                ThrottleReadBpsDevice = [new() { Major = 8, Minor = 0, Rate = 1024 }],
                ThrottleWriteIOPSDevice = [new() { Major = 8, Minor = 0, Rate = 10 }],
            },
        });
        Assert.Equal("4950", R("io.weight")); // 1 + (500-10)*9999/990
        Assert.Equal(["8:0 rbps=1024", "8:0 wiops=10"], _tree.Writes.Where(w => w.Path.EndsWith("io.max")).Select(w => w.Value));
    }

    [Fact]
    public void Io_weight_uses_bfq_when_present()
    {
        _tree.SetFile(D + "io.bfq.weight", "default 100");
        _m.Apply(new LinuxResources { BlockIO = new LinuxBlockIO { Weight = 500, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 200 }] } });
        Assert.Equal(["500", "8:0 200"], _tree.Writes.Where(w => w.Path.EndsWith("io.bfq.weight")).Select(w => w.Value));
    }

    [Fact]
    public void Unified_map_writes_files_and_rejects_bad_keys()
    {
        _m.Apply(new LinuxResources { Unified = new() { ["memory.max"] = "12345", ["pids.max"] = "7" } });
        Assert.Equal("12345", R("memory.max"));
        Assert.Equal("7", R("pids.max"));
        Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Unified = new() { ["../escape"] = "1" } }));
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Unified = new() { ["memory.nonexistent"] = "1" } }));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Network_is_an_error_on_v2()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Network = new LinuxNetwork { ClassID = 1 } }));
        Assert.Contains("net_cls cgroup controller is not mounted", e.Message);
    }

    [Fact]
    public void Devices_become_an_ebpf_program_on_the_containers_cgroup2_directory()
    {
        List<LinuxDeviceCgroup> rules = [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" }];
        _m.Apply(new LinuxResources { Devices = rules });
        Assert.True(_m.EnforcesDeviceRules);
        var (directory, program) = Assert.Single(_tree.DeviceFilters);
        Assert.Equal("/sys/fs/cgroup/skiff/c1", directory);
        Assert.Equal(DeviceFilter.Compile(rules), program);
        Assert.Empty(_tree.Writes);
    }

    [Fact]
    public void Device_rules_v1_would_refuse_fail_before_any_write()
    {
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources
        {
            Pids = new LinuxPids { Limit = 5 },
            Devices = [new() { Allow = true, Type = "c", Access = "rwm" }, new() { Allow = false, Type = "c", Major = 1, Minor = 3, Access = "rwm" }],
        }));
        Assert.Contains("punch a hole", e.Message);
        Assert.Empty(_tree.Writes);
        Assert.Empty(_tree.DeviceFilters);
    }

    [Fact]
    public void Missing_controller_is_a_clear_error()
    {
        _tree.DeleteFile(D + "pids.max");
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Pids = new LinuxPids { Limit = 5 } }));
        Assert.Equal($"cannot set pids limit: write 5 to {D}pids.max: No such file or directory", e.Message);
    }
}

public class HybridResourceTests : IDisposable
{
    private readonly FakeCgroupTree _tree = new(CgroupMode.Hybrid);
    private readonly CgroupManager _m;

    public HybridResourceTests()
    {
        _m = CgroupManager.Create(_tree, "c1", "/skiff/c1");
        _m.Create();
        _tree.Writes.Clear();
    }

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void V1_controllers_use_v1_files_and_hugetlb_goes_to_unified()
    {
        _m.Apply(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 1000 },
            CPU = new LinuxCPU { Shares = 512 },
            HugepageLimits = [new() { Pagesize = "2MB", Limit = 2097152 }],
        });
        Assert.Equal("1000", _tree.Read("/sys/fs/cgroup/memory/skiff/c1/memory.limit_in_bytes"));
        Assert.Equal("512", _tree.Read("/sys/fs/cgroup/cpu,cpuacct/skiff/c1/cpu.shares"));
        Assert.Equal("2097152", _tree.Read("/sys/fs/cgroup/unified/skiff/c1/hugetlb.2MB.max"));
    }

    [Fact]
    public void Unified_keys_only_for_controllers_in_the_unified_hierarchy()
    {
        _m.Apply(new LinuxResources { Unified = new() { ["hugetlb.1GB.max"] = "0" } });
        Assert.Equal("0", _tree.Read("/sys/fs/cgroup/unified/skiff/c1/hugetlb.1GB.max"));
        var e = Assert.Throws<CgroupException>(() => _m.Apply(new LinuxResources { Unified = new() { ["memory.high"] = "1" } }));
        Assert.Contains("not in the cgroup v2 hierarchy", e.Message);
    }
}
