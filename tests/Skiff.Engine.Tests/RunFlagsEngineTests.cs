using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Oci;
using Skiff.Oci.Image;

namespace Skiff.Engine.Tests;

/// <summary>docker's run flags of issue 12 as the engine takes them: name resolution files, namespace modes, resources.</summary>
public class RunFlagsEngineTests
{
    private static HostFacts Host => ContainerSpecBuilderTests.Host;

    internal static Spec Build(RunOptions options, HostFacts? host = null, IReadOnlyDictionary<string, int>? joined = null, string? cgroupsPath = null,
        IReadOnlyList<MountRequest>? inherited = null)
        => ContainerSpecBuilder.Build(new SpecInput
        {
            ContainerId = "0123456789abcdef0123",
            RootfsPath = "/rootfs",
            Image = new ImageExecutionConfig { Cmd = ["sh"] },
            Options = options,
            User = new ResolvedUser(0, 0, [], "/root"),
            VolumeSource = _ => "/volume",
            Host = host ?? Host,
            JoinedNamespaces = joined ?? new Dictionary<string, int>(),
            CgroupsPath = cgroupsPath,
            InheritedMounts = inherited ?? [],
        });

    private static EngineException Refused(Action action, ErrorKind kind = ErrorKind.InvalidArgument)
    {
        var error = Assert.Throws<EngineException>(action);
        Assert.Equal(kind, error.Kind);
        return error;
    }

    [Fact]
    public void Extra_hosts_follow_the_container_entries()
    {
        var hosts = NameResolution.Hosts("box", null, ["db:10.0.0.5", "v6:::1", "brackets:[fe80::1]"], []);
        Assert.Equal("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tbox\n10.0.0.5\tdb\n::1\tv6\nfe80::1\tbrackets\n", hosts);
        Assert.Equal("127.0.0.1 host\n1.2.3.4\tx\n", NameResolution.Hosts("box", "127.0.0.1 host", ["x:1.2.3.4"], []));
    }

    [Theory]
    [InlineData("nocolon", "expected HOST:IP")]
    [InlineData(":1.2.3.4", "expected HOST:IP")]
    [InlineData("db:10.0.0.300", "\"10.0.0.300\" is not an IP address")]
    [InlineData("db:", "\"\" is not an IP address")]
    public void Bad_extra_hosts_are_refused(string entry, string reason)
    {
        var error = Refused(() => NameResolution.Validate(new RunOptions { ExtraHosts = [entry] }));
        Assert.StartsWith($"invalid extra host \"{entry}\"", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Resolv_conf_replaces_what_is_given_and_keeps_the_rest()
    {
        const string host = "# generated\nnameserver 10.1.1.1\nnameserver 10.1.1.2\nsearch corp.example\noptions edns0\n";
        Assert.Equal(host, NameResolution.ResolvConf(host, [], [], []));
        Assert.Equal("# generated\nnameserver 9.9.9.9\nsearch corp.example\noptions edns0\n", NameResolution.ResolvConf(host, ["9.9.9.9"], [], []));
        Assert.Equal("# generated\nnameserver 10.1.1.1\nnameserver 10.1.1.2\nsearch a.example b.example\noptions ndots:2 timeout:1\n",
            NameResolution.ResolvConf(host, [], ["a.example", "b.example"], ["ndots:2", "timeout:1"]));
        Assert.Equal("# generated\nnameserver 10.1.1.1\nnameserver 10.1.1.2\noptions edns0\n", NameResolution.ResolvConf(host, [], ["."], []));
        Assert.Equal("nameserver ::1\n", NameResolution.ResolvConf("", ["::1"], [], []));
    }

    [Fact]
    public void Bad_resolver_settings_are_refused()
    {
        Assert.Contains("invalid DNS server \"8.8.8\"", Refused(() => NameResolution.Validate(new RunOptions { Dns = ["8.8.8"] })).Message);
        Assert.Contains("invalid DNS search domain \"-bad.example\"", Refused(() => NameResolution.Validate(new RunOptions { DnsSearch = ["-bad.example"] })).Message);
        Assert.Contains("invalid DNS search domain \".\"", Refused(() => NameResolution.Validate(new RunOptions { DnsSearch = [".", "a.example"] })).Message);
        Assert.Contains("invalid DNS option \"a b\"", Refused(() => NameResolution.Validate(new RunOptions { DnsOptions = ["a b"] })).Message);
    }

    [Fact]
    public void Namespace_modes_leave_out_join_or_keep_namespaces()
    {
        string[] Of(Spec spec, string type) => spec.Linux!.Namespaces!.Where(n => n.Type == type).Select(n => n.Path ?? "(new)").ToArray();
        var own = Build(new RunOptions());
        Assert.Equal(["(new)"], Of(own, LinuxNamespaceType.Pid));
        Assert.Equal(["(new)"], Of(own, LinuxNamespaceType.Ipc));
        var host = Build(new RunOptions { PidMode = "host", IpcMode = "host", UtsMode = "host" });
        Assert.Empty(Of(host, LinuxNamespaceType.Pid));
        Assert.Empty(Of(host, LinuxNamespaceType.Ipc));
        Assert.Empty(Of(host, LinuxNamespaceType.Uts));
        Assert.Null(host.Hostname);
        Assert.Equal("/dev/shm", host.Mounts!.Single(m => m.Destination == "/dev/shm").Source);
        var joined = Build(new RunOptions { PidMode = "container:web", IpcMode = "container:web" },
            joined: new Dictionary<string, int> { [LinuxNamespaceType.Pid] = 42, [LinuxNamespaceType.Ipc] = 42 });
        Assert.Equal(["/proc/42/ns/pid"], Of(joined, LinuxNamespaceType.Pid));
        Assert.Equal(["/proc/42/ns/ipc"], Of(joined, LinuxNamespaceType.Ipc));
        Assert.Equal("tmpfs", joined.Mounts!.Single(m => m.Destination == "/dev/shm").Type);
        Assert.DoesNotContain(Build(new RunOptions { IpcMode = "none" }).Mounts!, m => m.Destination == "/dev/shm");
    }

    [Theory]
    [InlineData("pid", "private", "invalid PID namespace mode \"private\": expected host or container:NAME")]
    [InlineData("pid", "container:", "invalid PID namespace mode \"container:\"")]
    [InlineData("ipc", "bogus", "invalid IPC namespace mode \"bogus\": expected private, shareable, host, none or container:NAME")]
    [InlineData("uts", "container:x", "invalid UTS namespace mode \"container:x\": expected host")]
    [InlineData("userns", "private", "user namespace mode \"private\" is not supported: skiff does not remap users")]
    public void Unknown_namespace_modes_are_refused(string kind, string mode, string message)
    {
        var options = kind switch
        {
            "pid" => new RunOptions { PidMode = mode },
            "ipc" => new RunOptions { IpcMode = mode },
            "uts" => new RunOptions { UtsMode = mode },
            _ => new RunOptions { UsernsMode = mode },
        };
        Assert.StartsWith(message, Refused(() => ContainerSpecBuilder.ValidateNamespaceModes(options)).Message);
    }

    [Fact]
    public void A_host_uts_namespace_takes_no_host_name()
        => Assert.Contains("cannot have a host name", Refused(() => ContainerSpecBuilder.ValidateNamespaceModes(new RunOptions { UtsMode = "host", Hostname = "x" })).Message);

    [Fact]
    public void Resources_reach_the_spec()
    {
        var spec = Build(new RunOptions
        {
            CpuShares = 512, CpusetCpus = "0-1", CpusetMems = "0", MemoryReservation = 32L << 20, OomKillDisable = true,
            BlkioWeight = 300, DeviceCgroupRules = ["c 1:3 rwm", "b 8:* r"], OomScoreAdj = 500,
            CpuPeriod = 50_000, CpuQuota = 25_000, MemorySwappiness = 10,
            Annotations = new Dictionary<string, string> { ["org.example/a"] = "1" },
        });
        var resources = spec.Linux!.Resources!;
        Assert.Equal((512UL, "0-1", "0"), (resources.CPU!.Shares, resources.CPU.Cpus, resources.CPU.Mems));
        Assert.Equal((32L << 20, true), (resources.Memory!.Reservation, resources.Memory.DisableOOMKiller));
        Assert.Equal((50_000UL, 25_000L, 10UL), (resources.CPU.Period, resources.CPU.Quota, resources.Memory.Swappiness));
        Assert.Equal((ushort)300, resources.BlockIO!.Weight);
        Assert.Contains(resources.Devices!, d => d is { Allow: true, Type: "c", Major: 1, Minor: 3, Access: "rwm" });
        Assert.Contains(resources.Devices!, d => d is { Allow: true, Type: "b", Major: 8, Minor: null, Access: "r" });
        Assert.Equal(500, spec.Process!.OOMScoreAdj);
        Assert.Equal("1", spec.Annotations!["org.example/a"]);
    }

    [Theory]
    [InlineData("cpu-shares", "CPU shares 1: the range is 2 to 262144")]
    [InlineData("cpuset", "CPUs 0-3 are not available: this host has CPUs 0-1")]
    [InlineData("cpuset-syntax", "invalid CPUs list \"1-0\"")]
    [InlineData("mems", "memory nodes 1 are not available: this host has memory nodes 0-0")]
    [InlineData("reservation", "memory reservation 1048576: the minimum is 6m")]
    [InlineData("reservation-above", "memory reservation 67108864 is above the memory limit 33554432")]
    [InlineData("blkio", "block IO weight 5: the range is 10 to 1000")]
    [InlineData("rule", "invalid device cgroup rule \"x 1:3 rwm\"")]
    [InlineData("oom", "OOM score adjustment 1001: the range is -1000 to 1000")]
    [InlineData("cpu-period", "CPU CFS period 999: the range is 1000 to 1000000 microseconds")]
    [InlineData("cpu-quota", "CPU CFS quota 10: it is at least 1000 microseconds, or -1 for none")]
    [InlineData("cpus-and-quota", "a CPU limit and a CFS period or quota cannot both be set")]
    [InlineData("swappiness", "memory swappiness -2: the range is 0 to 100")]
    public void Resource_values_out_of_range_are_refused(string what, string message)
    {
        RunOptions options = what switch
        {
            "cpu-shares" => new() { CpuShares = 1 },
            "cpuset" => new() { CpusetCpus = "0-3" },
            "cpuset-syntax" => new() { CpusetCpus = "1-0" },
            "mems" => new() { CpusetMems = "1" },
            "reservation" => new() { MemoryReservation = 1 << 20 },
            "reservation-above" => new() { Memory = 32L << 20, MemoryReservation = 64L << 20 },
            "blkio" => new() { BlkioWeight = 5 },
            "rule" => new() { DeviceCgroupRules = ["x 1:3 rwm"] },
            "cpu-period" => new() { CpuPeriod = 999 },
            "cpu-quota" => new() { CpuQuota = 10 },
            "cpus-and-quota" => new() { Cpus = 1, CpuQuota = 50_000 },
            "swappiness" => new() { MemorySwappiness = -2 },
            _ => new() { OomScoreAdj = 1001 },
        };
        Assert.StartsWith(message, Refused(() => Build(options)).Message);
    }

    [Fact]
    public void What_this_host_cannot_apply_is_refused_with_the_reason()
    {
        Assert.Contains("no weight file", Refused(() => Build(new RunOptions { BlkioWeight = 500 }, Host with { BlockIOWeight = false }), ErrorKind.FailedPrecondition).Message);
        Assert.Contains("needs CAP_SYS_RESOURCE", Refused(() => Build(new RunOptions { OomScoreAdj = -10 }), ErrorKind.FailedPrecondition).Message);
        Assert.Equal(-10, Build(new RunOptions { OomScoreAdj = -10 }, Host with { BoundingSet = [.. Host.BoundingSet, "CAP_SYS_RESOURCE"] }).Process!.OOMScoreAdj);
    }

    [Fact]
    public void Group_add_takes_numbers_and_names_of_the_container()
    {
        var rootfs = Directory.CreateTempSubdirectory("skiff-groups-");
        try
        {
            Directory.CreateDirectory(Path.Combine(rootfs.FullName, "etc"));
            File.WriteAllText(Path.Combine(rootfs.FullName, "etc", "group"), "root:x:0:\naudio:x:29:\nvideo:x:44:\n");
            var root = new ResolvedUser(0, 0, [44], "/root");
            Assert.Equal([44u, 29u, 1234u], UserResolver.AddGroups(root, rootfs.FullName, ["audio", "1234", "29", "video"]).AdditionalGids);
            Assert.Contains("unable to find group nosuch", Refused(() => UserResolver.AddGroups(root, rootfs.FullName, ["nosuch"])).Message);
        }
        finally
        {
            rootfs.Delete(recursive: true);
        }
    }

    [Fact]
    public void Gpus_other_isolations_and_foreign_platforms_are_refused()
    {
        CreateContainerRequest Request(string? gpus = null, string? isolation = null, string? platform = null) => new()
        {
            Image = "busybox",
            Options = new RunOptions(),
            Gpus = gpus,
            Isolation = isolation,
            PullOptions = new Images.Service.PullOptions { Platform = platform is null ? null : Platform.Parse(platform) },
        };
        Assert.Contains("skiff has no GPU support", Refused(() => ContainerRunPolicy.Refuse(Request(gpus: "all"))).Message);
        Assert.Contains("isolation \"hyperv\" is not supported", Refused(() => ContainerRunPolicy.Refuse(Request(isolation: "hyperv"))).Message);
        ContainerRunPolicy.Refuse(Request(isolation: "default", platform: Platform.Host.ToString()));
        var foreign = Platform.Host.Architecture == "s390x" ? "linux/arm64" : "linux/s390x";
        Assert.Contains($"platform {foreign} cannot run on this host", Refused(() => ContainerRunPolicy.Refuse(Request(platform: foreign))).Message);
    }

    [Fact]
    public void Log_drivers_are_json_file_local_and_none()
    {
        Assert.Equal(LogOptions.JsonFile, LogOptions.Parse(null, []).Driver);
        Assert.Equal(LogOptions.None, LogOptions.Parse("none", []).Driver);
        Assert.Contains("log driver \"syslog\" is not supported", Refused(() => LogOptions.Parse("syslog", [])).Message);
        Assert.Contains("takes none", Refused(() => LogOptions.Parse("none", ["max-size=1m"])).Message);
    }

    [Fact]
    public void The_local_driver_has_dockers_defaults_and_refuses_compression_it_would_not_do()
    {
        Assert.Equal(new LogOptions(20L << 20, 5, LogOptions.Local), LogOptions.Parse("local", []));
        Assert.Equal(new LogOptions(1L << 20, 2, LogOptions.Local), LogOptions.Parse("local", ["max-size=1m", "max-file=2", "compress=false"]));
        Assert.Contains("compress=true is not supported", Refused(() => LogOptions.Parse("local", ["compress=true"])).Message);
        Assert.Contains("compress takes true or false", Refused(() => LogOptions.Parse("local", ["compress=yes"])).Message);
        // compress is the local driver's option here, not json-file's.
        Assert.Contains("the json-file driver takes max-size and max-file", Refused(() => LogOptions.Parse(null, ["compress=false"])).Message);
    }
}
