using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>Bad limits, device rules, seccomp profiles and cgroup paths: one clear line, nothing left behind.</summary>
public sealed class ConfinementBadInputTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    /// <summary>create of the bundle's spec (cgroupsPath as given, or /skiff-test/ID) fails with one line naming every <paramref name="expected"/>.</summary>
    private void CreateFails(string? cgroupsPath, params string[] expected)
    {
        var id = _bundle.NewId("bad");
        _bundle.WriteConfig(id);
        if (cgroupsPath is not null)
        {
            _bundle.Spec.Linux!.CgroupsPath = cgroupsPath;
            OciJson.WriteSpec(Path.Combine(_bundle.Directory, "config.json"), _bundle.Spec);
        }
        _bundle.AssertFailedCleanly(id, _bundle.CreateAsIs(id), expected);
    }

    [ContainerFact]
    public void SwapBelowMemoryIsContradictory()
    {
        _bundle.Spec.Linux!.Resources = new LinuxResources { Memory = new LinuxMemory { Limit = 64 << 20, Swap = 32 << 20 } };
        CreateFails(null, "swap", "33554432", "67108864");
    }

    [ContainerFact]
    public void ANegativeLimitIsOutOfRange()
    {
        _bundle.Spec.Linux!.Resources = new LinuxResources { Memory = new LinuxMemory { Limit = -5 } };
        CreateFails(null, "memory", "-5");
    }

    [ContainerFact]
    public void AValueTheKernelRefusesNamesTheFileAndIsRolledBack()
    {
        // the kernel refuses a CFS quota below 1 ms: found only when writing, after the cgroups exist
        _bundle.Spec.Linux!.Resources = new LinuxResources { CPU = new LinuxCPU { Quota = 500, Period = 100_000 } };
        // under a parent of its own, which the rollback must remove too
        var parent = "skiff-bad-" + Guid.NewGuid().ToString("N")[..8];
        CreateFails($"/{parent}/c", "cpu.cfs_quota_us", "500");
        Assert.DoesNotContain(Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"), h => Directory.Exists(Path.Combine(h, parent)));
    }

    [ContainerFact]
    public void UnknownDeviceType()
    {
        _bundle.Spec.Linux!.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "x", Major = 1, Minor = 3, Access = "rwm" });
        CreateFails(null, "type", "\"x\"");
    }

    [ContainerFact]
    public void UnknownDeviceAccess()
    {
        _bundle.Spec.Linux!.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwx" });
        CreateFails(null, "access", "rwx");
    }

    [ContainerFact]
    public void UnknownSeccompAction()
    {
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_EXPLODE" }] };
        CreateFails(null, "linux.seccomp.syscalls[0].action", "SCMP_ACT_EXPLODE");
    }

    [ContainerFact]
    public void UnknownSeccompOperator()
    {
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO", Args = [new LinuxSeccompArg { Index = 0, Value = 1, Op = "SCMP_CMP_SIMILAR" }] }],
        };
        CreateFails(null, "op", "SCMP_CMP_SIMILAR");
    }

    [ContainerFact]
    public void NotifyWithoutAListenerPath()
    {
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" }] };
        CreateFails(null, "listenerPath");
    }

    [ContainerFact]
    public void CgroupsPathEscapingTheHierarchy()
    {
        var escaped = "skiff-escape-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var path in new[] { $"/skiff-test/../../{escaped}", $"../../{escaped}" })
        {
            CreateFails(path, "escapes");
            // where ../.. from a hierarchy's directory would land
            foreach (var candidate in Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup").Append("/sys/fs"))
                Assert.False(Directory.Exists(Path.Combine(candidate, escaped)), $"{candidate}/{escaped} was created");
        }
    }

    [WithoutSystemdContainerFact]
    public void SystemdCgroupDriverWithoutSystemdIsAClearError()
    {
        var id = _bundle.NewId("sd");
        _bundle.WriteConfig(id);
        _bundle.Spec.Linux!.CgroupsPath = "system.slice:skiff:" + id;
        OciJson.WriteSpec(Path.Combine(_bundle.Directory, "config.json"), _bundle.Spec);
        _bundle.AssertFailedCleanly(id, _bundle.Runtime("--systemd-cgroup", "create", "--bundle", _bundle.Directory, id), "systemd is not running");
    }
}

/// <summary>A container test for hosts where systemd is not PID 1 (where the systemd cgroup driver must refuse).</summary>
public sealed class WithoutSystemdContainerFactAttribute : FactAttribute
{
    public WithoutSystemdContainerFactAttribute()
    {
        if (Environment.UserName != "root")
            Skip = "needs root";
        else if (File.ReadAllText("/proc/1/comm").Trim() == "systemd")
            Skip = "systemd is PID 1 here: the driver would talk to it";
    }
}
