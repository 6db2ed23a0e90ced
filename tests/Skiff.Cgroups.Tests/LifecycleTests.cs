using System.Text.Json;
using Skiff.Cgroups;

namespace Skiff.Cgroups.Tests;

public class LifecycleTests
{
    [Theory]
    [InlineData(CgroupMode.V1)]
    [InlineData(CgroupMode.Hybrid)]
    [InlineData(CgroupMode.V2)]
    public void Create_makes_every_directory_and_Destroy_removes_them(CgroupMode mode)
    {
        using var tree = new FakeCgroupTree(mode);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        foreach (var dir in m.Paths.Paths.Values) Assert.True(tree.DirectoryExists(dir), dir);
        m.Create(); // idempotent
        var later = CgroupManager.Create(tree, "c2", "/skiff/c2");
        later.Create();
        later.Destroy();
        foreach (var dir in later.Paths.Paths.Values)
        {
            Assert.False(tree.DirectoryExists(dir), dir);
            Assert.True(tree.DirectoryExists(dir[..dir.LastIndexOf('/')]), "parents it found stay");
        }
        m.Destroy();
        foreach (var dir in m.Paths.Paths.Values)
            Assert.False(tree.DirectoryExists(dir[..dir.LastIndexOf('/')]), "parents it made go");
        m.Destroy(); // missing directories are fine
    }

    [Fact]
    public void Destroy_keeps_a_parent_it_made_once_another_container_uses_it()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var first = CgroupManager.Create(tree, "c1", "/skiff/c1");
        first.Create();
        var second = CgroupManager.Create(tree, "c2", "/skiff/c2");
        second.Create();
        first.Destroy();
        foreach (var dir in second.Paths.Paths.Values) Assert.True(tree.DirectoryExists(dir), dir);
        second.Destroy();
        foreach (var dir in second.Paths.Paths.Values) Assert.True(tree.DirectoryExists(dir[..dir.LastIndexOf('/')]), "not second's to remove");
    }

    [Fact]
    public void Create_copies_cpuset_from_the_parent_on_v1()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        Assert.Equal("0-7", tree.Read("/sys/fs/cgroup/cpuset/skiff/cpuset.cpus"));
        Assert.Equal("0-7", tree.Read("/sys/fs/cgroup/cpuset/skiff/c1/cpuset.cpus"));
        Assert.Equal("0", tree.Read("/sys/fs/cgroup/cpuset/skiff/c1/cpuset.mems"));
    }

    [Fact]
    public void Create_enables_controllers_down_the_v2_path()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        Assert.Equal(FakeCgroupTree.V2RootControllers, tree.Read("/sys/fs/cgroup/cgroup.subtree_control"));
        Assert.Equal(FakeCgroupTree.V2RootControllers, tree.Read("/sys/fs/cgroup/skiff/cgroup.subtree_control"));
        Assert.Equal("", tree.Read("/sys/fs/cgroup/skiff/c1/cgroup.subtree_control")); // never the leaf
        Assert.True(tree.FileExists("/sys/fs/cgroup/skiff/c1/memory.max"));
    }

    [Fact]
    public void Create_rolls_back_only_what_it_created_when_a_later_mkdir_fails()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        Directory.CreateDirectory(tree.Map("/sys/fs/cgroup/memory/skiff")); // pre-existing parent, not ours
        tree.MkdirFault = p => p == "/sys/fs/cgroup/pids/skiff/c1" ? new UnauthorizedAccessException("denied") : null;
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        var e = Assert.Throws<CgroupException>(m.Create);
        Assert.Contains("mkdir /sys/fs/cgroup/pids/skiff/c1: Permission denied", e.Message);
        Assert.Equal(ErrorKind.PermissionDenied, e.Kind);
        foreach (var dir in m.Paths.Paths.Values) Assert.False(tree.DirectoryExists(dir), dir);
        Assert.False(tree.DirectoryExists("/sys/fs/cgroup/cpuset/skiff"), "created parent removed");
        Assert.True(tree.DirectoryExists("/sys/fs/cgroup/memory/skiff"), "pre-existing parent kept");
    }

    [Fact]
    public void Create_fails_clearly_when_a_hierarchy_is_not_mounted()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        Directory.Delete(tree.Map("/sys/fs/cgroup/pids"), true);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        var e = Assert.Throws<CgroupException>(m.Create);
        Assert.Contains("pids is not mounted", e.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.False(tree.DirectoryExists("/sys/fs/cgroup/memory/skiff"));
    }

    [Fact]
    public void Destroy_removes_nested_cgroups_leaf_first_and_retries_ebusy()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        tree.CreateDirectory("/sys/fs/cgroup/skiff/c1/sub");
        tree.CreateDirectory("/sys/fs/cgroup/skiff/c1/sub/deeper");
        var busy = 2;
        tree.SetFile("/sys/fs/cgroup/skiff/c1/sub/deeper/cgroup.procs", "1234\n");
        tree.WriteFault = null;
        // "process exits" after two EBUSY attempts
        var fs = new BusyOnce(tree, () => { if (--busy == 0) tree.SetFile("/sys/fs/cgroup/skiff/c1/sub/deeper/cgroup.procs", ""); });
        CgroupManager.FromPaths(fs, m.Paths).Destroy();
        Assert.False(tree.DirectoryExists("/sys/fs/cgroup/skiff/c1"));
    }

    private sealed class BusyOnce(FakeCgroupTree inner, Action onBusy) : CgroupFileSystem(inner.Root)
    {
        public override void RemoveDirectory(string path)
        {
            try { inner.RemoveDirectory(path); }
            catch (IOException e) when (e.HResult == 16) { onBusy(); throw; }
        }
    }

    [Fact]
    public void Destroy_reports_a_process_that_never_leaves()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        tree.SetFile("/sys/fs/cgroup/skiff/c1/cgroup.procs", "42\n");
        var e = Assert.Throws<CgroupException>(m.Destroy);
        Assert.Contains("rmdir /sys/fs/cgroup/skiff/c1: Device or resource busy", e.Message);
    }

    [Fact]
    public void AddProcess_and_GetPids_recursive()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        m.Create();
        m.AddProcess(4242);
        foreach (var f in m.ProcsFiles) Assert.Equal("4242", tree.Read(f));
        tree.CreateDirectory("/sys/fs/cgroup/pids/skiff/c1/child");
        tree.SetFile("/sys/fs/cgroup/pids/skiff/c1/child/cgroup.procs", "7\n8\n");
        Assert.Equal(new[] { 7, 8, 4242 }, m.GetPids().Order().ToArray());
    }

    [Fact]
    public void Freeze_and_thaw_v1_and_v2()
    {
        using (var tree = new FakeCgroupTree(CgroupMode.V1))
        {
            var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
            m.Create();
            m.Freeze();
            Assert.Equal("FROZEN", tree.Read("/sys/fs/cgroup/freezer/skiff/c1/freezer.state"));
            m.Thaw();
            Assert.Equal("THAWED", tree.Read("/sys/fs/cgroup/freezer/skiff/c1/freezer.state"));
        }
        using (var tree = new FakeCgroupTree(CgroupMode.V2))
        {
            var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
            m.Create();
            tree.SetFile("/sys/fs/cgroup/skiff/c1/cgroup.events", "populated 1\nfrozen 1\n");
            m.Freeze();
            Assert.Equal("1", tree.Read("/sys/fs/cgroup/skiff/c1/cgroup.freeze"));
            tree.SetFile("/sys/fs/cgroup/skiff/c1/cgroup.events", "populated 1\nfrozen 0\n");
            m.Thaw();
            Assert.Equal("0", tree.Read("/sys/fs/cgroup/skiff/c1/cgroup.freeze"));
        }
    }

    [Fact]
    public void Paths_round_trip_through_json_and_FromPaths()
    {
        using var tree = new FakeCgroupTree(CgroupMode.Hybrid);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        var json = JsonSerializer.Serialize(m.Paths, CgroupJsonContext.Default.CgroupPaths);
        Assert.Contains("\"mode\": \"Hybrid\"", json);
        Assert.Contains("\"cpu,cpuacct\": \"/sys/fs/cgroup/cpu,cpuacct/skiff/c1\"", json);
        var back = JsonSerializer.Deserialize(json, CgroupJsonContext.Default.CgroupPaths)!;
        var m2 = CgroupManager.FromPaths(tree, back);
        Assert.Equal(m.Mode, m2.Mode);
        Assert.Equal(m.ProcsFiles, m2.ProcsFiles);
        Assert.Equal(m.MountSources.Select(s => s.ContainerPath), m2.MountSources.Select(s => s.ContainerPath));
    }

    [Fact]
    public void FromPaths_rejects_unclean_paths()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var p = new CgroupPaths { Mode = CgroupMode.V1 };
        p.Paths["memory"] = "/sys/fs/cgroup/memory/../../../etc";
        Assert.Throws<CgroupException>(() => CgroupManager.FromPaths(tree, p));
    }

    [Fact]
    public void MountSources_v1_have_symlinks_for_comounted_controllers()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V1);
        var m = CgroupManager.Create(tree, "c1", "/skiff/c1");
        var cpu = m.MountSources.Single(s => s.ContainerPath == "/sys/fs/cgroup/cpu,cpuacct");
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct/skiff/c1", cpu.HostDirectory);
        Assert.Equal(["cpu", "cpuacct"], cpu.Symlinks);
        var systemd = m.MountSources.Single(s => s.ContainerPath == "/sys/fs/cgroup/systemd");
        Assert.Equal(["name=systemd"], systemd.Controllers);
        Assert.Empty(systemd.Symlinks);
        Assert.Empty(m.MountSources.Single(s => s.ContainerPath == "/sys/fs/cgroup/memory").Symlinks);
        Assert.All(m.MountSources, s => Assert.False(s.IsV2));
    }

    [Fact]
    public void MountSources_v2_and_hybrid()
    {
        using (var tree = new FakeCgroupTree(CgroupMode.V2))
        {
            var s = Assert.Single(CgroupManager.Create(tree, "c1", "/skiff/c1").MountSources);
            Assert.Equal("/sys/fs/cgroup", s.ContainerPath);
            Assert.True(s.IsV2);
        }
        using (var tree = new FakeCgroupTree(CgroupMode.Hybrid))
        {
            var s = CgroupManager.Create(tree, "c1", "/skiff/c1").MountSources.Single(x => x.IsV2);
            Assert.Equal("/sys/fs/cgroup/unified", s.ContainerPath);
            Assert.Equal("/sys/fs/cgroup/unified/skiff/c1", s.HostDirectory);
        }
    }
}
