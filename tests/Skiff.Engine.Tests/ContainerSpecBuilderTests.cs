using Skiff.Engine;
using Skiff.Engine.Specs;
using Skiff.Oci;
using Skiff.Oci.Image;

namespace Skiff.Engine.Tests;

public class ContainerSpecBuilderTests
{
    internal static readonly HostFacts Host = new()
    {
        CpuCount = 2,
        Capabilities = Capabilities.Names.Take(41).ToList(),
        // As on the machines skiff is tested on: every capability but CAP_SYS_RESOURCE.
        BoundingSet = Capabilities.Names.Take(41).Where(name => name != "CAP_SYS_RESOURCE").ToList(),
        RlimitHardMaximum = name => name == "RLIMIT_NOFILE" ? 20000UL : ulong.MaxValue,
        LookupDevice = path => path == "/dev/fuse"
            ? new LinuxDevice { Path = path, Type = "c", Major = 10, Minor = 229, FileMode = 0x1b6, UID = 0, GID = 0 }
            : null,
    };

    private static readonly ImageExecutionConfig Image = new()
    {
        Entrypoint = ["/entry"],
        Cmd = ["--serve"],
        Env = ["PATH=/opt/bin:/bin", "LANG=C.UTF-8"],
        WorkingDir = "/srv",
    };

    private static Spec Build(RunOptions options, ImageExecutionConfig? image = null, ResolvedUser? user = null, Func<MountRequest, string>? volumes = null)
        => ContainerSpecBuilder.Build(new SpecInput
        {
            ContainerId = "0123456789abcdef0123",
            RootfsPath = "/var/lib/skiff/x/rootfs",
            Image = image ?? Image,
            Options = options,
            User = user ?? new ResolvedUser(0, 0, [], "/root"),
            VolumeSource = volumes ?? (request => "/var/lib/skiff/volumes/" + (request.Source ?? "anon") + "/_data"),
            Host = Host,
        });

    [Theory]
    [InlineData(null, new string[0], new[] { "/entry", "--serve" })]
    [InlineData(null, new[] { "--debug" }, new[] { "/entry", "--debug" })]
    [InlineData("/bin/sh", new string[0], new[] { "/bin/sh" })]
    [InlineData("/bin/sh", new[] { "-c", "true" }, new[] { "/bin/sh", "-c", "true" })]
    [InlineData("", new[] { "ls" }, new[] { "ls" })]
    public void Entrypoint_and_cmd_combine_as_in_docker(string? entrypoint, string[] command, string[] expected)
        => Assert.Equal(expected, Build(new RunOptions { Entrypoint = entrypoint, Command = command }).Process!.Args);

    [Fact]
    public void No_command_at_all_is_a_clear_error()
    {
        var error = Assert.Throws<EngineException>(() => Build(new RunOptions { Entrypoint = "" }));
        Assert.Contains("no command specified", error.Message);
        Assert.Throws<EngineException>(() => Build(new RunOptions(), new ImageExecutionConfig()));
    }

    [Fact]
    public void Environment_merges_defaults_image_and_flags_in_place()
    {
        var env = Build(new RunOptions { Env = ["LANG=en_US.UTF-8", "EXTRA=1"], Tty = true }).Process!.Env!;
        Assert.Equal(["PATH=/opt/bin:/bin", "HOSTNAME=0123456789ab", "TERM=xterm", "LANG=en_US.UTF-8", "EXTRA=1", "HOME=/root"], env);
        var plain = Build(new RunOptions(), new ImageExecutionConfig { Cmd = ["sh"] }, new ResolvedUser(1000, 1000, [], "/home/app")).Process!.Env!;
        Assert.Equal([ContainerSpecBuilder.DefaultPath, "HOSTNAME=0123456789ab", "HOME=/home/app"], plain);
        Assert.Throws<EngineException>(() => Build(new RunOptions { Env = ["=x"] }));
    }

    [Fact]
    public void Working_directory_user_and_hostname()
    {
        var spec = Build(new RunOptions { Hostname = "web" }, user: new ResolvedUser(1000, 100, [10, 29], "/home/app"));
        Assert.Equal("/srv", spec.Process!.Cwd);
        Assert.Equal("web", spec.Hostname);
        Assert.Equal((1000u, 100u), (spec.Process.User.UID, spec.Process.User.GID));
        Assert.Equal([10u, 29u], spec.Process.User.AdditionalGids);
        Assert.Equal("/tmp", Build(new RunOptions { WorkingDir = "/tmp" }).Process!.Cwd);
        Assert.Throws<EngineException>(() => Build(new RunOptions { WorkingDir = "tmp" }));
    }

    [Fact]
    public void Privileged_and_cap_add_all_grant_the_hosts_bounding_set()
    {
        foreach (var options in new[] { new RunOptions { Privileged = true }, new RunOptions { CapAdd = ["ALL"] } })
        {
            var capabilities = Build(options).Process!.Capabilities!;
            Assert.Equal(Host.BoundingSet, capabilities.Bounding);
            Assert.Equal(Host.BoundingSet, capabilities.Effective);
            Assert.Equal(Host.BoundingSet, capabilities.Permitted);
        }
        var outside = Assert.Throws<EngineException>(() => Build(new RunOptions { CapAdd = ["sys_resource"] }));
        Assert.Equal("capability CAP_SYS_RESOURCE: this host's bounding set lacks it, so no container here can have it; do not add it", outside.Message);
        Assert.DoesNotContain("CAP_CHOWN", Build(new RunOptions { CapDrop = ["CHOWN", "SYS_RESOURCE"] }).Process!.Capabilities!.Bounding!);
    }

    [Fact]
    public void Cap_add_all_keeps_the_other_drops_and_wins_over_cap_drop_all()
    {
        var allButChown = Build(new RunOptions { CapAdd = ["ALL"], CapDrop = ["chown"] }).Process!.Capabilities!.Bounding!;
        Assert.Equal(Host.BoundingSet.Where(c => c != "CAP_CHOWN"), allButChown);
        Assert.Equal(Host.BoundingSet, Build(new RunOptions { CapAdd = ["ALL"], CapDrop = ["ALL"] }).Process!.Capabilities!.Bounding);
        Assert.Equal(["CAP_KILL"], Build(new RunOptions { CapAdd = ["KILL"], CapDrop = ["ALL"] }).Process!.Capabilities!.Bounding);
    }

    [Fact]
    public void Config_env_is_the_users_variables_then_the_images_it_does_not_set()
    {
        var options = new RunOptions { Env = ["LANG=en_GB.UTF-8", "ONE=1"], Hostname = "box", Tty = true };
        Assert.Equal(["LANG=en_GB.UTF-8", "ONE=1", "PATH=/opt/bin:/bin"], ContainerSpecBuilder.ConfigEnvironment(Image, options));
        Assert.Equal(["PATH=/opt/bin:/bin", "LANG=C.UTF-8"], ContainerSpecBuilder.ConfigEnvironment(Image, new RunOptions()));
        Assert.Empty(ContainerSpecBuilder.ConfigEnvironment(null, new RunOptions()));
        // The process environment keeps what docker adds at run time.
        Assert.Equal(["PATH=/opt/bin:/bin", "HOSTNAME=box", "TERM=xterm", "LANG=en_GB.UTF-8", "ONE=1", "HOME=/root"], Build(options).Process!.Env);
    }

    [Fact]
    public void Capabilities_default_add_drop_all_and_privileged()
    {
        var defaults = Build(new RunOptions()).Process!.Capabilities!;
        Assert.Equal(ContainerSpecBuilder.DefaultCapabilities, defaults.Bounding);
        Assert.Equal(ContainerSpecBuilder.DefaultCapabilities, defaults.Effective);

        var changed = Build(new RunOptions { CapAdd = ["net_admin", "CAP_SYS_PTRACE"], CapDrop = ["MKNOD", "cap_net_raw"] }).Process!.Capabilities!;
        Assert.Contains("CAP_NET_ADMIN", changed.Bounding!);
        Assert.Contains("CAP_SYS_PTRACE", changed.Bounding!);
        Assert.DoesNotContain("CAP_MKNOD", changed.Bounding!);
        Assert.DoesNotContain("CAP_NET_RAW", changed.Bounding!);

        Assert.Equal(["CAP_CHOWN"], Build(new RunOptions { CapDrop = ["ALL"], CapAdd = ["CHOWN"] }).Process!.Capabilities!.Bounding);
        Assert.Throws<EngineException>(() => Build(new RunOptions { CapAdd = ["CAP_FLY"] }));

        var nonRoot = Build(new RunOptions(), user: new ResolvedUser(1000, 1000, [], "/")).Process!.Capabilities!;
        Assert.Equal(ContainerSpecBuilder.DefaultCapabilities, nonRoot.Bounding);
        Assert.Empty(nonRoot.Effective!);
        Assert.Empty(nonRoot.Permitted!);
    }

    [Fact]
    public void Open_files_default_never_exceeds_the_host()
    {
        var nofile = Assert.Single(Build(new RunOptions()).Process!.Rlimits!);
        Assert.Equal(("RLIMIT_NOFILE", 20000UL, 20000UL), (nofile.Type, nofile.Soft, nofile.Hard));

        var requested = Build(new RunOptions { Ulimits = [UlimitRequest.Parse("nofile=100:200"), UlimitRequest.Parse("nproc=64")] }).Process!.Rlimits!;
        Assert.Contains(requested, l => l is { Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200 });
        Assert.Contains(requested, l => l is { Type: "RLIMIT_NPROC", Soft: 64, Hard: 64 });

        var error = Assert.Throws<EngineException>(() => Build(new RunOptions { Ulimits = [UlimitRequest.Parse("nofile=30000")] }));
        Assert.Equal("resource limit nofile: hard limit 30000 is above this host's maximum 20000 (raising it needs CAP_SYS_RESOURCE)", error.Message);
    }

    [Fact]
    public void Memory_cpu_and_pids_limits()
    {
        var resources = Build(new RunOptions { Memory = 32L << 20, Cpus = 0.5m, PidsLimit = 100 }).Linux!.Resources!;
        Assert.Equal(32L << 20, resources.Memory!.Limit);
        Assert.Equal(64L << 20, resources.Memory.Swap);
        Assert.Equal((100_000UL, 50_000L), (resources.CPU!.Period!.Value, resources.CPU.Quota!.Value));
        Assert.Equal(100, resources.Pids!.Limit);

        Assert.Equal(-1, Build(new RunOptions { Memory = 32L << 20, MemorySwap = -1 }).Linux!.Resources!.Memory!.Swap);
        Assert.Equal(-1, Build(new RunOptions { PidsLimit = 0 }).Linux!.Resources!.Pids!.Limit);
        Assert.Throws<EngineException>(() => Build(new RunOptions { Memory = 1L << 20 }));
        Assert.Throws<EngineException>(() => Build(new RunOptions { Memory = 64L << 20, MemorySwap = 32L << 20 }));
        Assert.Throws<EngineException>(() => Build(new RunOptions { MemorySwap = 64L << 20 }));
        var cpus = Assert.Throws<EngineException>(() => Build(new RunOptions { Cpus = 3 }));
        Assert.Contains("0.01 to 2.00", cpus.Message);
    }

    [Fact]
    public void Devices_are_created_and_allowed()
    {
        var spec = Build(new RunOptions { Devices = [DeviceRequest.Parse("/dev/fuse:/dev/fuse:rw")] });
        var device = Assert.Single(spec.Linux!.Devices!);
        Assert.Equal(("/dev/fuse", "c", 10L, 229L), (device.Path, device.Type, device.Major, device.Minor));
        Assert.Contains(spec.Linux.Resources!.Devices!, rule => rule is { Allow: true, Type: "c", Major: 10, Minor: 229, Access: "rw" });
        Assert.False(spec.Linux.Resources.Devices![0].Allow);
        var error = Assert.Throws<EngineException>(() => Build(new RunOptions { Devices = [DeviceRequest.Parse("/dev/nothing")] }));
        Assert.Contains("/dev/nothing", error.Message);
    }

    [Fact]
    public void Only_namespaced_sysctls_are_accepted()
    {
        var spec = Build(new RunOptions { Sysctls = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1", ["kernel.shmmax"] = "1000" } });
        Assert.Equal("1", spec.Linux!.Sysctl!["net.ipv4.ip_forward"]);
        Assert.Throws<EngineException>(() => Build(new RunOptions { Sysctls = new Dictionary<string, string> { ["kernel.panic"] = "1" } }));
        Assert.Throws<EngineException>(() => Build(new RunOptions { Network = NetworkMode.Host, Sysctls = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1" } }));
    }

    [Fact]
    public void Namespaces_follow_the_network_mode()
    {
        Assert.Contains(Build(new RunOptions()).Linux!.Namespaces!, n => n.Type == LinuxNamespaceType.Network);
        Assert.DoesNotContain(Build(new RunOptions { Network = NetworkMode.Host }).Linux!.Namespaces!, n => n.Type == LinuxNamespaceType.Network);
    }

    [Fact]
    public void Default_confinement_and_privileged()
    {
        var seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ERRNO" };
        var confined = Build(new RunOptions { Seccomp = seccomp, NoNewPrivileges = true, ReadOnlyRootfs = true });
        Assert.Equal(ContainerSpecBuilder.MaskedPaths, confined.Linux!.MaskedPaths);
        Assert.Equal(ContainerSpecBuilder.ReadonlyPaths, confined.Linux.ReadonlyPaths);
        Assert.Same(seccomp, confined.Linux.Seccomp);
        Assert.True(confined.Process!.NoNewPrivileges);
        Assert.True(confined.Root!.Readonly);
        Assert.Contains("ro", confined.Mounts!.Single(m => m.Destination == "/sys").Options!);

        var privileged = Build(new RunOptions { Privileged = true, Seccomp = seccomp, NoNewPrivileges = true });
        Assert.Null(privileged.Linux!.MaskedPaths);
        Assert.Null(privileged.Linux.Seccomp);
        Assert.False(privileged.Process!.NoNewPrivileges);
        Assert.DoesNotContain("ro", privileged.Mounts!.Single(m => m.Destination == "/sys").Options!);
        Assert.True(privileged.Linux.Resources!.Devices![0].Allow);
    }

    [Fact]
    public void Mounts_binds_volumes_tmpfs_and_shm()
    {
        var hostDir = Directory.CreateTempSubdirectory("skiff-bind-").FullName;
        try
        {
            var spec = Build(new RunOptions
            {
                ShmSize = 1L << 20,
                Mounts =
                [
                    MountRequest.ParseVolume($"{hostDir}:/data/sub:ro"),
                    MountRequest.ParseVolume("cache:/data"),
                    MountRequest.ParseTmpfs("/run:size=1m"),
                ],
            }, image: Image with { Volumes = new() { ["/data/"] = default, ["/logs"] = default } });
            var mounts = spec.Mounts!;
            Assert.Contains("size=1048576", mounts.Single(m => m.Destination == "/dev/shm").Options!);
            var data = mounts.FindIndex(m => m.Destination == "/data");
            var sub = mounts.FindIndex(m => m.Destination == "/data/sub");
            Assert.True(data < sub, "a parent mount goes first");
            Assert.Equal("/var/lib/skiff/volumes/cache/_data", mounts[data].Source);
            Assert.Equal(["rbind", "ro", "rprivate"], mounts[sub].Options);
            Assert.Equal(hostDir, mounts[sub].Source);
            Assert.Equal(["nosuid", "nodev", "size=1048576", "mode=1777"], mounts.Single(m => m.Destination == "/run").Options);
            // /data is covered by -v; the image's other VOLUME becomes an anonymous volume.
            Assert.Equal("/var/lib/skiff/volumes/anon/_data", mounts.Single(m => m.Destination == "/logs").Source);
            Assert.Single(mounts, m => m.Destination == "/data");
        }
        finally
        {
            Directory.Delete(hostDir);
        }
    }

    [Fact]
    public void A_user_mount_replaces_the_default_one()
    {
        var spec = Build(new RunOptions { Mounts = [MountRequest.ParseTmpfs("/dev/shm:size=2m")] });
        var shm = Assert.Single(spec.Mounts!, m => m.Destination == "/dev/shm");
        Assert.Contains("size=2097152", shm.Options!);
    }

    [Fact]
    public void Bad_mounts_are_clear_errors()
    {
        var missing = Assert.Throws<EngineException>(() => Build(new RunOptions { Mounts = [MountRequest.ParseVolume("/no/such/dir:/x")] }));
        Assert.Contains("/no/such/dir does not exist", missing.Message);
        var duplicate = Assert.Throws<EngineException>(() => Build(new RunOptions { Mounts = [MountRequest.ParseTmpfs("/x"), MountRequest.ParseVolume("v:/x")] }));
        Assert.Contains("duplicate mount point /x", duplicate.Message);
    }

    [Fact]
    public void Labels_become_annotations_and_the_spec_validates()
    {
        var spec = Build(new RunOptions { Labels = new Dictionary<string, string> { ["app"] = "web" } });
        Assert.Equal("web", spec.Annotations!["app"]);
        Assert.Empty(SpecValidator.Validate(spec));
    }

    [Fact]
    public void Init_runs_skiff_init_as_pid_1_in_front_of_the_program()
    {
        var input = new SpecInput
        {
            ContainerId = "0123456789abcdef0123",
            RootfsPath = "/rootfs",
            Image = Image,
            Options = new RunOptions { Init = true },
            User = new ResolvedUser(0, 0, [], "/root"),
            VolumeSource = _ => "/unused",
            Host = Host,
            InitBinary = "/usr/libexec/skiff-init",
        };
        var spec = ContainerSpecBuilder.Build(input);
        Assert.Equal(["/dev/init", "--init", "--", "/entry", "--serve"], spec.Process!.Args);
        var mount = Assert.Single(spec.Mounts!, m => m.Destination == "/dev/init");
        Assert.Equal("/usr/libexec/skiff-init", mount.Source);
        Assert.Contains("ro", mount.Options!);

        var missing = Assert.Throws<EngineException>(() => ContainerSpecBuilder.Build(input with { InitBinary = null }));
        Assert.Contains("skiff-init", missing.Message);
        Assert.DoesNotContain(Build(new RunOptions()).Mounts!, m => m.Destination == "/dev/init");
    }

    [Fact]
    public void SecurityLabelsGoToTheProcessAndTheMounts()
    {
        var spec = Build(new RunOptions { SecurityLabels = new SecurityLabels("docker-default", "u:r:t:s0:c1", "u:object_r:f:s0:c1") });
        Assert.Equal("docker-default", spec.Process!.ApparmorProfile);
        Assert.Equal("u:r:t:s0:c1", spec.Process.SelinuxLabel);
        Assert.Equal("u:object_r:f:s0:c1", spec.Linux!.MountLabel);
        var plain = Build(new RunOptions());
        Assert.Null(plain.Process!.ApparmorProfile);
        Assert.Null(plain.Process.SelinuxLabel);
        Assert.Null(plain.Linux!.MountLabel);
    }
}
