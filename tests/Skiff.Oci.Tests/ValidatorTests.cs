namespace Skiff.Oci.Tests;

public class ValidatorTests
{
    private static LinuxNamespace Ns(string type, string? path = null) => new() { Type = type, Path = path };

    // Each rule: a mutation that breaks it (and the exact error expected) and a close mutation that satisfies it.
    public static TheoryData<string, Action<Spec>, string, Action<Spec>> Rules => new()
    {
        { "version missing", s => s.Version = "", "ociVersion: missing", s => s.Version = "1.0.0" },
        { "version 2.x", s => s.Version = "2.0.0", "ociVersion: unsupported version \"2.0.0\" (supported: 1.x)", s => s.Version = "1.3.0" },
        { "version garbage", s => s.Version = "1.x", "ociVersion: unsupported version \"1.x\" (supported: 1.x)", s => s.Version = "1.0.2-dev" },
        { "root missing", s => s.Root = null, "root: missing", s => s.Root = new Root { Path = "/abs/rootfs" } },
        { "root path empty", s => s.Root!.Path = "", "root.path: must not be empty", s => s.Root!.Path = "rootfs" },
        { "process missing", s => s.Process = null, "process: missing (required to create a container)", s => s.Process = new Process { Args = ["true"], Cwd = "/" } },
        { "args empty", s => s.Process!.Args = [], "process.args: must not be empty", s => s.Process!.Args = ["x"] },
        { "args null", s => s.Process!.Args = null, "process.args: must not be empty", s => s.Process!.Args = ["x", ""] },
        { "args[0] empty", s => s.Process!.Args = [""], "process.args[0]: must not be empty", s => s.Process!.Args = ["/bin/sh"] },
        { "cwd relative", s => s.Process!.Cwd = "tmp", "process.cwd: must be an absolute path, got \"tmp\"", s => s.Process!.Cwd = "/tmp" },
        { "cwd empty", s => s.Process!.Cwd = "", "process.cwd: must be an absolute path, got \"\"", s => s.Process!.Cwd = "/" },
        { "consoleSize without terminal", s => s.Process!.ConsoleSize = new Box { Height = 1, Width = 1 }, "process.consoleSize: only allowed with terminal: true",
            s => { s.Process!.ConsoleSize = new Box { Height = 1, Width = 1 }; s.Process.Terminal = true; } },
        { "oomScoreAdj range", s => s.Process!.OOMScoreAdj = 1001, "process.oomScoreAdj: must be between -1000 and 1000, got 1001", s => s.Process!.OOMScoreAdj = -1000 },
        { "rlimit unknown", s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_FOO", Soft = 1, Hard = 1 }], "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"",
            s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_RTTIME", Soft = 1, Hard = 1 }] },
        { "rlimit lowercase", s => s.Process!.Rlimits = [new POSIXRlimit { Type = "rlimit_nofile" }], "process.rlimits[0].type: unknown rlimit \"rlimit_nofile\"",
            s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE" }] },
        { "rlimit soft > hard", s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = 2048, Hard = 1024 }], "process.rlimits[0]: soft limit 2048 is greater than hard limit 1024",
            s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = 1024, Hard = 1024 }] },
        { "rlimit duplicate", s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_CORE" }, new POSIXRlimit { Type = "RLIMIT_CORE" }], "process.rlimits[1].type: duplicate rlimit \"RLIMIT_CORE\"",
            s => s.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_CORE" }, new POSIXRlimit { Type = "RLIMIT_NPROC" }] },
        { "capability unknown", s => s.Process!.Capabilities = new LinuxCapabilities { Effective = ["CAP_KILL", "CAP_FLY"] }, "process.capabilities.effective[1]: unknown capability \"CAP_FLY\"",
            s => s.Process!.Capabilities = new LinuxCapabilities { Effective = ["CAP_KILL", "CAP_CHECKPOINT_RESTORE"] } },
        { "capability without prefix", s => s.Process!.Capabilities = new LinuxCapabilities { Ambient = ["NET_RAW"] }, "process.capabilities.ambient[0]: unknown capability \"NET_RAW\"",
            s => s.Process!.Capabilities = new LinuxCapabilities { Ambient = ["CAP_NET_RAW"] } },
        { "scheduler policy", s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_FAST" }, "process.scheduler.policy: unknown policy \"SCHED_FAST\" (known: SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE)",
            s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_BATCH" } },
        { "scheduler nice", s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Nice = 20 }, "process.scheduler.nice: must be between -20 and 19, got 20",
            s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Nice = -20 } },
        { "scheduler priority", s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Priority = 5 }, "process.scheduler.priority: only allowed with SCHED_FIFO or SCHED_RR",
            s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_RR", Priority = 5 } },
        { "scheduler deadline", s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_FIFO", Runtime = 5 }, "process.scheduler: runtime, deadline and period are only allowed with SCHED_DEADLINE",
            s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_DEADLINE", Runtime = 5, Deadline = 10, Period = 10 } },
        { "ioPriority class", s => s.Process!.IOPriority = new LinuxIOPriority { Class = "IOPRIO_CLASS_NONE" }, "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\" (known: IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)",
            s => s.Process!.IOPriority = new LinuxIOPriority { Class = "IOPRIO_CLASS_IDLE" } },
        { "ioPriority range", s => s.Process!.IOPriority = new LinuxIOPriority { Class = "IOPRIO_CLASS_BE", Priority = 8 }, "process.ioPriority.priority: must be between 0 and 7, got 8",
            s => s.Process!.IOPriority = new LinuxIOPriority { Class = "IOPRIO_CLASS_BE", Priority = 7 } },
        { "hostname without uts", s => s.Hostname = "h", "hostname: requires a new uts namespace (linux.namespaces has no \"uts\")",
            s => { s.Hostname = "h"; s.Linux!.Namespaces!.Add(Ns("uts")); } },
        { "domainname without uts", s => s.Domainname = "d", "domainname: requires a new uts namespace (linux.namespaces has no \"uts\")",
            s => { s.Domainname = "d"; s.Linux!.Namespaces!.Add(Ns("uts")); } },
        { "mount relative", s => s.Mounts = [new Mount { Destination = "proc", Type = "proc" }], "mounts[0].destination: must be an absolute path, got \"proc\"",
            s => s.Mounts = [new Mount { Destination = "/proc", Type = "proc" }] },
        { "mount empty", s => s.Mounts = [new Mount { Destination = "/a" }, new Mount()], "mounts[1].destination: must not be empty",
            s => s.Mounts = [new Mount { Destination = "/a" }, new Mount { Destination = "/b" }] },
        { "mount mapping size", s => s.Mounts = [new Mount { Destination = "/d", UIDMappings = [new LinuxIDMapping { HostID = 1 }] }], "mounts[0].uidMappings[0].size: must be greater than zero",
            s => s.Mounts = [new Mount { Destination = "/d", UIDMappings = [new LinuxIDMapping { HostID = 1, Size = 1 }] }] },
        { "hook relative", s => s.Hooks = new Hooks { Poststop = [new Hook { Path = "cleanup.sh" }] }, "hooks.poststop[0].path: must be an absolute path, got \"cleanup.sh\"",
            s => s.Hooks = new Hooks { Poststop = [new Hook { Path = "/bin/cleanup.sh" }] } },
        { "hook timeout", s => s.Hooks = new Hooks { CreateRuntime = [new Hook { Path = "/h", Timeout = 0 }] }, "hooks.createRuntime[0].timeout: must be greater than zero, got 0",
            s => s.Hooks = new Hooks { CreateRuntime = [new Hook { Path = "/h", Timeout = 1 }] } },
        { "namespace unknown", s => s.Linux!.Namespaces!.Add(Ns("net")), "linux.namespaces[2].type: unknown namespace type \"net\" (known: pid, network, mount, ipc, uts, user, cgroup, time)",
            s => s.Linux!.Namespaces!.Add(Ns("network")) },
        { "namespace duplicate", s => s.Linux!.Namespaces!.Add(Ns("pid")), "linux.namespaces[2].type: duplicate namespace \"pid\"",
            s => s.Linux!.Namespaces!.Add(Ns("ipc")) },
        { "namespace path relative", s => s.Linux!.Namespaces!.Add(Ns("network", "netns/x")), "linux.namespaces[2].path: must be an absolute path, got \"netns/x\"",
            s => s.Linux!.Namespaces!.Add(Ns("network", "/var/run/netns/x")) },
        { "uid mappings without userns", s => s.Linux!.UIDMappings = [new LinuxIDMapping { Size = 1 }], "linux.uidMappings: requires a user namespace (linux.namespaces has no \"user\")",
            s => { s.Linux!.UIDMappings = [new LinuxIDMapping { Size = 1 }]; s.Linux.Namespaces!.Add(Ns("user")); } },
        { "gid mappings without userns", s => s.Linux!.GIDMappings = [new LinuxIDMapping { Size = 1 }], "linux.gidMappings: requires a user namespace (linux.namespaces has no \"user\")",
            s => { s.Linux!.GIDMappings = [new LinuxIDMapping { Size = 1 }]; s.Linux.Namespaces!.Add(Ns("user")); } },
        { "mapping size 0", s => { s.Linux!.Namespaces!.Add(Ns("user")); s.Linux.UIDMappings = [new LinuxIDMapping { HostID = 1000 }]; }, "linux.uidMappings[0].size: must be greater than zero",
            s => { s.Linux!.Namespaces!.Add(Ns("user")); s.Linux.UIDMappings = [new LinuxIDMapping { HostID = 1000, Size = 1 }]; } },
        { "timeOffsets without timens", s => s.Linux!.TimeOffsets = new() { ["monotonic"] = new LinuxTimeOffset { Secs = 1 } }, "linux.timeOffsets: requires a time namespace (linux.namespaces has no \"time\")",
            s => { s.Linux!.TimeOffsets = new() { ["monotonic"] = new LinuxTimeOffset { Secs = 1 } }; s.Linux.Namespaces!.Add(Ns("time")); } },
        { "timeOffsets clock", s => { s.Linux!.Namespaces!.Add(Ns("time")); s.Linux.TimeOffsets = new() { ["realtime"] = new LinuxTimeOffset() }; }, "linux.timeOffsets['realtime']: unknown clock (known: monotonic, boottime)",
            s => { s.Linux!.Namespaces!.Add(Ns("time")); s.Linux.TimeOffsets = new() { ["boottime"] = new LinuxTimeOffset() }; } },
        { "sysctl net without netns", s => s.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" }, "linux.sysctl['net.ipv4.ip_forward']: requires a network namespace (linux.namespaces has no \"network\")",
            s => { s.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" }; s.Linux.Namespaces!.Add(Ns("network")); } },
        { "sysctl slash form", s => s.Linux!.Sysctl = new() { ["net/ipv4/conf/eth0.100/rp_filter"] = "1" }, "linux.sysctl['net/ipv4/conf/eth0.100/rp_filter']: requires a network namespace (linux.namespaces has no \"network\")",
            s => { s.Linux!.Sysctl = new() { ["net/ipv4/conf/eth0.100/rp_filter"] = "1" }; s.Linux.Namespaces!.Add(Ns("network")); } },
        { "sysctl shm without ipc", s => s.Linux!.Sysctl = new() { ["kernel.shmmax"] = "1" }, "linux.sysctl['kernel.shmmax']: requires an ipc namespace (linux.namespaces has no \"ipc\")",
            s => { s.Linux!.Sysctl = new() { ["kernel.shmmax"] = "1", ["kernel.msgmax"] = "1", ["kernel.sem"] = "1" }; s.Linux.Namespaces!.Add(Ns("ipc")); } },
        { "sysctl mqueue without ipc", s => s.Linux!.Sysctl = new() { ["fs.mqueue.msg_max"] = "10" }, "linux.sysctl['fs.mqueue.msg_max']: requires an ipc namespace (linux.namespaces has no \"ipc\")",
            s => { s.Linux!.Sysctl = new() { ["fs.mqueue.msg_max"] = "10" }; s.Linux.Namespaces!.Add(Ns("ipc")); } },
        { "sysctl domainname without uts", s => s.Linux!.Sysctl = new() { ["kernel.domainname"] = "x" }, "linux.sysctl['kernel.domainname']: requires a uts namespace (linux.namespaces has no \"uts\")",
            s => { s.Linux!.Sysctl = new() { ["kernel.domainname"] = "x" }; s.Linux.Namespaces!.Add(Ns("uts")); } },
        { "sysctl hostname conflicts", s => { s.Linux!.Namespaces!.Add(Ns("uts")); s.Linux.Sysctl = new() { ["kernel.hostname"] = "x" }; }, "linux.sysctl['kernel.hostname']: not allowed: use the \"hostname\" field instead",
            s => { s.Linux!.Namespaces!.Add(Ns("uts")); s.Hostname = "x"; } },
        { "sysctl not namespaced", s => s.Linux!.Sysctl = new() { ["vm.swappiness"] = "0" }, "linux.sysctl['vm.swappiness']: not allowed: this sysctl is not isolated by any namespace the container has",
            s => s.Linux!.Sysctl = new() },
        { "netDevices without netns", s => s.Linux!.NetDevices = new() { ["eth1"] = new LinuxNetDevice() }, "linux.netDevices: requires a network namespace (linux.namespaces has no \"network\")",
            s => { s.Linux!.NetDevices = new() { ["eth1"] = new LinuxNetDevice() }; s.Linux.Namespaces!.Add(Ns("network")); } },
        { "device type", s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "z", Major = 1, Minor = 1 }], "linux.devices[0].type: unknown device type \"z\" (known: c, b, u, p)",
            s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "u", Major = 1, Minor = 1 }] },
        { "device major/minor", s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "c" }], "linux.devices[0]: major and minor are required for type \"c\"",
            s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "p" }] },
        { "device negative", s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "b", Major = -1, Minor = 0 }], "linux.devices[0]: major and minor must not be negative, got -1:0",
            s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "b", Major = 8, Minor = 0 }] },
        { "device path", s => s.Linux!.Devices = [new LinuxDevice { Path = "dev/x", Type = "c", Major = 1, Minor = 3 }], "linux.devices[0].path: must be an absolute path, got \"dev/x\"",
            s => s.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "c", Major = 1, Minor = 3 }] },
        { "device rule type", s => s.Linux!.Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Type = "u" }] }, "linux.resources.devices[0].type: unknown device type \"u\" (known: a, c, b)",
            s => s.Linux!.Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Type = "a" }] } },
        { "device rule access", s => s.Linux!.Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Access = "rwx" }] }, "linux.resources.devices[0].access: must only contain r, w and m, got \"rwx\"",
            s => s.Linux!.Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Access = "mr" }] } },
        { "maskedPaths without mountns", s => { s.Linux!.Namespaces = [Ns("pid")]; s.Linux.MaskedPaths = ["/proc/kcore"]; }, "linux.maskedPaths: requires a mount namespace (linux.namespaces has no \"mount\")",
            s => { s.Linux!.Namespaces = [Ns("mount")]; s.Linux.MaskedPaths = ["/proc/kcore"]; } },
        { "readonlyPaths relative", s => s.Linux!.ReadonlyPaths = ["proc/sys"], "linux.readonlyPaths[0]: must be an absolute path, got \"proc/sys\"",
            s => s.Linux!.ReadonlyPaths = ["/proc/sys"] },
        { "rootfsPropagation", s => s.Linux!.RootfsPropagation = "recursive", "linux.rootfsPropagation: unknown propagation \"recursive\" (known: shared, slave, private, unbindable, rshared, rslave, rprivate, runbindable)",
            s => s.Linux!.RootfsPropagation = "rprivate" },
        { "personality", s => s.Linux!.Personality = new LinuxPersonality { Domain = "LINUX64" }, "linux.personality.domain: unknown domain \"LINUX64\" (known: LINUX, LINUX32)",
            s => s.Linux!.Personality = new LinuxPersonality { Domain = "LINUX32" } },
        { "memoryPolicy mode", s => s.Linux!.MemoryPolicy = new LinuxMemoryPolicy { Mode = "MPOL_ANY" }, "linux.memoryPolicy.mode: unknown mode \"MPOL_ANY\" (known: MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL)",
            s => s.Linux!.MemoryPolicy = new LinuxMemoryPolicy { Mode = "MPOL_LOCAL" } },
        { "intelRdt closID", s => s.Linux!.IntelRdt = new LinuxIntelRdt { ClosID = "../x" }, "linux.intelRdt.closID: invalid value \"../x\"",
            s => s.Linux!.IntelRdt = new LinuxIntelRdt { ClosID = "x" } },
        { "seccomp defaultAction", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_DENY" }, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_DENY\"",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_KILL_PROCESS" } },
        { "seccomp arch", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Architectures = ["x86_64"] }, "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Architectures = ["SCMP_ARCH_X86_64"] } },
        { "seccomp flag", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Flags = ["LOG"] }, "linux.seccomp.flags[0]: unknown flag \"LOG\"",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Flags = ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] } },
        { "seccomp syscall names", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Action = "SCMP_ACT_ERRNO" }] }, "linux.seccomp.syscalls[0].names: must be a non-empty list of syscall names",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["ptrace"], Action = "SCMP_ACT_ERRNO" }] } },
        { "seccomp syscall action", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["ptrace"], Action = "ERRNO" }] }, "linux.seccomp.syscalls[0].action: unknown action \"ERRNO\"",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["ptrace"], Action = "SCMP_ACT_TRAP" }] } },
        { "seccomp errnoRet", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["ptrace"], Action = "SCMP_ACT_KILL", ErrnoRet = 1 }] }, "linux.seccomp.syscalls[0].errnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["ptrace"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1 }] } },
        { "seccomp defaultErrnoRet", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", DefaultErrnoRet = 1 }, "linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ERRNO", DefaultErrnoRet = 1 } },
        { "seccomp arg op", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["a"], Action = "SCMP_ACT_LOG", Args = [new LinuxSeccompArg { Op = "EQ" }] }] }, "linux.seccomp.syscalls[0].args[0].op: unknown operator \"EQ\"",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["a"], Action = "SCMP_ACT_LOG", Args = [new LinuxSeccompArg { Op = "SCMP_CMP_EQ" }] }] } },
        { "seccomp arg index", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["a"], Action = "SCMP_ACT_LOG", Args = [new LinuxSeccompArg { Index = 6, Op = "SCMP_CMP_EQ" }] }] }, "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, got 6",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["a"], Action = "SCMP_ACT_LOG", Args = [new LinuxSeccompArg { Index = 5, Op = "SCMP_CMP_EQ" }] }] } },
        { "seccomp notify needs listener", s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["mount"], Action = "SCMP_ACT_NOTIFY" }] }, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used",
            s => s.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", ListenerPath = "/run/agent.sock", Syscalls = [new LinuxSyscall { Names = ["mount"], Action = "SCMP_ACT_NOTIFY" }] } },
    };

    [Fact]
    public void MinimalSpec_IsValid()
    {
        Assert.Empty(SpecValidator.Validate(TestData.Minimal()));
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Rule_RejectsBad_AcceptsGood(string rule, Action<Spec> bad, string expectedError, Action<Spec> good)
    {
        var badSpec = TestData.Minimal();
        bad(badSpec);
        var errors = SpecValidator.Validate(badSpec);
        Assert.True(errors.Contains(expectedError), $"{rule}: expected \"{expectedError}\", got [{string.Join(" | ", errors)}]");

        var goodSpec = TestData.Minimal();
        good(goodSpec);
        Assert.True(SpecValidator.Validate(goodSpec).Count == 0, $"{rule}: good variant rejected: {string.Join(" | ", SpecValidator.Validate(goodSpec))}");
    }

    [Fact]
    public void ProcessIsOptional_WhenNotRequired()
    {
        var s = TestData.Minimal();
        s.Process = null;
        Assert.Empty(SpecValidator.Validate(s, new SpecValidationOptions { RequireProcess = false }));
    }

    [Fact]
    public void RelativeMountDestination_CanBeAllowedForCompatibility()
    {
        var s = TestData.Minimal();
        s.Mounts = [new Mount { Destination = "data" }];
        Assert.Empty(SpecValidator.Validate(s, new SpecValidationOptions { AllowRelativeMountDestinations = true }));
    }

    [Fact]
    public void ThrowIfInvalid_OneLineWithSourceAndCount()
    {
        var s = TestData.Minimal();
        s.Process!.Cwd = "x";
        s.Hostname = "h";
        var e = Assert.Throws<OciConfigException>(() => SpecValidator.ThrowIfInvalid(s));
        Assert.Equal("config.json: process.cwd: must be an absolute path, got \"x\" (and 1 more error)", e.Message);
        Assert.Equal(2, e.Errors.Count);
        SpecValidator.ThrowIfInvalid(TestData.Minimal()); // does not throw
    }

    [Fact]
    public void FullConfig_IsValid()
    {
        var s = OciJson.ParseSpec(TestData.FullConfig);
        Assert.Empty(SpecValidator.Validate(s));
    }

    [Theory]
    [InlineData("1.0.0", true)]
    [InlineData("1.0.2-dev", true)]
    [InlineData("1.1.0-rc.3", true)]
    [InlineData("1.2.0", true)]
    [InlineData("1.3.0+dev", true)]
    [InlineData("1.4", true)]
    [InlineData("1.99.7", true)]
    [InlineData("0.9.0", false)]
    [InlineData("2.0.0", false)]
    [InlineData("1", false)]
    [InlineData("1.", false)]
    [InlineData("1.2.x", false)]
    [InlineData("1.2.0-", false)]
    [InlineData("v1.2.0", false)]
    [InlineData("", false)]
    public void IsSupportedVersion(string version, bool ok) => Assert.Equal(ok, SpecValidator.IsSupportedVersion(version));

    [Fact]
    public void CapabilityAndRlimitTables_HaveKernelNumbers()
    {
        Assert.Equal(41, Capabilities.Names.Count);
        Assert.True(Capabilities.TryGetNumber("CAP_SYS_ADMIN", out int sysAdmin));
        Assert.Equal(21, sysAdmin);
        Assert.True(Capabilities.TryGetNumber("CAP_CHECKPOINT_RESTORE", out int last));
        Assert.Equal(Capabilities.Last, last);
        Assert.False(Capabilities.TryGetNumber("cap_sys_admin", out _));
        Assert.True(Rlimits.TryGetResource("RLIMIT_NOFILE", out int nofile));
        Assert.Equal(7, nofile);
        Assert.True(Rlimits.TryGetResource("RLIMIT_RTTIME", out int rttime));
        Assert.Equal(15, rttime);
    }
}

public class ContainerIdTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("my-container_1.2")]
    [InlineData("a+b,c")]
    [InlineData("...")]
    [InlineData("0")]
    public void Valid(string id)
    {
        Assert.True(ContainerId.IsValid(id));
        ContainerId.Validate(id);
    }

    [Theory]
    [InlineData("", "container ID must not be empty")]
    [InlineData(".", "invalid container ID \".\": must not be \".\" or \"..\"")]
    [InlineData("..", "invalid container ID \"..\": must not be \".\" or \"..\"")]
    [InlineData("a/b", "invalid container ID \"a/b\": only letters, digits and _ + , - . are allowed")]
    [InlineData("a b", "invalid container ID \"a b\": only letters, digits and _ + , - . are allowed")]
    [InlineData("é", "invalid container ID \"é\": only letters, digits and _ + , - . are allowed")]
    [InlineData("a\nb", "invalid container ID \"a?b\": only letters, digits and _ + , - . are allowed")]
    public void Invalid(string id, string message)
    {
        Assert.False(ContainerId.IsValid(id));
        Assert.Equal(message, Assert.Throws<OciConfigException>(() => ContainerId.Validate(id)).Message);
    }

    [Fact]
    public void TooLong()
    {
        Assert.True(ContainerId.IsValid(new string('a', ContainerId.MaxLength)));
        Assert.False(ContainerId.IsValid(new string('a', ContainerId.MaxLength + 1)));
        Assert.False(ContainerId.IsValid(null));
    }
}
