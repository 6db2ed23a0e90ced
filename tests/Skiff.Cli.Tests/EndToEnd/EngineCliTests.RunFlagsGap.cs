using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// The last of docker's run flags (issue 12): label files, domain name, volumes-from, -a, cgroup parent and namespace,
/// real-time CPU, per-device block IO, ContainerIDFile, the refused flags, and flag values that do not parse (125).
/// </summary>
public sealed partial class EngineCliTests
{
    private async Task<JsonElement> Inspected(string container) => JsonDocument.Parse((await Ok("inspect", container)).Stdout).RootElement[0];

    [Fact]
    public async Task LabelFilesAreReadFirstAndLabelFlagsWin()
    {
        var file = Path.Combine(_temp.Path, "labels");
        File.WriteAllText(file, "# team\n\n  tier=back\nowner=ops \nbare\n");
        var id = (await Ok("create", "--label-file", file, "--label", "tier=front", "-l", "flag", Image)).Stdout.Trim();
        var labels = (await Inspected(id)).GetProperty("Config").GetProperty("Labels");
        Assert.Equal("front", labels.GetProperty("tier").GetString());
        Assert.Equal("ops ", labels.GetProperty("owner").GetString());
        Assert.Equal("", labels.GetProperty("flag").GetString());
        Assert.False(labels.TryGetProperty("bare", out _));

        File.WriteAllText(file, "bad key=1\n");
        Assert.StartsWith($"skiff: label file {file}, line 1: the label name \"bad key\" has white space in it",
            (await FailsOnOneLine("run", "--rm", "--label-file", file, Image, "true")).Stderr);
        Assert.StartsWith("skiff: --label-file /no/such/labels: ", (await FailsOnOneLine("run", "--rm", "--label-file", "/no/such/labels", Image, "true")).Stderr);
        Assert.Single((await Ok("ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task DomainnameIsTheUtsNamespacesDomainName()
    {
        Assert.Equal("example.org\n", (await Ok("run", "--rm", "--domainname", "example.org", Image, "cat", "/proc/sys/kernel/domainname")).Stdout);
        Assert.Equal("(none)\n", (await Ok("run", "--rm", Image, "cat", "/proc/sys/kernel/domainname")).Stdout);
        var id = (await Ok("create", "--domainname", "example.org", Image)).Stdout.Trim();
        Assert.Equal("example.org", (await Inspected(id)).GetProperty("Config").GetProperty("Domainname").GetString());
        Assert.StartsWith("skiff: a container in the host's UTS namespace cannot have a domain name of its own",
            (await FailsOnOneLine("run", "--rm", "--uts", "host", "--domainname", "x", Image, "true")).Stderr);
    }

    [Fact]
    public async Task VolumesFromMountsTheOtherContainersVolumesAndBindsWithTheirModes()
    {
        var bind = Path.Combine(_temp.Path, "bind");
        Directory.CreateDirectory(bind);
        File.WriteAllText(Path.Combine(bind, "g"), "bound\n");
        await Ok("create", "--name", "donor", "-v", "vfdata:/data", "-v", $"{bind}:/bind:ro", Image);
        Assert.Equal("bound\nwritten\n", (await Ok("run", "--rm", "--volumes-from", "donor", Image, "sh", "-c",
            "cat /bind/g; echo written > /data/f; cat /data/f; (echo x > /bind/h) 2>/dev/null && echo bind-writable; true")).Stdout);
        // :ro makes the volume read-only too; the data written before is there.
        Assert.Equal("written\nread-only\n", (await Ok("run", "--rm", "--volumes-from", "donor:ro", Image, "sh", "-c",
            "cat /data/f; (echo y > /data/f) 2>/dev/null || echo read-only")).Stdout);

        var id = (await Ok("create", "--volumes-from", "donor:ro", "-v", $"{bind}:/data", Image)).Stdout.Trim();
        var inspect = await Inspected(id);
        Assert.Equal(["donor:ro"], Strings(inspect.GetProperty("HostConfig").GetProperty("VolumesFrom")));
        var mounts = inspect.GetProperty("Mounts").EnumerateArray().ToDictionary(m => m.GetProperty("Destination").GetString()!);
        Assert.Equal(bind, mounts["/data"].GetProperty("Source").GetString()); // its own -v wins the place
        Assert.False(mounts["/bind"].GetProperty("RW").GetBoolean());
        Assert.Equal(JsonValueKind.Null, (await HostConfig(await Created())).GetProperty("VolumesFrom").ValueKind);

        Assert.StartsWith("skiff: no such container: nope", (await FailsOnOneLine("run", "--rm", "--volumes-from", "nope", Image, "true")).Stderr);
        Assert.StartsWith("skiff: invalid mode \"z\" in volumes-from \"donor:z\"", (await FailsOnOneLine("run", "--rm", "--volumes-from", "donor:z", Image, "true")).Stderr);
    }

    private async Task<string> Created() => (await Ok("create", Image)).Stdout.Trim();

    [Fact]
    public async Task AttachChoosesTheStreamsRunShowsAndTheLogKeepsAll()
    {
        string[] program = ["sh", "-c", "echo out; echo err >&2"];
        var errOnly = await Ok(["run", "--name", "att", "-a", "stderr", Image, .. program]);
        Assert.Equal(("", "err\n"), (errOnly.Stdout, errOnly.Stderr));
        var outOnly = await Ok(["run", "--rm", "--attach", "STDOUT", Image, .. program]);
        Assert.Equal(("out\n", ""), (outOnly.Stdout, outOnly.Stderr));
        var logs = await Ok("logs", "att");
        Assert.Equal(("out\n", "err\n"), (logs.Stdout, logs.Stderr));
        var config = (await Inspected("att")).GetProperty("Config");
        Assert.Equal((false, false, true), (config.GetProperty("AttachStdin").GetBoolean(), config.GetProperty("AttachStdout").GetBoolean(), config.GetProperty("AttachStderr").GetBoolean()));
        var plain = (await Inspected(await Created())).GetProperty("Config");
        Assert.Equal((false, true, true), (plain.GetProperty("AttachStdin").GetBoolean(), plain.GetProperty("AttachStdout").GetBoolean(), plain.GetProperty("AttachStderr").GetBoolean()));

        // docker's client: a conflict of its own flags is status 1, a value it cannot parse 125.
        Assert.Equal("skiff: Conflicting options: -a and -d", (await FailsOnOneLine(1, "run", "-d", "-a", "stdout", Image, "true")).Stderr.TrimEnd());
        Assert.StartsWith("skiff: invalid stream \"stdio\" to attach to: valid streams are STDIN, STDOUT and STDERR",
            (await FailsOnOneLine("run", "--rm", "-a", "stdio", Image, "true")).Stderr);
        Assert.Equal(2, (await Ok("ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        // docker's client attaches nothing to a detached container, and says so in its config.
        var detached = (await Inspected((await Ok("run", "-d", "-i", Image, "echo")).Stdout.Trim())).GetProperty("Config");
        Assert.Equal((false, false, false), (detached.GetProperty("AttachStdin").GetBoolean(), detached.GetProperty("AttachStdout").GetBoolean(), detached.GetProperty("AttachStderr").GetBoolean()));
    }

    /// <summary>A cgroup parent of this test's own, removed from every v1 hierarchy (and v2) afterwards.</summary>
    private static string TestCgroupParent(string purpose) => $"/skiff-flags-{purpose}-{Guid.NewGuid():N}"[..40];

    /// <summary>The containers first: a cgroup with children cannot be removed.</summary>
    private async Task RemoveContainersAndCgroup(string path)
    {
        foreach (var id in (await Skiff.RunAsync(Root, "ps", "-aq", "--no-trunc")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            await Skiff.RunAsync(Root, "rm", "-f", id);
        foreach (var hierarchy in Directory.GetDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            var directory = hierarchy + path;
            if (Directory.Exists(directory))
                Directory.Delete(directory); // rmdir: a cgroup's files are not files to delete
        }
    }

    [Fact]
    public async Task CgroupParentAndCgroupNamespacePlaceTheContainersCgroup()
    {
        var parent = TestCgroupParent("parent");
        try
        {
            var id = (await Ok("run", "-d", "--cgroup-parent", parent, Image, "sleep", "60")).Stdout.Trim();
            var inspect = await Inspected(id);
            var pid = inspect.GetProperty("State").GetProperty("Pid").GetInt32();
            var cgroups = File.ReadAllLines($"/proc/{pid}/cgroup").Select(l => l.Split(':', 3)).ToDictionary(f => f[1], f => f[2]);
            Assert.Equal($"{parent}/{id}", cgroups["memory"]);
            Assert.Equal($"{parent}/{id}", cgroups["cpu"]);
            Assert.Equal(parent, inspect.GetProperty("HostConfig").GetProperty("CgroupParent").GetString());
            // stats reads the container's cgroup where it is.
            Assert.Contains(id[..12], (await Ok("stats", "--no-stream", id)).Stdout);

            var v2 = File.Exists("/sys/fs/cgroup/cgroup.controllers");
            // docker's default: the host's cgroup namespace on cgroup v1 (the full path shows), a private one on v2.
            var byDefault = (await Ok("run", "--rm", "--cgroup-parent", parent, Image, "cat", "/proc/self/cgroup")).Stdout;
            Assert.Equal(!v2, byDefault.Contains(parent, StringComparison.Ordinal));
            var @private = (await Ok("run", "--rm", "--cgroup-parent", parent, "--cgroupns", "private", Image, "cat", "/proc/self/cgroup")).Stdout;
            Assert.DoesNotContain(parent, @private);
            Assert.Contains(":memory:/\n", @private);
            Assert.Contains(parent, (await Ok("run", "--rm", "--cgroup-parent", parent, "--cgroupns", "host", Image, "cat", "/proc/self/cgroup")).Stdout);
            Assert.Equal(v2 ? "private" : "host", (await HostConfig(await Created())).GetProperty("CgroupnsMode").GetString());
            Assert.Equal("private", (await HostConfig((await Ok("create", "--cgroupns", "private", Image)).Stdout.Trim())).GetProperty("CgroupnsMode").GetString());

            Assert.StartsWith("skiff: invalid cgroup namespace mode \"shared\": expected host or private",
                (await FailsOnOneLine("run", "--rm", "--cgroupns", "shared", Image, "true")).Stderr);
            Assert.StartsWith("skiff: cgroup parent \"machine.slice\" is a systemd slice",
                (await FailsOnOneLine("run", "--rm", "--cgroup-parent", "machine.slice", Image, "true")).Stderr);
            await Ok("rm", "-f", id);
        }
        finally
        {
            await RemoveContainersAndCgroup(parent);
        }
    }

    [Fact]
    public async Task RealTimeCpuNeedsTheKernelsSupportAndTheParentsBudget()
    {
        Assert.StartsWith("skiff: cpu real-time runtime 2000 cannot be higher than cpu real-time period 1000",
            (await FailsOnOneLine("run", "--rm", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "2000", Image, "true")).Stderr);
        if (!File.Exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"))
        {
            // A kernel without CONFIG_RT_GROUP_SCHED (or cgroup v2): docker's sentence, nothing created.
            Assert.StartsWith("skiff: Your kernel does not support cgroup cpu real-time runtime",
                (await FailsOnOneLine("run", "--rm", "--cpu-rt-runtime", "950", Image, "true")).Stderr);
            Assert.Empty((await Ok("ps", "-aq")).Stdout);
            return;
        }
        // The default parent has no real-time budget: refused naming it, before anything is made.
        Assert.StartsWith("skiff: cpu real-time runtime 950 does not fit in the cgroup parent /skiff",
            (await FailsOnOneLine("run", "--rm", "--cpu-rt-runtime", "950", Image, "true")).Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);

        var parent = TestCgroupParent("rt");
        try
        {
            Directory.CreateDirectory("/sys/fs/cgroup/cpu" + parent);
            File.WriteAllText($"/sys/fs/cgroup/cpu{parent}/cpu.rt_runtime_us", "100000");
            Assert.Equal("500000\n50000\n", (await Ok("run", "--rm", "--cgroup-parent", parent, "--cpu-rt-period", "500000", "--cpu-rt-runtime", "50000", Image,
                "cat", "/sys/fs/cgroup/cpu/cpu.rt_period_us", "/sys/fs/cgroup/cpu/cpu.rt_runtime_us")).Stdout);
            var host = await HostConfig((await Ok("create", "--cgroup-parent", parent, "--cpu-rt-runtime", "50000", Image)).Stdout.Trim());
            Assert.Equal((0L, 50000L), (host.GetProperty("CpuRealtimePeriod").GetInt64(), host.GetProperty("CpuRealtimeRuntime").GetInt64()));
        }
        finally
        {
            await RemoveContainersAndCgroup(parent);
        }
    }

    [Fact]
    public async Task DeviceThrottlesAreWrittenAsTheDevicesNumbers()
    {
        // A loop device is a block device whose disk exists even when nothing is attached to it.
        const string device = "/dev/loop0";
        var numbers = File.ReadAllText("/sys/block/loop0/dev").Trim();
        var files = (await Ok("run", "--rm", "--device-read-bps", $"{device}:1mb", "--device-write-bps", $"{device}:2048",
            "--device-read-iops", $"{device}:100", "--device-write-iops", $"{device}:200", Image, "cat",
            "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", "/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device",
            "/sys/fs/cgroup/blkio/blkio.throttle.read_iops_device", "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device")).Stdout;
        Assert.Equal($"{numbers} 1048576\n{numbers} 2048\n{numbers} 100\n{numbers} 200\n", files);

        var host = await HostConfig((await Ok("create", "--device-read-bps", $"{device}:1mb", "--device-write-iops", $"{device}:200", Image)).Stdout.Trim());
        var read = Assert.Single(host.GetProperty("BlkioDeviceReadBps").EnumerateArray());
        Assert.Equal((device, 1048576L), (read.GetProperty("Path").GetString(), read.GetProperty("Rate").GetInt64()));
        Assert.Equal(200, Assert.Single(host.GetProperty("BlkioDeviceWriteIOps").EnumerateArray()).GetProperty("Rate").GetInt64());
        Assert.Equal(JsonValueKind.Null, host.GetProperty("BlkioDeviceWriteBps").ValueKind);
        Assert.Empty(host.GetProperty("BlkioWeightDevice").EnumerateArray());

        Assert.StartsWith("skiff: device /dev/null is not a block device", (await FailsOnOneLine("run", "--rm", "--device-read-bps", "/dev/null:1mb", Image, "true")).Stderr);
        Assert.StartsWith("skiff: invalid rate for device \"/dev/loop0:fast\"", (await FailsOnOneLine("run", "--rm", "--device-write-bps", "/dev/loop0:fast", Image, "true")).Stderr);
        Assert.StartsWith("skiff: invalid rate for device \"/dev/loop0:1k\"", (await FailsOnOneLine("run", "--rm", "--device-read-iops", "/dev/loop0:1k", Image, "true")).Stderr);
        Assert.StartsWith("skiff: invalid weight for device \"/dev/loop0:5\"", (await FailsOnOneLine("run", "--rm", "--blkio-weight-device", "/dev/loop0:5", Image, "true")).Stderr);
        if (File.Exists("/sys/fs/cgroup/blkio/blkio.weight_device") || File.Exists("/sys/fs/cgroup/blkio/blkio.bfq.weight_device"))
            await Ok("run", "--rm", "--blkio-weight-device", $"{device}:300", Image, "true");
        else
            Assert.StartsWith("skiff: block IO weights per device: this host's blkio controller has no weight file",
                (await FailsOnOneLine("run", "--rm", "--blkio-weight-device", $"{device}:300", Image, "true")).Stderr);
    }

    [Fact]
    public async Task ContainerIdFileIsShownByInspect()
    {
        var cidfile = Path.Combine(_temp.Path, "gap.cid");
        var id = (await Ok("create", "--cidfile", cidfile, Image)).Stdout.Trim();
        Assert.Equal(cidfile, (await HostConfig(id)).GetProperty("ContainerIDFile").GetString());
        Assert.Equal("", (await HostConfig(await Created())).GetProperty("ContainerIDFile").GetString());
    }

    [Theory]
    [InlineData("--storage-opt=size=10G", "skiff: storage option size is not supported: per-container storage options are supported only for overlay over xfs with 'pquota' mount option")]
    [InlineData("--volume-driver=flocker", "skiff: volume driver \"flocker\" is not available: skiff has only the local driver")]
    [InlineData("--kernel-memory=64m", "skiff: kernel memory limits are not supported: the kernel deprecated them")]
    [InlineData("--disable-content-trust=false", "skiff: content trust cannot be enforced: skiff does not verify image signatures")]
    [InlineData("--storage-opt=size", "skiff: invalid --storage-opt \"size\": expected KEY=VALUE")]
    [InlineData("--kernel-memory=lots", "skiff: invalid --kernel-memory \"lots\"")]
    [InlineData("--stop-timeout=99999999999", "skiff: invalid --stop-timeout \"99999999999\": expected a whole number")]
    [InlineData("--health-retries=4294967296", "skiff: invalid --health-retries \"4294967296\": expected a whole number")]
    [InlineData("--cpu-rt-runtime=fast", "skiff: invalid --cpu-rt-runtime \"fast\": expected a whole number")]
    [InlineData("--sig-proxy=maybe", "skiff: run: flag --sig-proxy takes true or false")]
    [InlineData("--tls-verify=maybe", "skiff: run: --tls-verify takes true or false")]
    [InlineData("--disable-content-trust=maybe", "skiff: run: flag --disable-content-trust takes true or false")]
    public async Task FlagsSkiffCannotHonourAreRefusedWithStatus125(string flag, string message)
    {
        var result = await Skiff.RunAsync(Root, "run", "--rm", flag, Image, "true");
        Assert.True(result.ExitCode == 125, $"{flag}: exit {result.ExitCode}: {result.Stderr}");
        Assert.StartsWith(message, result.Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    [Fact]
    public async Task TheLocalVolumeDriverAndDisabledContentTrustAreWhatSkiffDoes()
    {
        await Ok("run", "--rm", "--volume-driver", "local", "--disable-content-trust", "--disable-content-trust=true", Image, "echo");
        var id = (await Ok("create", "--volume-driver", "local", Image)).Stdout.Trim();
        Assert.Equal("local", (await HostConfig(id)).GetProperty("VolumeDriver").GetString());
        Assert.Equal("", (await HostConfig(await Created())).GetProperty("VolumeDriver").GetString());

        // DOCKER_CONTENT_TRUST=1 asks for content trust as docker's client reads it; the flag still wins.
        var trust = new Dictionary<string, string> { ["DOCKER_CONTENT_TRUST"] = "1" };
        var refused = await Skiff.RunWithEnvironmentAsync(Root, trust, "run", "--rm", Image, "echo");
        Assert.Equal(125, refused.ExitCode);
        Assert.StartsWith("skiff: content trust cannot be enforced", refused.Stderr);
        Assert.Equal(0, (await Skiff.RunWithEnvironmentAsync(Root, trust, "run", "--rm", "--disable-content-trust", Image, "echo")).ExitCode);
    }
}
