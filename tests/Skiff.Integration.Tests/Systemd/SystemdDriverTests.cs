using System.Text.Json;
using Skiff.Cgroups;
using Skiff.Cgroups.Systemd;
using Skiff.Oci;

namespace Skiff.Integration.Tests.Systemd;

/// <summary>
/// The systemd cgroup driver against a real dbus-daemon, where <see cref="FakeSystemd"/> plays systemd: the
/// daemon validates every message both ways, and busctl (systemd's own marshaller) checks the decoding.
/// </summary>
public sealed class SystemdDriverTests : IDisposable
{
    private readonly PrivateBus _bus = new();

    public void Dispose() => _bus.Dispose();

    [ContainerFact]
    public void A_bus_without_systemd_is_a_clear_error()
    {
        var e = Assert.Throws<CgroupException>(() => SystemdClient.Connect(_bus.Address));
        Assert.Equal($"systemd cgroup driver: systemd is not on the system bus at {_bus.Address} (org.freedesktop.systemd1 has no owner); use the cgroupfs driver instead", e.Message);
    }

    [ContainerFact]
    public void Properties_cross_the_bus_in_both_directions()
    {
        using var systemd = new FakeSystemd(_bus.Address);
        using (var client = SystemdClient.Connect(_bus.Address))
        {
            client.SetUnitProperties("a.scope", SystemdProperties.FromResources(new LinuxResources
            {
                Memory = new LinuxMemory { Limit = 1 << 20 },
                CPU = new LinuxCPU { Cpus = "0-1,9" },
            }, CgroupMode.Hybrid));
            client.StopUnit("never-started.scope"); // NoSuchUnit is what a stop of a gone unit should be
        }
        var busctl = ProcessRunner.Run("busctl", ["--address=" + _bus.Address, "call", SystemdClient.Service, SystemdClient.ObjectPath,
            SystemdClient.ManagerInterface, "SetUnitProperties", "sba(sv)", "b.scope", "true", "3",
            "TasksMax", "t", "18446744073709551615", "Delegate", "b", "true", "AllowedCPUs", "ay", "2", "3", "2"], null, "/");
        Assert.True(busctl.ExitCode == 0, busctl.ToString());

        Assert.Null(systemd.Failure);
        var calls = systemd.Calls;
        var ours = Assert.Single(calls, c => c.Unit == "a.scope");
        Assert.Equal(1UL << 20, ours.Properties["MemoryLimit"]);
        Assert.Equal(new byte[] { 0b11, 0b10 }, ours.Properties["AllowedCPUs"]);
        Assert.Contains(calls, c => c is { Method: "StopUnit", Unit: "never-started.scope" });
        var theirs = Assert.Single(calls, c => c.Unit == "b.scope");
        Assert.Equal(ulong.MaxValue, theirs.Properties["TasksMax"]);
        Assert.Equal(true, theirs.Properties["Delegate"]);
        Assert.Equal(new byte[] { 3, 2 }, theirs.Properties["AllowedCPUs"]);
    }

    [ContainerFact]
    public void A_container_runs_in_its_scope_with_its_limits_and_delete_stops_the_unit()
    {
        using var systemd = new FakeSystemd(_bus.Address);
        using var bundle = new TestBundle();
        var id = bundle.NewId("sd");
        var slice = $"skifft{Guid.NewGuid():N}"[..18] + ".slice";
        var scope = $"skiff-{id}.scope";
        var cgroup = $"/{slice}/{scope}";
        var environment = new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = _bus.Address };
        RunResult Runtime(params string[] args) => bundle.RuntimeOnFiles(["--systemd-cgroup", .. args], $"runtime-{Guid.NewGuid():N}", environment);
        try
        {
            bundle.Spec.Process!.Args = ["sleep", "300"];
            bundle.Spec.Linux!.Resources!.Memory = new LinuxMemory { Limit = 32 << 20 };
            bundle.Spec.Linux.Resources.Pids = new LinuxPids { Limit = 20 };
            bundle.Spec.Linux.Resources.CPU = new LinuxCPU { Shares = 512 };
            bundle.Spec.Linux.CgroupsPath = $"{slice}:skiff:{id}";
            OciJson.WriteSpec(Path.Combine(bundle.Directory, "config.json"), bundle.Spec);

            var create = Runtime("create", "--bundle", bundle.Directory, id);
            Assert.True(create.ExitCode == 0, create.ToString());
            Assert.Null(systemd.Failure);
            var pid = JsonDocument.Parse(Runtime("state", id).Stdout).RootElement.GetProperty("pid").GetInt32();

            var start = Assert.Single(systemd.Calls, c => c.Method == "StartTransientUnit");
            Assert.Equal(scope, start.Unit);
            Assert.Equal(slice, start.Properties["Slice"]);
            Assert.Equal(true, start.Properties["Delegate"]);
            Assert.Equal(false, start.Properties["DefaultDependencies"]);
            Assert.Equal([(uint)pid], (IEnumerable<object>)start.Properties["PIDs"]);
            Assert.Equal(32UL << 20, start.Properties["MemoryLimit"]);
            Assert.Equal(20UL, start.Properties["TasksMax"]);
            Assert.Equal(512UL, start.Properties["CPUShares"]);

            var membership = File.ReadAllText($"/proc/{pid}/cgroup");
            Assert.Contains($":memory:{cgroup}\n", membership);
            Assert.Contains($":name=systemd:{cgroup}\n", membership);
            Assert.Contains($"0::{cgroup}\n", membership);
            Assert.Equal((32 << 20).ToString(), File.ReadAllText($"/sys/fs/cgroup/memory{cgroup}/memory.limit_in_bytes").Trim());
            Assert.Equal("20", File.ReadAllText($"/sys/fs/cgroup/pids{cgroup}/pids.max").Trim());

            var update = Runtime("update", "--memory", "67108864", id);
            Assert.True(update.ExitCode == 0, update.ToString());
            var set = Assert.Single(systemd.Calls, c => c.Method == "SetUnitProperties");
            Assert.Equal(64UL << 20, set.Properties["MemoryLimit"]);
            Assert.Equal((64 << 20).ToString(), File.ReadAllText($"/sys/fs/cgroup/memory{cgroup}/memory.limit_in_bytes").Trim());

            var delete = Runtime("delete", "--force", id);
            Assert.True(delete.ExitCode == 0 && delete.Stderr.Length == 0, delete.ToString());
            Assert.Contains(systemd.Calls, c => c is { Method: "StopUnit" } && c.Unit == scope);
            Assert.Empty(systemd.Units);
            Assert.DoesNotContain(Directory.EnumerateDirectories("/sys/fs/cgroup"), h => Directory.Exists(h + cgroup));
            Assert.Null(systemd.Failure);
        }
        finally
        {
            Runtime("delete", "--force", id);
            RemoveScopeAndSlice(slice, scope);
        }
    }

    [ContainerTheory]
    [InlineData(true, "StartTransientUnit", "the job ended with \"failed\"")]
    [InlineData(false, "systemd is not on the system bus", "org.freedesktop.systemd1 has no owner")]
    public void A_create_systemd_refuses_is_one_line_and_leaves_nothing(bool systemdRuns, string expected, string reason)
    {
        using var systemd = systemdRuns ? new FakeSystemd(_bus.Address, startResult: "failed") : null;
        using var bundle = new TestBundle();
        var id = bundle.NewId("sdbad");
        var slice = $"skifft{Guid.NewGuid():N}"[..18] + ".slice";
        try
        {
            bundle.Spec.Linux!.CgroupsPath = $"{slice}:skiff:{id}";
            OciJson.WriteSpec(Path.Combine(bundle.Directory, "config.json"), bundle.Spec);
            var create = bundle.RuntimeOnFiles(["--systemd-cgroup", "create", "--bundle", bundle.Directory, id], id,
                new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = _bus.Address });
            Assert.True(create.ExitCode != 0, create.ToString());
            var line = Leftovers.SingleLine(create.Stderr);
            Assert.Contains(expected, line);
            Assert.Contains(reason, line);
            Assert.False(Directory.Exists(Path.Combine(bundle.StateRoot, id)), $"state of {id} left behind");
            Assert.DoesNotContain(Directory.EnumerateDirectories("/sys/fs/cgroup"), h => Directory.Exists($"{h}/{slice}/skiff-{id}.scope"));
            Assert.Null(systemd?.Failure);
        }
        finally
        {
            RemoveScopeAndSlice(slice, $"skiff-{id}.scope");
        }
    }

    /// <summary>The test's own slice (and the scope, should a failure have left it) in every hierarchy.</summary>
    private static void RemoveScopeAndSlice(string slice, string scope)
    {
        foreach (var hierarchy in Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            foreach (var dir in new[] { $"{hierarchy}/{slice}/{scope}", $"{hierarchy}/{slice}" })
                if (Directory.Exists(dir)) Directory.Delete(dir);
        }
    }

    [ContainerFact]
    public void Features_report_systemd_only_where_it_answers()
    {
        static bool Systemd(Dictionary<string, string>? environment)
        {
            var features = ProcessRunner.Run(Repo.Runtime, ["features"], null, "/", environment: environment);
            Assert.True(features.ExitCode == 0, features.ToString());
            return JsonDocument.Parse(features.Stdout).RootElement.GetProperty("linux").GetProperty("cgroup").GetProperty("systemd").GetBoolean();
        }
        var onOurBus = new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = _bus.Address };
        Assert.False(Systemd(onOurBus)); // a bus without systemd on it
        using var systemd = new FakeSystemd(_bus.Address);
        Assert.True(Systemd(onOurBus));
    }
}
