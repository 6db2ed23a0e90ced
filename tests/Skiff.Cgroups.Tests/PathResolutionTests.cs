using Skiff.Cgroups;

namespace Skiff.Cgroups.Tests;

public class PathResolutionTests
{
    [Fact]
    public void Absolute_path_is_below_every_hierarchy_root()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "abc", "/skiff/abc");
        Assert.Equal("/sys/fs/cgroup/memory/skiff/abc", m.Paths.Paths["memory"]);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct/skiff/abc", m.Paths.Paths["cpu,cpuacct"]);
        Assert.Equal("/sys/fs/cgroup/systemd/skiff/abc", m.Paths.Paths["name=systemd"]);
        Assert.Equal(10, m.Paths.Paths.Count);
    }

    [Fact]
    public void Relative_path_is_below_the_runtime_cgroup_in_each_hierarchy()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "abc", "skiff/abc");
        Assert.Equal("/sys/fs/cgroup/memory/user.slice/skiff/abc", m.Paths.Paths["memory"]);
        Assert.Equal("/sys/fs/cgroup/cpuset/skiff/abc", m.Paths.Paths["cpuset"]);
    }

    [Fact]
    public void Empty_path_defaults_to_the_container_id_relative_like_runc()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "abc", null);
        Assert.Equal("/sys/fs/cgroup/memory/user.slice/abc", m.Paths.Paths["memory"]);
        Assert.Equal("/sys/fs/cgroup/freezer/abc", m.Paths.Paths["freezer"]);
        Assert.Equal(m.Paths.Paths, CgroupManager.Create(tree, "abc", "").Paths.Paths);
    }

    [Fact]
    public void V2_relative_path_is_below_the_parent_of_the_runtime_cgroup()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var m = CgroupManager.Create(tree, "abc", null);
        Assert.Equal("/sys/fs/cgroup/user.slice/user-0.slice/abc", Assert.Single(m.Paths.Paths).Value);
        Assert.Equal(CgroupMode.V2, m.Paths.Mode);
    }

    [Fact]
    public void Hybrid_includes_the_unified_hierarchy()
    {
        using var tree = new FakeCgroupTree(CgroupMode.Hybrid);
        var m = CgroupManager.Create(tree, "abc", "/skiff/abc");
        Assert.Equal("/sys/fs/cgroup/unified/skiff/abc", m.Paths.Paths["unified"]);
        Assert.Equal("/sys/fs/cgroup/pids/skiff/abc", m.Paths.Paths["pids"]);
        Assert.Contains("/sys/fs/cgroup/unified/skiff/abc/cgroup.procs", m.ProcsFiles);
        Assert.Contains("/sys/fs/cgroup/systemd/skiff/abc/cgroup.procs", m.ProcsFiles);
        Assert.Equal(m.Paths.Paths.Count, m.ProcsFiles.Count);
    }

    [Theory]
    [InlineData("/a/./b//c", "/a/b/c")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("a/b/../c", "a/c")]
    public void Paths_are_cleaned(string raw, string cleaned)
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        Assert.Equal(cleaned, CgroupPathResolver.ResolveInner("x", raw));
    }

    [Theory]
    [InlineData("/../../etc")]
    [InlineData("/a/../../b")]
    [InlineData("../sibling")]
    [InlineData("a/../../b")]
    public void Escaping_paths_are_rejected(string raw)
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var e = Assert.Throws<CgroupException>(() => CgroupManager.Create(tree, "x", raw));
        Assert.Contains("escapes", e.Message);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/a/..")]
    public void Hierarchy_root_is_rejected(string raw)
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        Assert.Throws<CgroupException>(() => CgroupManager.Create(tree, "x", raw));
    }
}
