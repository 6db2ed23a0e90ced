using System.Diagnostics;
using Skiff.Cgroups;
using Skiff.Oci;
using Process = System.Diagnostics.Process;

namespace Skiff.Cgroups.Tests;

/// <summary>Runs only as root on a host with a v1 memory hierarchy at /sys/fs/cgroup/memory.</summary>
public sealed class RootV1CgroupFactAttribute : FactAttribute
{
    public RootV1CgroupFactAttribute()
    {
        if (!IsRoot()) Skip = "needs root";
        else if (!File.ReadAllText("/proc/self/mountinfo").Contains(" /sys/fs/cgroup/memory ", StringComparison.Ordinal))
            Skip = "needs a cgroup v1 memory hierarchy at /sys/fs/cgroup/memory";
    }

    internal static bool IsRoot()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
                return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0"; // effective uid
        return false;
    }
}

/// <summary>Creates a uniquely named cgroup on the real host and always removes it.</summary>
public sealed class RealCgroupTests : IDisposable
{
    private readonly string _name = "skiff-test-" + Guid.NewGuid().ToString("N")[..12];
    private CgroupManager? _manager;
    private Process? _child;
    private readonly List<string> _extraDirs = new();

    public void Dispose()
    {
        try
        {
            if (_child is { HasExited: false })
            {
                try { _manager?.Thaw(); } catch (CgroupException) { }
                _child.Kill();
                _child.WaitForExit(5000);
            }
        }
        finally
        {
            _child?.Dispose();
            try { _manager?.Destroy(); } catch (CgroupException) { }
            foreach (var dir in _extraDirs)
            {
                try { if (Directory.Exists(dir)) Directory.Delete(dir); } catch (IOException) { }
            }
        }
    }

    private static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file)).Trim();

    [RootV1CgroupFact]
    public void Create_apply_join_freeze_destroy_on_the_real_hierarchy()
    {
        _manager = CgroupManager.Create(_name, null);
        Assert.NotEqual(CgroupMode.V2, _manager.Mode);
        _manager.Create();
        var paths = _manager.Paths.Paths;
        foreach (var dir in paths.Values) Assert.True(Directory.Exists(dir), dir);
        var mem = paths["memory"];
        var cpu = paths.First(p => p.Key.Split(',').Contains("cpu")).Value;
        var pids = paths["pids"];
        var cpuset = paths["cpuset"];
        Assert.EndsWith("/" + _name, mem);

        var resources = new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 64L << 20, Reservation = 32L << 20, Kernel = 16L << 20 },
            CPU = new LinuxCPU { Shares = 512, Quota = 50000, Period = 100000, Cpus = "0" },
            Pids = new LinuxPids { Limit = 50 },
            Devices =
            [
                new() { Allow = false, Access = "rwm" },
                new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
            ],
        };
        if (File.Exists(Path.Combine(mem, "memory.memsw.limit_in_bytes"))) resources.Memory.Swap = 128L << 20;
        var blkio = paths.GetValueOrDefault("blkio");
        if (blkio is not null && (File.Exists(Path.Combine(blkio, "blkio.bfq.weight")) || File.Exists(Path.Combine(blkio, "blkio.weight"))))
            resources.BlockIO = new LinuxBlockIO { Weight = 500 };
        var unified = paths.GetValueOrDefault("unified");
        var hugetlbV2 = unified is not null && File.Exists(Path.Combine(unified, "hugetlb.2MB.max"));
        if (hugetlbV2) resources.HugepageLimits = [new() { Pagesize = "2MB", Limit = 4L << 21 }];
        _manager.Apply(resources);

        Assert.Equal((64L << 20).ToString(), Read(mem, "memory.limit_in_bytes"));
        Assert.Equal((32L << 20).ToString(), Read(mem, "memory.soft_limit_in_bytes"));
        if (resources.Memory.Swap is not null) Assert.Equal((128L << 20).ToString(), Read(mem, "memory.memsw.limit_in_bytes"));
        Assert.Equal("512", Read(cpu, "cpu.shares"));
        Assert.Equal("50000", Read(cpu, "cpu.cfs_quota_us"));
        Assert.Equal("100000", Read(cpu, "cpu.cfs_period_us"));
        Assert.Equal("0", Read(cpuset, "cpuset.cpus"));
        Assert.Equal("50", Read(pids, "pids.max"));
        if (resources.BlockIO is not null)
        {
            var file = File.Exists(Path.Combine(blkio!, "blkio.bfq.weight")) ? "blkio.bfq.weight" : "blkio.weight";
            Assert.Contains("500", Read(blkio!, file));
        }
        if (hugetlbV2) Assert.Equal((4L << 21).ToString(), Read(unified!, "hugetlb.2MB.max"));
        if (paths.TryGetValue("devices", out var devices))
            Assert.Equal("c 1:3 rwm", Read(devices, "devices.list"));

        _child = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        _manager.AddProcess(_child.Id);
        var procCgroup = File.ReadAllText($"/proc/{_child.Id}/cgroup");
        foreach (var (key, dir) in paths)
        {
            var h = CgroupSystem.Detect().Hierarchies.Single(x => x.Key == key);
            var expected = dir[h.MountPoint.Length..];
            Assert.Contains(procCgroup.Split('\n'), l => l.EndsWith(":" + expected, StringComparison.Ordinal) && l.Contains(key.StartsWith("name=") ? key : key == "unified" ? "::" : key));
        }
        Assert.Contains(_child.Id, _manager.GetPids());

        if (paths.TryGetValue("freezer", out var freezer))
        {
            _manager.Freeze();
            Assert.Equal("FROZEN", Read(freezer, "freezer.state"));
            _manager.Thaw();
            Assert.Equal("THAWED", Read(freezer, "freezer.state"));
        }

        // a value the kernel refuses: the error names file, value and errno text
        var e = Assert.Throws<CgroupException>(() => _manager.Apply(new LinuxResources { CPU = new LinuxCPU { Cpus = "9999" } }));
        Assert.StartsWith($"cannot set cpuset cpus: write 9999 to {cpuset}/cpuset.cpus: ", e.Message);
        Assert.True(e.Message.EndsWith(": Numerical result out of range") || e.Message.EndsWith(": Invalid argument"), e.Message);

        _child.Kill();
        _child.WaitForExit(5000);
        _manager.Destroy();
        foreach (var dir in paths.Values) Assert.False(Directory.Exists(dir), dir);
    }

    [RootV1CgroupFact]
    public void Rebuilt_manager_from_saved_paths_destroys()
    {
        _manager = CgroupManager.Create(_name, "/" + _name + "/inner");
        _extraDirs.AddRange(_manager.Paths.Paths.Values.Select(d => Path.GetDirectoryName(d)!));
        _manager.Create();
        var json = System.Text.Json.JsonSerializer.Serialize(_manager.Paths, CgroupJsonContext.Default.CgroupPaths);
        var again = CgroupManager.FromPaths(System.Text.Json.JsonSerializer.Deserialize(json, CgroupJsonContext.Default.CgroupPaths)!);
        Assert.Empty(again.GetPids());
        again.Destroy();
        foreach (var dir in _manager.Paths.Paths.Values) Assert.False(Directory.Exists(dir), dir);
        // the parent "/<name>" was created by Create but is not the container cgroup: Destroy keeps it
        foreach (var dir in _extraDirs) Assert.True(Directory.Exists(dir), dir);
    }
}
