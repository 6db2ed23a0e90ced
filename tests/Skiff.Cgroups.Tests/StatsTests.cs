using Skiff.Cgroups;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Cgroups.Tests;

public class StatsTests
{
    [Fact]
    public void V1_counters_come_from_each_controllers_hierarchy()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        const string cpu = "/sys/fs/cgroup/cpu,cpuacct/skiff/c1/";
        tree.SetFile(cpu + "cpuacct.usage", "3000000000\n");
        tree.SetFile(cpu + "cpuacct.usage_percpu", "1000000000 2000000000 \n");
        tree.SetFile(cpu + "cpuacct.stat", "user 150\nsystem 50\n");
        tree.SetFile(cpu + "cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n");
        const string memory = "/sys/fs/cgroup/memory/skiff/c1/";
        tree.SetFile(memory + "memory.usage_in_bytes", "4096\n");
        tree.SetFile(memory + "memory.max_usage_in_bytes", "8192\n");
        tree.SetFile(memory + "memory.failcnt", "3\n");
        tree.SetFile(memory + "memory.limit_in_bytes", "33554432\n");
        tree.SetFile(memory + "memory.stat", "cache 100\nrss 200\n");
        tree.SetFile("/sys/fs/cgroup/pids/skiff/c1/pids.current", "7\n");
        tree.SetFile("/sys/fs/cgroup/pids/skiff/c1/pids.max", "max\n");
        tree.SetFile("/sys/fs/cgroup/blkio/skiff/c1/blkio.throttle.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 1024\nTotal 1536\n");
        tree.SetFile("/sys/fs/cgroup/hugetlb/skiff/c1/hugetlb.2MB.usage_in_bytes", "2097152\n");
        tree.SetFile("/sys/fs/cgroup/hugetlb/skiff/c1/hugetlb.2MB.failcnt", "1\n");
        tree.SetFile("/sys/fs/cgroup/cpuset/skiff/c1/cpuset.cpus", "0-2,5\n");

        var stats = m.GetStats();

        Assert.Equal(3000000000UL, stats.Cpu.Usage.Total);
        Assert.Equal([1000000000UL, 2000000000UL], stats.Cpu.Usage.PerCpu!);
        Assert.Equal(1_500_000_000UL, stats.Cpu.Usage.User); // 150 ticks of 10 ms
        Assert.Equal(500_000_000UL, stats.Cpu.Usage.Kernel);
        Assert.Equal(4UL, stats.Cpu.Throttling.ThrottledPeriods);
        Assert.Equal(123456UL, stats.Cpu.Throttling.ThrottledTime);
        Assert.Equal(4096UL, stats.Memory.Usage.Usage);
        Assert.Equal(8192UL, stats.Memory.Usage.Max);
        Assert.Equal(3UL, stats.Memory.Usage.Failcnt);
        Assert.Equal(33554432UL, stats.Memory.Usage.Limit);
        Assert.Equal(100UL, stats.Memory.Cache);
        Assert.Equal(200UL, stats.Memory.Raw!["rss"]);
        Assert.Equal(7UL, stats.Pids.Current);
        Assert.Equal(0UL, stats.Pids.Limit);
        Assert.Collection(stats.Blkio.IoServiceBytesRecursive!,
            e => Assert.Equal((8UL, 0UL, "Read", 512UL), (e.Major, e.Minor, e.Op, e.Value)),
            e => Assert.Equal("Write", e.Op));
        Assert.Equal(2097152UL, stats.Hugetlb["2MB"].Usage);
        Assert.Equal(1UL, stats.Hugetlb["2MB"].Failcnt);
        Assert.Equal([(ushort)0, (ushort)1, (ushort)2, (ushort)5], stats.Cpuset.Cpus!);
    }

    [Fact]
    public void V2_counters_are_converted_to_runcs_v1_shaped_units()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        const string d = "/sys/fs/cgroup/skiff/c1/";
        tree.SetFile(d + "cpu.stat", "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n");
        tree.SetFile(d + "memory.current", "1000\n");
        tree.SetFile(d + "memory.stat", "anon 10\nfile 20\n");
        tree.SetFile(d + "memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
        tree.SetFile(d + "memory.swap.current", "24\n");
        tree.SetFile(d + "pids.current", "2\n");
        tree.SetFile(d + "pids.max", "64\n");
        tree.SetFile(d + "io.stat", "8:16 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
        tree.SetFile(d + "hugetlb.2MB.current", "0\n");
        tree.SetFile(d + "hugetlb.2MB.events", "max 2\n");

        var stats = m.GetStats();

        Assert.Equal(2_000_000UL, stats.Cpu.Usage.Total);
        Assert.Equal(1_500_000UL, stats.Cpu.Usage.User);
        Assert.Equal(500_000UL, stats.Cpu.Usage.Kernel);
        Assert.Equal(7000UL, stats.Cpu.Throttling.ThrottledTime);
        Assert.Equal(1000UL, stats.Memory.Usage.Usage);
        Assert.Equal(ulong.MaxValue, stats.Memory.Usage.Limit); // memory.max is "max"
        Assert.Equal(5UL, stats.Memory.Usage.Failcnt);
        Assert.Equal(20UL, stats.Memory.Cache);
        Assert.Equal(1024UL, stats.Memory.Swap.Usage); // swap + memory, as runc reports v2
        Assert.Equal(64UL, stats.Pids.Limit);
        Assert.Contains(stats.Blkio.IoServiceBytesRecursive!, e => e is { Major: 8, Minor: 16, Op: "Write", Value: 200 });
        Assert.Contains(stats.Blkio.IoServicedRecursive!, e => e is { Op: "Read", Value: 1 });
        Assert.Equal(2UL, stats.Hugetlb["2MB"].Failcnt);
        Assert.DoesNotContain("2MB.rsvd", stats.Hugetlb.Keys);
    }

    [Fact]
    public void Missing_controllers_and_files_leave_fields_empty()
    {
        using var tree = new FakeCgroupTree(CgroupMode.Hybrid);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();

        var stats = m.GetStats();

        Assert.Equal(0UL, stats.Cpu.Usage.Total);
        Assert.Null(stats.Blkio.IoServiceBytesRecursive);
        Assert.Empty(stats.Hugetlb);
    }

    [Fact]
    public void V2_oom_watch_reports_only_increases_of_the_oom_kill_counter()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        const string events = "/sys/fs/cgroup/skiff/c1/memory.events";
        tree.SetFile(events, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        using var oom = m.WatchOom();
        Assert.Equal(0UL, oom.ReadKills());

        tree.SetFile(events, "low 0\nhigh 0\nmax 4\noom 0\noom_kill 0\n");
        Assert.True(Readable(oom.Fd));
        Assert.Equal(0UL, oom.ReadKills());

        tree.SetFile(events, "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n");
        Assert.True(Readable(oom.Fd));
        Assert.Equal(2UL, oom.ReadKills());
        Assert.False(Readable(oom.Fd));
    }

    private static unsafe bool Readable(FileDescriptor fd)
    {
        var poll = new Libc.PollFd { Fd = fd.Fd, Events = Libc.POLLIN };
        return Libc.Poll(&poll, 1, 1000) > 0;
    }
}
