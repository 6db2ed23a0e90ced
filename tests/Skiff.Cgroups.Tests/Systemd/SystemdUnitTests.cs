using Skiff.Cgroups.Systemd;

namespace Skiff.Cgroups.Tests.Systemd;

public sealed class SystemdUnitTests
{
    [Theory]
    [InlineData("system.slice", "/system.slice")]
    [InlineData("-.slice", "/")]
    [InlineData("machine-app.slice", "/machine.slice/machine-app.slice")]
    [InlineData("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice")]
    public void Slices_expand_like_runc(string slice, string path) => Assert.Equal(path, SystemdUnit.ExpandSlice(slice));

    [Theory]
    [InlineData(".slice")]
    [InlineData("system")]
    [InlineData("a--b.slice")]
    [InlineData("-a.slice")]
    [InlineData("a-.slice")]
    [InlineData("a/b.slice")]
    public void Bad_slices_are_refused(string slice)
    {
        var e = Assert.Throws<CgroupException>(() => SystemdUnit.ExpandSlice(slice));
        Assert.Contains($"invalid slice name \"{slice}\"", e.Message);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Slice_prefix_name_becomes_a_scope_in_the_slice()
    {
        var unit = SystemdUnit.Parse("id", "machine-app.slice:docker:abc");
        Assert.Equal("machine-app.slice", unit.Slice);
        Assert.Equal("docker-abc.scope", unit.Name);
        Assert.False(unit.IsSlice);
        Assert.Equal("/machine.slice/machine-app.slice/docker-abc.scope", unit.CgroupPath);
    }

    [Fact]
    public void Empty_slice_is_system_slice_and_empty_prefix_is_just_the_name()
    {
        var unit = SystemdUnit.Parse("id", "::abc");
        Assert.Equal("system.slice", unit.Slice);
        Assert.Equal("abc.scope", unit.Name);
        Assert.Equal("/system.slice/abc.scope", unit.CgroupPath);
    }

    [Fact]
    public void Empty_cgroups_path_uses_the_container_id()
    {
        var unit = SystemdUnit.Parse("c1", null);
        Assert.Equal("skiff-c1.scope", unit.Name);
        Assert.Equal("/system.slice/skiff-c1.scope", unit.CgroupPath);
        Assert.Equal(unit, SystemdUnit.Parse("c1", ""));
    }

    [Fact]
    public void A_name_ending_in_slice_is_the_unit_itself()
    {
        var unit = SystemdUnit.Parse("id", "system.slice:ignored:system-box.slice");
        Assert.True(unit.IsSlice);
        Assert.Equal("system-box.slice", unit.Name);
        Assert.Equal("/system.slice/system-box.slice", unit.CgroupPath);
    }

    [Theory]
    [InlineData("/not/a/slice", "slice:prefix:name")]
    [InlineData("a:b", "slice:prefix:name")]
    [InlineData("a:b:c:d", "slice:prefix:name")]
    [InlineData("system.slice:p:", "empty name")]
    [InlineData("system.slice:p:a/b", "not a valid unit name")]
    [InlineData("system.slice:p:a b", "not a valid unit name")]
    [InlineData("nope:p:x", "invalid slice name \"nope\"")]
    public void Bad_cgroups_paths_are_clear_errors(string path, string expected)
    {
        var e = Assert.Throws<CgroupException>(() => SystemdUnit.Parse("id", path));
        Assert.StartsWith("systemd cgroup driver: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Without_systemd_the_driver_is_a_clear_error()
    {
        using var tree = new FakeCgroupTree(CgroupMode.V2);
        var e = Assert.Throws<CgroupException>(() => SystemdCgroupManager.Create(tree, "x", "system.slice:skiff:x", busAddress: null));
        Assert.Equal("systemd cgroup driver: systemd is not running (pid 1 is not systemd); use the cgroupfs driver instead", e.Message);
        Assert.Equal(ErrorKind.Unavailable, e.Kind);
    }

    [Fact]
    public void With_systemd_the_manager_uses_the_scope_below_the_root_of_every_hierarchy()
    {
        using var tree = new FakeCgroupTree(CgroupMode.Hybrid);
        Directory.CreateDirectory(tree.Map("/run/systemd/system"));
        Assert.Throws<CgroupException>(() => SystemdCgroupManager.Create(tree, "x", "/not/a/slice", busAddress: null));
        var m = SystemdCgroupManager.Create(tree, "x", "machine-app.slice:skiff:x", busAddress: null);
        Assert.Equal("skiff-x.scope", m.UnitName);
        Assert.True(m.RegistersInit);
        Assert.Equal("skiff-x.scope", m.Paths.SystemdUnit);
        Assert.Equal("/sys/fs/cgroup/memory/machine.slice/machine-app.slice/skiff-x.scope", m.Paths.Paths["memory"]);
        Assert.Equal("/sys/fs/cgroup/systemd/machine.slice/machine-app.slice/skiff-x.scope", m.Paths.Paths["name=systemd"]);
    }

    [Fact]
    public void A_bus_that_does_not_answer_is_a_clear_error_before_any_directory_exists()
    {
        using var tree = new FakeCgroupTree(CgroupMode.Hybrid);
        var socket = Path.Combine(tree.Root, "no-bus");
        var m = SystemdCgroupManager.Create(tree, "x", "system.slice:skiff:x", busAddress: "unix:path=" + socket);
        var e = Assert.Throws<CgroupException>(m.Create);
        Assert.StartsWith($"systemd cgroup driver: cannot connect to the system bus at unix:path={socket}: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(tree.Exists("/sys/fs/cgroup/memory/system.slice/skiff-x.scope"));
        m.Destroy(); // the rollback of a create that never reached systemd: nothing to stop, nothing left
    }
}
