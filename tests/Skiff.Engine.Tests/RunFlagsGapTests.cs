using Skiff.Engine.Specs;
using Skiff.Oci;
using Skiff.Oci.Image;

namespace Skiff.Engine.Tests;

/// <summary>
/// The docker run flags that closed issue 12's last gap, as the engine parses, checks and turns them into the spec:
/// label files, domain name, volumes-from, attach streams, cgroup parent and namespace, real-time CPU, per-device
/// block IO, and the refused ones.
/// </summary>
public class RunFlagsGapTests
{
    private static readonly HostFacts Host = ContainerSpecBuilderTests.Host with
    {
        LookupDevice = path => path switch
        {
            "/dev/sda" => new LinuxDevice { Path = path, Type = "b", Major = 8, Minor = 0 },
            "/dev/null" => new LinuxDevice { Path = path, Type = "c", Major = 1, Minor = 3 },
            _ => null,
        },
    };

    private static Spec Build(RunOptions options, HostFacts? host = null, string? cgroupsPath = null, IReadOnlyList<MountRequest>? inherited = null)
        => RunFlagsEngineTests.Build(options, host ?? Host, cgroupsPath: cgroupsPath, inherited: inherited);

    private static EngineException Refused(Action action, ErrorKind kind = ErrorKind.InvalidArgument)
    {
        var error = Assert.Throws<EngineException>(action);
        Assert.Equal(kind, error.Kind);
        Assert.DoesNotContain("--", error.Message);
        return error;
    }

    [Fact]
    public void Label_files_skip_comments_and_blank_lines_and_keep_values_as_written()
    {
        var labels = LabelFile.Parse("\uFEFF# team labels\n\n   tier=back \r\ncom.example.owner=ops=1\nbare\n\t# indented comment\nempty=\n", "labels");
        Assert.Equal(
            [new("tier", "back "), new("com.example.owner", "ops=1"), new("empty", "")],
            labels);
    }

    [Theory]
    [InlineData("a b=1", "line 1: the label name \"a b\" has white space in it")]
    [InlineData("ok=1\n=value", "line 2: no label name")]
    public void Label_files_with_bad_names_are_refused_naming_file_and_line(string text, string reason)
    {
        var error = Refused(() => LabelFile.Parse(text, "/tmp/labels"));
        Assert.Contains("label file /tmp/labels, " + reason, error.Message);
    }

    [Fact]
    public void A_domain_name_goes_into_the_spec_and_not_into_the_hosts()
    {
        Assert.Equal("example.org", Build(new RunOptions { Domainname = "example.org" }).Domainname);
        Assert.Null(Build(new RunOptions()).Domainname);
        Assert.Contains("at most 64 characters", Refused(() => ContainerSpecBuilder.ValidateNamespaceModes(new RunOptions { Domainname = new string('d', 65) })).Message);
        Assert.Contains("cannot have a domain name", Refused(() => ContainerSpecBuilder.ValidateNamespaceModes(new RunOptions { UtsMode = "host", Domainname = "x" })).Message);
    }

    [Theory]
    [InlineData("web", "web", null)]
    [InlineData("web:ro", "web", true)]
    [InlineData("web:rw", "web", false)]
    public void Volumes_from_take_a_container_and_a_mode(string spec, string container, bool? readOnly)
        => Assert.Equal(new VolumesFromRequest(container, readOnly), VolumesFromRequest.Parse(spec));

    [Theory]
    [InlineData("web:z", "invalid mode \"z\"")]
    [InlineData(":ro", "expected CONTAINER[:ro|:rw]")]
    public void Bad_volumes_from_are_refused(string spec, string reason)
        => Assert.Contains(reason, Refused(() => VolumesFromRequest.Parse(spec)).Message);

    [Fact]
    public void Inherited_mounts_are_added_unless_the_container_mounts_the_same_place()
    {
        var spec = Build(new RunOptions { Mounts = [new MountRequest(MountKind.Bind, "/tmp", "/data", false, [])] },
            inherited: [new MountRequest(MountKind.Volume, "shared", "/shared", true, []), new MountRequest(MountKind.Volume, "other", "/data", false, [])]);
        var shared = Assert.Single(spec.Mounts!, m => m.Destination == "/shared");
        Assert.Equal("/volume", shared.Source);
        Assert.Contains("ro", shared.Options!);
        Assert.Equal("/tmp", Assert.Single(spec.Mounts!, m => m.Destination == "/data").Source);
    }

    [Theory]
    [InlineData(new string[0], false, AttachStreams.Stdout | AttachStreams.Stderr)]
    [InlineData(new string[0], true, AttachStreams.Stdin | AttachStreams.Stdout | AttachStreams.Stderr)]
    [InlineData(new[] { "stderr" }, false, AttachStreams.Stderr)]
    [InlineData(new[] { "STDOUT" }, true, AttachStreams.Stdin | AttachStreams.Stdout)]
    [InlineData(new[] { "stdin" }, false, AttachStreams.Stdin)]
    public void Attach_streams_as_docker_chooses_them(string[] names, bool interactive, AttachStreams expected)
        => Assert.Equal(expected, AttachStreamNames.Parse(names, interactive));

    [Fact]
    public void An_unknown_stream_is_refused_naming_the_valid_ones()
        => Assert.Contains("valid streams are STDIN, STDOUT and STDERR", Refused(() => AttachStreamNames.Parse(["stdio"], false)).Message);

    [Theory]
    [InlineData("/my-group", "/my-group")]
    [InlineData("my-group/sub/", "/my-group/sub")]
    [InlineData("../../../../SHOULD_NOT_EXIST", "/SHOULD_NOT_EXIST")]
    [InlineData("/a/./b/../c", "/a/c")]
    [InlineData("/", "/")]
    public void Cgroup_parents_never_leave_the_hierarchy(string parent, string expected)
        => Assert.Equal(expected, CgroupParents.Normalize(parent));

    [Theory]
    [InlineData("machine.slice")]
    [InlineData("system.slice:docker:x")]
    [InlineData("a\0b")]
    public void Systemd_slices_and_nul_bytes_are_refused_as_cgroup_parents(string parent) => Refused(() => CgroupParents.Normalize(parent));

    [Fact]
    public void The_cgroups_path_goes_under_the_parent()
    {
        var options = new EngineOptions { Root = "/var/lib/skiff" };
        Assert.Equal("/skiff/abc", options.CgroupsPathOf("abc"));
        Assert.Equal("/my-group/abc", options.CgroupsPathOf("abc", "my-group/"));
        Assert.Equal("/abc", options.CgroupsPathOf("abc", "/"));
        Assert.Equal("/p/abc", Build(new RunOptions(), cgroupsPath: "/p/abc").Linux!.CgroupsPath);
    }

    [Theory]
    [InlineData("", false, false)]
    [InlineData("", true, true)]
    [InlineData("host", true, false)]
    [InlineData("private", false, true)]
    public void Cgroup_namespace_modes_with_dockers_default_per_cgroup_version(string mode, bool cgroupV2, bool expected)
    {
        var spec = Build(new RunOptions { CgroupnsMode = mode }, Host with { CgroupNamespace = cgroupV2 });
        Assert.Equal(expected, spec.Linux!.Namespaces!.Any(n => n.Type == LinuxNamespaceType.Cgroup));
    }

    [Fact]
    public void An_unknown_cgroup_namespace_mode_is_refused()
        => Assert.Contains("invalid cgroup namespace mode \"shared\"", Refused(() => ContainerSpecBuilder.ValidateNamespaceModes(new RunOptions { CgroupnsMode = "shared" })).Message);

    private static readonly HostFacts RealtimeHost = Host with
    {
        CpuRealtime = true,
        RealtimeBudget = path => path == "/rt" ? (500_000, 1_000_000) : path == "/skiff" ? (0, 1_000_000) : null,
    };

    [Fact]
    public void Real_time_period_and_runtime_go_into_the_spec_within_the_parents_budget()
    {
        var cpu = Build(new RunOptions { CpuRealtimePeriod = 1_000_000, CpuRealtimeRuntime = 400_000 }, RealtimeHost, "/rt/c").Linux!.Resources!.CPU!;
        Assert.Equal(1_000_000UL, cpu.RealtimePeriod);
        Assert.Equal(400_000, cpu.RealtimeRuntime);
    }

    [Fact]
    public void Real_time_runtime_beyond_the_parents_budget_is_refused_naming_the_parent()
    {
        var error = Refused(() => Build(new RunOptions { CpuRealtimeRuntime = 950_000 }, RealtimeHost, "/skiff/c"), ErrorKind.FailedPrecondition);
        Assert.Contains("does not fit in the cgroup parent /skiff", error.Message);
        Assert.Contains("cpu.rt_runtime_us", error.Message);
        // A parent that does not exist yet is made without a budget.
        Refused(() => Build(new RunOptions { CpuRealtimeRuntime = 1000 }, RealtimeHost, "/new/c"), ErrorKind.FailedPrecondition);
        Refused(() => Build(new RunOptions { CpuRealtimePeriod = 1_000_000, CpuRealtimeRuntime = 600_000 }, RealtimeHost, "/rt/c"), ErrorKind.FailedPrecondition);
    }

    [Fact]
    public void Real_time_runtime_above_the_period_is_refused_with_dockers_message()
        => Assert.Contains("cpu real-time runtime 2000 cannot be higher than cpu real-time period 1000",
            Refused(() => Build(new RunOptions { CpuRealtimePeriod = 1000, CpuRealtimeRuntime = 2000 }, RealtimeHost, "/rt/c")).Message);

    [Fact]
    public void Without_real_time_group_scheduling_the_flags_are_refused_with_dockers_sentence()
    {
        Assert.StartsWith("Your kernel does not support cgroup cpu real-time runtime",
            Refused(() => Build(new RunOptions { CpuRealtimeRuntime = 950 }), ErrorKind.FailedPrecondition).Message);
        Assert.StartsWith("Your kernel does not support cgroup cpu real-time period",
            Refused(() => Build(new RunOptions { CpuRealtimePeriod = 1000 }), ErrorKind.FailedPrecondition).Message);
    }

    [Theory]
    [InlineData("/dev/sda:200", 200)]
    [InlineData("/dev/sda:0", 0)]
    public void Weight_devices_in_dockers_format(string spec, long weight) => Assert.Equal(new BlockDeviceRate("/dev/sda", weight), BlockDeviceRate.ParseWeight(spec));

    [Theory]
    [InlineData("/dev/sda:10mb", 10L << 20)]
    [InlineData("/dev/sda:1k", 1024)]
    [InlineData("/dev/sda:1gb", 1L << 30)]
    [InlineData("/dev/sda:4096", 4096)]
    public void Bytes_per_second_in_dockers_format(string spec, long rate) => Assert.Equal(new BlockDeviceRate("/dev/sda", rate), BlockDeviceRate.ParseBytesPerSecond(spec));

    [Theory]
    [InlineData("/dev/sda:5", "weight")]
    [InlineData("/dev/sda:1001", "weight")]
    [InlineData("sda:200", "weight")]
    [InlineData("/dev/sda", "weight")]
    [InlineData("/dev/sda:-1", "bps")]
    [InlineData("/dev/sda:ten", "bps")]
    [InlineData("/dev/sda:1.5k", "iops")]
    [InlineData("/dev/sda:-3", "iops")]
    public void Bad_device_rates_are_refused(string spec, string kind)
    {
        Func<string, BlockDeviceRate> parse = kind switch
        {
            "weight" => BlockDeviceRate.ParseWeight,
            "bps" => BlockDeviceRate.ParseBytesPerSecond,
            _ => BlockDeviceRate.ParseIops,
        };
        Refused(() => parse(spec));
    }

    [Fact]
    public void Device_weights_and_throttles_go_into_the_spec_by_device_number()
    {
        var blockIO = Build(new RunOptions
        {
            BlkioWeightDevice = [new("/dev/sda", 300)],
            DeviceReadBps = [new("/dev/sda", 1 << 20)],
            DeviceWriteBps = [new("/dev/sda", 2 << 20)],
            DeviceReadIops = [new("/dev/sda", 100)],
            DeviceWriteIops = [new("/dev/sda", 200)],
        }).Linux!.Resources!.BlockIO!;
        var weight = Assert.Single(blockIO.WeightDevice!);
        Assert.Equal((8L, 0L, (ushort?)300), (weight.Major, weight.Minor, weight.Weight));
        Assert.Equal(1UL << 20, Assert.Single(blockIO.ThrottleReadBpsDevice!).Rate);
        Assert.Equal(2UL << 20, Assert.Single(blockIO.ThrottleWriteBpsDevice!).Rate);
        Assert.Equal(100UL, Assert.Single(blockIO.ThrottleReadIOPSDevice!).Rate);
        Assert.Equal(200UL, Assert.Single(blockIO.ThrottleWriteIOPSDevice!).Rate);
    }

    [Fact]
    public void Device_limits_are_refused_for_missing_or_non_block_devices_and_where_the_host_ignores_them()
    {
        Assert.Contains("no such device", Refused(() => Build(new RunOptions { DeviceReadBps = [new("/dev/nope", 1)] })).Message);
        Assert.Contains("is not a block device", Refused(() => Build(new RunOptions { DeviceReadIops = [new("/dev/null", 1)] })).Message);
        Assert.Contains("no weight file", Refused(() => Build(new RunOptions { BlkioWeightDevice = [new("/dev/sda", 300)] }, Host with { BlockIOWeight = false }), ErrorKind.FailedPrecondition).Message);
        Assert.Contains("no throttle files", Refused(() => Build(new RunOptions { DeviceWriteBps = [new("/dev/sda", 1)] }, Host with { BlockIOThrottle = false }), ErrorKind.FailedPrecondition).Message);
    }

    private static CreateContainerRequest Request(RunOptions? options = null) => new() { Image = "busybox", Options = options ?? new RunOptions() };

    [Fact]
    public void Storage_options_kernel_memory_and_content_trust_are_refused_with_the_reason()
    {
        Assert.Contains("supported only for overlay over xfs with 'pquota' mount option",
            Refused(() => ContainerRunPolicy.Refuse(Request() with { StorageOptions = new Dictionary<string, string> { ["size"] = "10G" } })).Message);
        Assert.Contains("docker ignores them since API 1.42", Refused(() => ContainerRunPolicy.Refuse(Request() with { KernelMemory = 50 << 20 })).Message);
        Assert.Contains("does not verify image signatures", Refused(() => ContainerRunPolicy.Refuse(Request() with { ContentTrust = true })).Message);
        ContainerRunPolicy.Refuse(Request());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("local")]
    public void The_local_volume_driver_is_accepted(string? driver) => ContainerCreation.ValidateSettings(Request(new RunOptions { VolumeDriver = driver }));

    [Fact]
    public void Other_volume_drivers_and_bad_settings_are_refused_before_anything_is_pulled()
    {
        Assert.Contains("only the local driver", Refused(() => ContainerCreation.ValidateSettings(Request(new RunOptions { VolumeDriver = "flocker" }))).Message);
        Refused(() => ContainerCreation.ValidateSettings(Request(new RunOptions { VolumesFrom = ["web:zz"] })));
        Refused(() => ContainerCreation.ValidateSettings(Request(new RunOptions { CgroupParent = "user.slice" })));
    }
}
