using Skiff.Cgroups;

namespace Skiff.Cgroups.Tests;

public class DetectionTests
{
    [Fact]
    public void V1_lists_controller_hierarchies_and_named_systemd()
    {
        var s = CgroupSystem.Parse(FakeCgroupTree.V1MountInfo, FakeCgroupTree.V1SelfCgroup);
        Assert.Equal(CgroupMode.V1, s.Mode);
        Assert.Null(s.Unified);
        var keys = s.Hierarchies.Select(h => h.Key).ToArray();
        Assert.Equal(["name=systemd", "cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "blkio", "pids", "net_cls,net_prio", "hugetlb"], keys);
        var cpu = s.FindV1("cpuacct")!;
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", cpu.MountPoint);
        Assert.Equal(["cpu", "cpuacct"], cpu.Controllers);
        var systemd = s.Hierarchies[0];
        Assert.Equal("systemd", systemd.Name);
        Assert.Empty(systemd.Controllers); // xattr and release_agent= are options, not controllers
    }

    [Fact]
    public void V1_own_cgroup_dirs()
    {
        var s = CgroupSystem.Parse(FakeCgroupTree.V1MountInfo, FakeCgroupTree.V1SelfCgroup);
        Assert.Equal("/sys/fs/cgroup/memory/user.slice", s.OwnCgroupDir(s.FindV1("memory")!));
        Assert.Equal("/sys/fs/cgroup/cpuset", s.OwnCgroupDir(s.FindV1("cpuset")!));
        Assert.Equal("/sys/fs/cgroup/systemd/user.slice/user-0.slice/session-1.scope", s.OwnCgroupDir(s.Hierarchies[0]));
    }

    [Fact]
    public void Hybrid_has_v1_controllers_and_unified()
    {
        var s = CgroupSystem.Parse(FakeCgroupTree.HybridMountInfo, FakeCgroupTree.HybridSelfCgroup);
        Assert.Equal(CgroupMode.Hybrid, s.Mode);
        Assert.NotNull(s.Unified);
        Assert.Equal("/sys/fs/cgroup/unified", s.Unified!.MountPoint);
        Assert.Equal("unified", s.Unified.Key);
        Assert.Equal("/user.slice/user-1000.slice/session-3.scope", s.OwnCgroups["unified"]);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct/user.slice", s.OwnCgroupDir(s.FindV1("cpu")!));
    }

    [Fact]
    public void V2_only_unified()
    {
        var s = CgroupSystem.Parse(FakeCgroupTree.V2MountInfo, FakeCgroupTree.V2SelfCgroup);
        Assert.Equal(CgroupMode.V2, s.Mode);
        var h = Assert.Single(s.Hierarchies);
        Assert.True(h.IsV2);
        Assert.Equal("/sys/fs/cgroup", h.MountPoint);
        Assert.Equal("/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope", s.OwnCgroupDir(h));
    }

    [Fact]
    public void V1_with_only_named_hierarchy_and_cgroup2_is_v2()
    {
        const string mi = """
            26 22 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw
            27 26 0:24 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,name=systemd
            """;
        var s = CgroupSystem.Parse(mi, "1:name=systemd:/\n0::/\n");
        Assert.Equal(CgroupMode.V2, s.Mode);
    }

    [Fact]
    public void Mount_root_below_hierarchy_root_is_taken_into_account()
    {
        // no cgroupns: the container sees its own cgroup bind-mounted at the mount point
        const string mi = "30 25 0:26 /docker/abc /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n";
        var s = CgroupSystem.Parse(mi, "4:memory:/docker/abc/sub\n");
        Assert.Equal("/sys/fs/cgroup/memory/sub", s.OwnCgroupDir(s.FindV1("memory")!));
    }

    [Fact]
    public void Duplicate_mounts_of_the_same_hierarchy_keep_the_first()
    {
        const string mi = """
            30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            90 88 0:26 / /var/lib/x/memory rw - cgroup cgroup rw,memory
            """;
        var s = CgroupSystem.Parse(mi, "4:memory:/\n");
        Assert.Equal("/sys/fs/cgroup/memory", Assert.Single(s.Hierarchies).MountPoint);
    }

    [Fact]
    public void Escaped_mount_points_are_unescaped()
    {
        const string mi = "30 25 0:26 / /mnt/cg\\040mem rw - cgroup cgroup rw,memory\n";
        var s = CgroupSystem.Parse(mi, "4:memory:/\n");
        Assert.Equal("/mnt/cg mem", s.Hierarchies[0].MountPoint);
    }

    [Fact]
    public void No_cgroup_mounts_is_an_error()
    {
        var e = Assert.Throws<CgroupException>(() => CgroupSystem.Parse("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "0::/\n"));
        Assert.Contains("no cgroup file system", e.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
    }

    [Theory]
    [InlineData(CgroupMode.V1)]
    [InlineData(CgroupMode.Hybrid)]
    [InlineData(CgroupMode.V2)]
    public void Detect_reads_through_the_prefixed_file_system(CgroupMode mode)
    {
        using var tree = new FakeCgroupTree(mode);
        Assert.Equal(mode, CgroupSystem.Detect(tree).Mode);
    }
}
