using Skiff.Cgroups;
using Skiff.Interop;
using Skiff.Interop.Tests;
using Skiff.Oci;
using Skiff.Runtime.Plan;
using static Skiff.Oci.LinuxNames;

namespace Skiff.Runtime.Tests;

public sealed class PlanCompilerTests : IDisposable
{
    private readonly string _bundle = Directory.CreateTempSubdirectory("skiff-plan-").FullName;
    private readonly Spec _spec = DefaultSpec.Default(cgroupNamespace: false);
    private readonly FakeCgroups _cgroups = new(CgroupMode.Hybrid,
        new CgroupDirectory("/sys/fs/cgroup/memory/c1", false),
        new CgroupDirectory("/sys/fs/cgroup/unified/c1", true));
    private readonly FakeSecurityTree _securityTree = new();

    public PlanCompilerTests()
    {
        Directory.CreateDirectory(Path.Combine(_bundle, "rootfs"));
        _spec.Process!.Terminal = false;
        _spec.Process.Args = ["sh", "-c", "true"];
    }

    public void Dispose()
    {
        Directory.Delete(_bundle, recursive: true);
        _securityTree.Dispose();
    }

    private LaunchOptions Options => new() { Bundle = _bundle, Cgroups = _cgroups, SecurityModules = new SecurityModules(_securityTree.Root) };

    private List<PlanRecord> Exec(Process process)
        => PlanReader.Read(PlanCompiler.CompileExec(_spec, process, 4242, Options, new FdLayoutNumbers(4, -1, -1)).ToArray());

    private List<PlanRecord> Create(FdLayoutNumbers? fds = null)
        => PlanReader.Read(PlanCompiler.CompileCreate(_spec, Options, fds ?? new FdLayoutNumbers(4, 5, -1)).ToArray());

    [Fact]
    public void CreatePlanStartsWithGlobalsAndEndsWithTheExecFifo()
    {
        var plan = Create();
        Assert.Equal([PlanOp.Mode, PlanOp.SyncFd, PlanOp.PreserveFds], plan.Take(3).Select(r => r.Op));
        Assert.Equal(0UL, plan[0].Ints[0]);
        Assert.Equal(4UL, plan[1].Ints[0]);
        Assert.Equal(PlanOp.ExecFifo, plan[^1].Op);
        Assert.Equal(5UL, plan[^1].Ints[0]);
    }

    [Fact]
    public void V1HierarchiesAreJoinedThroughTasksAndCgroup2AtClone()
    {
        var plan = Create();
        Assert.Equal("/sys/fs/cgroup/memory/c1/tasks", Assert.Single(plan, r => r.Op == PlanOp.CgroupProcs).Strings[0]);
        Assert.Equal("/sys/fs/cgroup/unified/c1", Assert.Single(plan, r => r.Op == PlanOp.CgroupCloneInto).Strings[0]);
    }

    [Fact]
    public void NewNamespacesBecomeCloneFlags()
    {
        var flags = Assert.Single(Create(), r => r.Op == PlanOp.CloneFlags).Ints[0];
        Assert.Equal(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS, flags);
    }

    [Fact]
    public void JoinedNamespacesPutTheUserNamespaceFirstAndMountLast()
    {
        var nsFile = Path.Combine(_bundle, "ns");
        File.WriteAllText(nsFile, "");
        _spec.Linux!.Namespaces =
        [
            new LinuxNamespace { Type = "mount" },
            new LinuxNamespace { Type = "network", Path = nsFile },
            new LinuxNamespace { Type = "user", Path = nsFile },
            new LinuxNamespace { Type = "pid" },
        ];
        var joins = Create().Where(r => r.Op == PlanOp.JoinNamespace).Select(r => r.Ints[0]).ToList();
        Assert.Equal([CLONE_NEWUSER, CLONE_NEWNET], joins);
    }

    [Fact]
    public void UserNamespaceMapsAreFormattedAsProcFileLines()
    {
        _spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        _spec.Linux.UIDMappings = [new LinuxIDMapping { ContainerID = 0, HostID = 100000, Size = 65536 }, new LinuxIDMapping { ContainerID = 65536, HostID = 5, Size = 1 }];
        _spec.Linux.GIDMappings = [new LinuxIDMapping { ContainerID = 0, HostID = 200000, Size = 10 }];
        var plan = Create();
        Assert.Equal("0 100000 65536\n65536 5 1\n", Assert.Single(plan, r => r.Op == PlanOp.UidMap).Strings[0]);
        Assert.Equal("0 200000 10\n", Assert.Single(plan, r => r.Op == PlanOp.GidMap).Strings[0]);
    }

    [Fact]
    public void UserNamespaceWithoutMappingsIsRejected()
    {
        _spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        var error = Assert.Throws<RuntimeException>(() => Create());
        Assert.Contains("uidMappings", error.Message);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void RootfsIsResolvedAgainstTheBundle()
    {
        var rootfs = Assert.Single(Create(), r => r.Op == PlanOp.Rootfs);
        Assert.Equal(Path.Combine(_bundle, "rootfs"), rootfs.Strings[0]);
    }

    [Fact]
    public void MissingRootfsNamesThePath()
    {
        _spec.Root!.Path = "nope";
        var error = Assert.Throws<RuntimeException>(() => Create());
        Assert.Contains(Path.Combine(_bundle, "nope"), error.Message);
        Assert.Equal(ErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void ReadOnlyBindMountIsBoundThenRemounted()
    {
        var source = Directory.CreateDirectory(Path.Combine(_bundle, "data")).FullName;
        _spec.Mounts = [new Mount { Destination = "/data", Type = "bind", Source = "data", Options = ["rbind", "ro", "nosuid", "rprivate"] }];
        var mount = Assert.Single(Create(), r => r.Op == PlanOp.Mount && r.Strings[1] == "/data");
        Assert.Equal(source, mount.Strings[0]);
        Assert.Equal(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, mount.Ints[0]);
        Assert.Equal(MS_PRIVATE, mount.Ints[1]);
        Assert.Equal(0x1UL | 0x4UL | 0x10UL, mount.Ints[2]); // mkdir, remount, recursive propagation
    }

    [Fact]
    public void BindOfAFileCreatesAFileDestination()
    {
        File.WriteAllText(Path.Combine(_bundle, "hosts"), "");
        _spec.Mounts = [new Mount { Destination = "/etc/hosts", Type = "bind", Source = Path.Combine(_bundle, "hosts"), Options = ["bind"] }];
        var mount = Assert.Single(Create(), r => r.Op == PlanOp.Mount && r.Strings[1] == "/etc/hosts");
        Assert.Equal(0x2UL, mount.Ints[2]);
    }

    [Fact]
    public void MissingBindSourceIsRejectedBeforeAnythingRuns()
    {
        _spec.Mounts = [new Mount { Destination = "/data", Type = "bind", Source = "/nonexistent-skiff", Options = ["bind"] }];
        var error = Assert.Throws<RuntimeException>(() => Create());
        Assert.Contains("/nonexistent-skiff", error.Message);
        Assert.Equal(ErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void FilesystemOptionsStayAsMountData()
    {
        _spec.Mounts = [new Mount { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] }];
        var mount = Assert.Single(Create(), r => r.Op == PlanOp.Mount);
        Assert.Equal(MS_NOSUID | MS_STRICTATIME, mount.Ints[0]);
        Assert.Equal("mode=755,size=65536k", mount.Strings[3]);
        Assert.Equal("tmpfs", mount.Strings[2]);
    }

    [Fact]
    public void PrivateDevGetsTheDefaultDevicesAndSymlinks()
    {
        var plan = Create();
        var devices = plan.Where(r => r.Op == PlanOp.Device).ToDictionary(r => r.Strings[0]);
        Assert.Equal(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"], devices.Keys);
        Assert.Equal([(ulong)(S_IFCHR | 0x1B6), 1UL, 3UL, 0UL, 0UL, 0UL], devices["/dev/null"].Ints);
        var links = plan.Where(r => r.Op == PlanOp.Symlink).ToDictionary(r => r.Strings[1], r => r.Strings[0]);
        Assert.Equal("/proc/self/fd", links["/dev/fd"]);
        Assert.Equal("pts/ptmx", links["/dev/ptmx"]);
    }

    [Fact]
    public void DevicesInAUserNamespaceAreBoundFromTheHost()
    {
        _spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        _spec.Linux.UIDMappings = [new LinuxIDMapping { HostID = 1000, Size = 1 }];
        _spec.Linux.GIDMappings = [new LinuxIDMapping { HostID = 1000, Size = 1 }];
        Assert.All(Create().Where(r => r.Op == PlanOp.Device), r => Assert.Equal(1UL, r.Ints[5]));
    }

    [Fact]
    public void UnknownDeviceTypeIsRejected()
    {
        _spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "z", Major = 1, Minor = 1 }];
        Assert.Contains("unknown device type", Assert.Throws<RuntimeException>(() => Create()).Message);
    }

    [Fact]
    public void PivotComesAfterEveryMountAndBeforeMaskedPaths()
    {
        var ops = Create().Select(r => r.Op).ToList();
        int pivot = ops.IndexOf(PlanOp.Pivot);
        Assert.True(ops.LastIndexOf(PlanOp.Mount) < pivot);
        Assert.True(ops.IndexOf(PlanOp.Mask) > pivot);
        Assert.True(ops.IndexOf(PlanOp.Readonly) > pivot);
    }

    [Fact]
    public void HooksSyncPointOnlyWhenCreateHooksExist()
    {
        Assert.DoesNotContain(Create(), r => r.Op == PlanOp.Hooks);
        _spec.Hooks = new Oci.Hooks { CreateRuntime = [new Hook { Path = "/bin/true" }] };
        var ops = Create().Select(r => r.Op).ToList();
        Assert.Equal(ops.IndexOf(PlanOp.Pivot) - 1, ops.IndexOf(PlanOp.Hooks));
    }

    [Fact]
    public void HooksSyncPointAlsoWhenTheCgroupManagerRegistersTheInit()
    {
        var systemd = new FakeCgroups(CgroupMode.Hybrid, new CgroupDirectory("/sys/fs/cgroup/memory/system.slice/x.scope", false)) { RegistersInit = true };
        var plan = PlanReader.Read(PlanCompiler.CompileCreate(_spec, new LaunchOptions { Bundle = _bundle, Cgroups = systemd }, new FdLayoutNumbers(4, 5, -1)).ToArray());
        var ops = plan.Select(r => r.Op).ToList();
        Assert.Equal(ops.IndexOf(PlanOp.Pivot) - 1, ops.IndexOf(PlanOp.Hooks));
    }

    [Fact]
    public void CapabilitiesBecomeBitMasks()
    {
        _spec.Process!.Capabilities = new LinuxCapabilities
        {
            Bounding = ["CAP_KILL", "CAP_CHOWN"],
            Effective = ["CAP_KILL"],
            Permitted = ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            Inheritable = ["CAP_NET_BIND_SERVICE"],
            // CAP_CHOWN is neither permitted nor inheritable: the kernel refuses it as ambient, runc skips it.
            Ambient = ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
        };
        var caps = Assert.Single(Create(), r => r.Op == PlanOp.Capabilities).Ints;
        Assert.Equal([(1UL << 5) | 1UL, 1UL << 5, (1UL << 5) | (1UL << 10), 1UL << 10, 1UL << 10], caps);
    }

    [Fact]
    public void UnknownCapabilityIsRejected()
    {
        _spec.Process!.Capabilities = new LinuxCapabilities { Bounding = ["CAP_FLY"] };
        Assert.Contains("CAP_FLY", Assert.Throws<RuntimeException>(() => Create()).Message);
    }

    [Fact]
    public void UserDefaultsToUmask022()
    {
        _spec.Process!.User = new User { UID = 1000, GID = 100, AdditionalGids = [5, 6] };
        Assert.Equal([1000UL, 100UL, 0x12UL, 5UL, 6UL], Assert.Single(Create(), r => r.Op == PlanOp.User).Ints);
    }

    [Fact]
    public void TerminalNeedsAConsoleSocket()
    {
        _spec.Process!.Terminal = true;
        Assert.Contains("--console-socket", Assert.Throws<RuntimeException>(() => Create()).Message);
        var console = Assert.Single(Create(new FdLayoutNumbers(4, 5, 6)), r => r.Op == PlanOp.Console);
        Assert.Equal(6UL, console.Ints[0]);
    }

    [Fact]
    public void RlimitAboveTheHardLimitFailsWithTheAllowedMaximum()
    {
        _spec.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = ulong.MaxValue - 1, Hard = ulong.MaxValue - 1 }];
        if (ProcessCapabilities.Has(CAP_SYS_RESOURCE))
            return; // such a host can raise any limit; the check under test only exists without the capability
        var error = Assert.Throws<RuntimeException>(() => Create());
        Assert.Contains("RLIMIT_NOFILE", error.Message);
        Assert.Contains("allowed maximum", error.Message);
        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
    }

    [Fact]
    public void RlimitSoftAboveHardIsRejected()
    {
        _spec.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_CORE", Soft = 10, Hard = 5 }];
        Assert.Contains("soft limit", Assert.Throws<RuntimeException>(() => Create()).Message);
    }

    [Fact]
    public void StartContainerHooksCarryPathStdinArgsAndEnv()
    {
        _spec.Hooks = new Oci.Hooks { StartContainer = [new Hook { Path = "/bin/hook", Args = ["hook", "a"], Env = ["X=1"], Timeout = 3 }] };
        var hook = Assert.Single(Create(), r => r.Op == PlanOp.Hook);
        Assert.Equal([3UL, 2UL, 1UL], hook.Ints);
        Assert.Equal("/bin/hook", hook.Strings[0]);
        Assert.Equal(["hook", "a", "X=1"], hook.Strings[2..]);
    }

    [Fact]
    public void ExecPlanJoinsEveryContainerNamespaceOfTheInitProcess()
    {
        var plan = Exec(new Process { Args = ["ls"], Cwd = "/" });
        Assert.Equal(1UL, plan[0].Ints[0]);
        var joined = plan.Where(r => r.Op == PlanOp.JoinNamespace).Select(r => r.Strings[0]).ToList();
        Assert.Equal("/proc/4242/ns/mnt", joined[^1]);
        Assert.Contains("/proc/4242/ns/pid", joined);
        Assert.Equal(0UL, Assert.Single(plan, r => r.Op == PlanOp.CloneFlags).Ints[0]);
        Assert.DoesNotContain(plan, r => r.Op is PlanOp.Rootfs or PlanOp.Mount or PlanOp.Pivot or PlanOp.ExecFifo);
        Assert.Equal(["ls"], Assert.Single(plan, r => r.Op == PlanOp.Args).Strings);
    }

    [Fact]
    public void SeccompProfileBecomesABpfProgramWithItsFlags()
    {
        _spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Flags = ["SECCOMP_FILTER_FLAG_LOG"],
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO" }],
        };
        var seccomp = Assert.Single(Create(), r => r.Op == PlanOp.Seccomp);
        Assert.Equal(2UL, seccomp.Ints[0]);
        Assert.True(seccomp.Ints.Length > 4);
        // Every program ends in a BPF_RET (class 0x06).
        Assert.Equal(0x06UL, seccomp.Ints[^1] & 0x07);
    }

    [Fact]
    public void SeccompWithAnUnknownActionNamesIt()
    {
        _spec.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_EXPLODE" };
        var error = Assert.Throws<RuntimeException>(() => Create());
        Assert.Contains("SCMP_ACT_EXPLODE", error.Message);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void WithoutSecurityModulesNoLabelIsWrittenAndEmptyOnesAreAccepted()
    {
        _spec.Process!.ApparmorProfile = "";
        _spec.Process.SelinuxLabel = "";
        _spec.Linux!.MountLabel = "";
        var plan = Create();
        Assert.DoesNotContain(plan, r => r.Op is PlanOp.ExecLabel or PlanOp.FileLabel);
        Assert.DoesNotContain(plan, r => r.Strings.Any(s => s.Contains("context=")));
    }

    [Theory]
    [InlineData("apparmor", "process.apparmorProfile \"docker-default\"", "AppArmor")]
    [InlineData("selinux", "process.selinuxLabel \"system_u:system_r:container_t:s0\"", "SELinux")]
    [InlineData("mount", "linux.mountLabel \"system_u:object_r:container_file_t:s0\"", "SELinux")]
    public void ALabelForAModuleThisHostDoesNotRunIsAnErrorNamingFieldAndValue(string which, string field, string module)
    {
        switch (which)
        {
            case "apparmor": _spec.Process!.ApparmorProfile = "docker-default"; break;
            case "selinux": _spec.Process!.SelinuxLabel = "system_u:system_r:container_t:s0"; break;
            default: _spec.Linux!.MountLabel = "system_u:object_r:container_file_t:s0"; break;
        }
        var error = Assert.Throws<RuntimeException>(() => Create());
        Assert.Equal($"config.json: {field} requested but {module} is not enabled on this host", error.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
    }

    [Fact]
    public void AnExecWithAProfileOfAModuleThisHostDoesNotRunIsAnError()
    {
        var error = Assert.Throws<RuntimeException>(() => Exec(new Process { Args = ["ls"], Cwd = "/", ApparmorProfile = "p" }));
        Assert.Equal("exec: process.apparmorProfile \"p\" requested but AppArmor is not enabled on this host", error.Message);
    }

    [Fact]
    public void AppArmorProfileIsAChangeOnExecWithTheLegacyAttrAsFallback()
    {
        _securityTree.WithAppArmor();
        _spec.Process!.ApparmorProfile = "docker-default";
        var label = Assert.Single(Create(), r => r.Op == PlanOp.ExecLabel);
        Assert.Equal(["apparmor/exec", "exec", "exec docker-default"], label.Strings);
        // AppArmor gives mounts no labels.
        Assert.DoesNotContain(Create(), r => r.Strings.Any(s => s.Contains("context=")));
    }

    [Fact]
    public void ExecGetsItsOwnProfile()
    {
        _securityTree.WithAppArmor();
        var label = Assert.Single(Exec(new Process { Args = ["ls"], Cwd = "/", ApparmorProfile = "unconfined" }), r => r.Op == PlanOp.ExecLabel);
        Assert.Equal("exec unconfined", label.Strings[2]);
    }

    [Fact]
    public void SelinuxProcessLabelIsWrittenToTheExecAttr()
    {
        _securityTree.WithSelinux();
        _spec.Process!.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2";
        var label = Assert.Single(Create(), r => r.Op == PlanOp.ExecLabel);
        Assert.Equal(["exec", "", "system_u:system_r:container_t:s0:c1,c2"], label.Strings);
    }

    [Fact]
    public void SelinuxMountLabelGoesWhereRuncPutsIt()
    {
        _securityTree.WithSelinux();
        const string Label = "system_u:object_r:container_file_t:s0:c1,c2";
        const string Context = $"context=\"{Label}\"";
        _spec.Linux!.MountLabel = Label;
        var plan = Create();
        string DataOf(string destination) => Assert.Single(plan, r => r.Op == PlanOp.Mount && r.Strings[1] == destination).Strings[3];

        Assert.Equal($"mode=755,size=65536k,{Context}", DataOf("/dev"));
        Assert.Equal($"newinstance,ptmxmode=0666,mode=0620,gid=5,{Context}", DataOf("/dev/pts"));
        Assert.Equal($"mode=1777,size=65536k,{Context}", DataOf("/dev/shm"));
        // proc and sysfs keep the kernel's labels; mqueue's superblock refuses context=, so its mount point is relabelled.
        Assert.Equal("", DataOf("/proc"));
        Assert.Equal("", DataOf("/sys"));
        Assert.Equal("", DataOf("/dev/mqueue"));
        Assert.Equal(["/dev/mqueue", Label], Assert.Single(plan, r => r.Op == PlanOp.FileLabel).Strings);
        // The tmpfs holding the v1 cgroup hierarchies (mounted, then remounted read-only with the same context), and the tmpfs of masked directories.
        Assert.All(plan.Where(r => r.Op == PlanOp.Mount && r.Strings[1] == "/sys/fs/cgroup"), r => Assert.Equal($"mode=755,{Context}", r.Strings[3]));
        Assert.All(plan.Where(r => r.Op == PlanOp.Mask), mask => Assert.Equal(Context, mask.Strings[1]));
        Assert.DoesNotContain(plan, r => r.Op == PlanOp.ExecLabel);
    }

    [Fact]
    public void MaskedDirectoriesWithoutAMountLabelGetPlainTmpfs()
        => Assert.All(Create().Where(r => r.Op == PlanOp.Mask), mask => Assert.Equal("", mask.Strings[1]));
}
