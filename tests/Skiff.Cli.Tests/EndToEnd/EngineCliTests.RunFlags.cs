using System.Text.Json;
using Skiff.Images.Tests.Registry;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>docker's run flags of issue 12: name resolution files, namespaces, cgroup resources, inspect, refusals.</summary>
public sealed partial class EngineCliTests
{
    private async Task<JsonElement> HostConfig(string container)
        => JsonDocument.Parse((await Ok("inspect", container)).Stdout).RootElement[0].GetProperty("HostConfig");

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task ExtraHostsAndDnsAreWrittenIntoTheContainersFiles()
    {
        string[] flags = ["--add-host", "db:10.0.0.5", "--add-host", "v6:fd00::1", "--dns", "9.9.9.9", "--dns-search", "example.com", "--dns-option", "ndots:2"];
        var files = (await Ok(["run", "--rm", .. flags, Image, "cat", "/etc/hosts", "/etc/resolv.conf"])).Stdout;
        Assert.Contains("10.0.0.5\tdb\n", files);
        Assert.Contains("fd00::1\tv6\n", files);
        Assert.Contains("nameserver 9.9.9.9\n", files);
        Assert.DoesNotContain(File.ReadAllLines("/etc/resolv.conf").FirstOrDefault(l => l.StartsWith("nameserver ", StringComparison.Ordinal)) ?? "nameserver 9.9.9.9", files);
        Assert.Contains("search example.com\n", files);
        Assert.Contains("options ndots:2\n", files);

        var id = (await Ok(["create", .. flags, Image])).Stdout.Trim();
        var host = await HostConfig(id);
        Assert.Equal(["db:10.0.0.5", "v6:fd00::1"], Strings(host.GetProperty("ExtraHosts")));
        Assert.Equal(["9.9.9.9"], Strings(host.GetProperty("Dns")));
        Assert.Equal(["example.com"], Strings(host.GetProperty("DnsSearch")));
        Assert.Equal(["ndots:2"], Strings(host.GetProperty("DnsOptions")));
        var plain = await HostConfig((await Ok("create", Image)).Stdout.Trim());
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("ExtraHosts").ValueKind);
        Assert.Empty(Strings(plain.GetProperty("Dns")));
        Assert.Equal("private", plain.GetProperty("IpcMode").GetString());
        Assert.Equal("", plain.GetProperty("PidMode").GetString());
    }

    [Fact]
    public async Task CgroupResourcesAreAppliedAndShownByInspect()
    {
        var id = (await Ok("run", "-d", "--cpu-shares", "512", "--cpuset-cpus", "0", "--cpuset-mems", "0", "-m", "64m", "--memory-reservation", "32m",
            "--oom-kill-disable", "--oom-score-adj", "500", "--device-cgroup-rule", "c 1:3 rwm",
            "--cpu-period", "50000", "--cpu-quota", "25000", "--memory-swappiness", "10", Image, "sleep", "60")).Stdout.Trim();
        Assert.Equal("50000\n25000\n10\n", (await Ok("exec", id, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
            "/sys/fs/cgroup/memory/memory.swappiness")).Stdout);
        // Inside: the container's own cgroup files (cgroup v1 here: the hierarchies are mounted at the container's cgroup).
        var inside = (await Ok("exec", id, "cat", "/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpuset/cpuset.cpus",
            "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes", "/sys/fs/cgroup/memory/memory.oom_control", "/proc/1/oom_score_adj")).Stdout.Split('\n');
        Assert.Equal(["512", "0", "33554432", "oom_kill_disable 1"], inside[..4]);
        Assert.Equal("500", inside.Last(l => l.Length > 0));
        // Outside: the same files, found through the container's process.
        var pid = JsonDocument.Parse((await Ok("inspect", id)).Stdout).RootElement[0].GetProperty("State").GetProperty("Pid").GetInt32();
        var cgroups = File.ReadAllLines($"/proc/{pid}/cgroup").Select(l => l.Split(':', 3)).ToDictionary(f => f[1], f => f[2]);
        Assert.Equal("512", File.ReadAllText($"/sys/fs/cgroup/cpu{cgroups["cpu"]}/cpu.shares").Trim());
        Assert.Equal("0", File.ReadAllText($"/sys/fs/cgroup/cpuset{cgroups["cpuset"]}/cpuset.mems").Trim());
        Assert.Contains("c 1:3 rwm", File.ReadAllLines($"/sys/fs/cgroup/devices{cgroups["devices"]}/devices.list"));

        var host = await HostConfig(id);
        Assert.Equal(512, host.GetProperty("CpuShares").GetInt64());
        Assert.Equal("0", host.GetProperty("CpusetCpus").GetString());
        Assert.Equal("0", host.GetProperty("CpusetMems").GetString());
        Assert.Equal(32L << 20, host.GetProperty("MemoryReservation").GetInt64());
        Assert.Equal(50000, host.GetProperty("CpuPeriod").GetInt64());
        Assert.Equal(25000, host.GetProperty("CpuQuota").GetInt64());
        Assert.Equal(10, host.GetProperty("MemorySwappiness").GetInt64());
        Assert.True(host.GetProperty("OomKillDisable").GetBoolean());
        Assert.Equal(500, host.GetProperty("OomScoreAdj").GetInt32());
        Assert.Equal(["c 1:3 rwm"], Strings(host.GetProperty("DeviceCgroupRules")));
    }

    [Fact]
    public async Task NamespacesAreSharedWithTheHostOrAnotherContainer()
    {
        Assert.Equal(File.ReadAllText("/proc/1/comm"), (await Ok("run", "--rm", "--pid", "host", Image, "cat", "/proc/1/comm")).Stdout);
        Assert.Equal("cat\n", (await Ok("run", "--rm", Image, "cat", "/proc/1/comm")).Stdout);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/hostname"), (await Ok("run", "--rm", "--uts", "host", Image, "hostname")).Stdout);
        Assert.Equal(new FileInfo("/proc/self/ns/ipc").LinkTarget, (await Ok("run", "--rm", "--ipc", "host", "--userns", "host", Image, "ls", "-l", "/proc/self/ns/ipc")).Stdout.Split(" -> ")[1].Trim());
        Assert.DoesNotContain("shm", (await Ok("run", "--rm", "--ipc", "none", Image, "ls", "/dev")).Stdout);

        await Ok("run", "-d", "--name", "donor", "--ipc", "shareable", Image, "sleep", "60");
        var joined = (await Ok("run", "--rm", "--pid", "container:donor", "--ipc", "container:donor", Image, "sh", "-c", "cat /proc/1/comm; ls -l /proc/self/ns/ipc")).Stdout;
        Assert.StartsWith("sleep\n", joined);
        Assert.Equal((await Ok("exec", "donor", "ls", "-l", "/proc/self/ns/ipc")).Stdout.Split(" -> ")[1], joined.Split(" -> ")[1]);
        var host = await HostConfig((await Ok("create", "--pid", "container:donor", "--ipc", "host", "--uts", "host", Image)).Stdout.Trim());
        Assert.Equal(("container:donor", "host", "host"), (host.GetProperty("PidMode").GetString(), host.GetProperty("IpcMode").GetString(), host.GetProperty("UTSMode").GetString()));

        // The donor's namespaces are looked up at each start: gone, the start fails; restarted, its new process is joined.
        var joiner = (await Ok("create", "--pid", "container:donor", Image, "cat", "/proc/1/comm")).Stdout.Trim();
        await Ok("stop", "-t", "0", "donor");
        var refused = await Skiff.RunAsync(Root, "start", "-a", joiner);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("cannot join the PID namespace of container donor: it is not running", refused.Stderr);
        await Ok("start", "donor");
        Assert.Equal("sleep\n", (await Ok("start", "-a", joiner)).Stdout);

        await Ok("run", "-d", "--name", "private", Image, "sleep", "60");
        Assert.Contains("it is private; create it with the shareable IPC mode", (await FailsOnOneLine("run", "--rm", "--ipc", "container:private", Image, "true")).Stderr);
    }

    [Fact]
    public async Task GroupsAnnotationsAndLogDriverNone()
    {
        var id = (await Ok("run", "-d", "--group-add", "nogroup", "--group-add", "1234", "--annotation", "org.example/a=1", "--log-driver", "none", Image, "sh", "-c", "echo out; sleep 60")).Stdout.Trim();
        Assert.Contains("Groups:\t1234 65534", (await Ok("exec", id, "cat", "/proc/1/status")).Stdout);
        Assert.Contains("Groups:\t1234 65534", (await Ok("exec", id, "cat", "/proc/self/status")).Stdout);
        var host = await HostConfig(id);
        Assert.Equal(["nogroup", "1234"], Strings(host.GetProperty("GroupAdd")));
        Assert.Equal("1", host.GetProperty("Annotations").GetProperty("org.example/a").GetString());
        Assert.Equal("none", host.GetProperty("LogConfig").GetProperty("Type").GetString());
        Assert.Equal("", JsonDocument.Parse((await Ok("inspect", id)).Stdout).RootElement[0].GetProperty("LogPath").GetString());
        var logs = await Skiff.RunAsync(Root, "logs", id);
        Assert.NotEqual(0, logs.ExitCode);
        Assert.Contains("its log driver is none", logs.Stderr);
    }

    [Fact]
    public async Task TheLocalLogDriverKeepsLogsBehindNoPath()
    {
        var id = (await Ok("run", "-d", "--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", Image,
            "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done")).Stdout.Trim();
        Assert.Equal("0\n", (await Ok("wait", id)).Stdout);
        var inspect = JsonDocument.Parse((await Ok("inspect", id)).Stdout).RootElement[0];
        Assert.Equal("local", inspect.GetProperty("HostConfig").GetProperty("LogConfig").GetProperty("Type").GetString());
        // docker keeps the local driver's storage out of the API.
        Assert.Equal("", inspect.GetProperty("LogPath").GetString());
        // Rotated at 1 KiB into 2 files: the newest lines are there, the oldest gone, as docker's local driver keeps them.
        var lines = (await Ok("logs", id)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("line 199", lines[^1]);
        Assert.DoesNotContain("line 0", lines);
        Assert.Equal("skiff: the log option compress=true is not supported: skiff's local driver keeps rotated files uncompressed\n",
            (await FailsOnOneLine("run", "--log-driver", "local", "--log-opt", "compress=true", Image, "true")).Stderr);
    }

    [Fact]
    public async Task CidfileIsWrittenAndAnExistingOneIsRefused()
    {
        var cidfile = Path.Combine(_temp.Path, "cid");
        var id = (await Ok("create", "--cidfile", cidfile, Image)).Stdout.Trim();
        Assert.Equal(id, File.ReadAllText(cidfile));
        Assert.Equal($"skiff: container ID file found, make sure the other container isn't running or delete {cidfile}\n",
            (await FailsOnOneLine("run", "--cidfile", cidfile, Image, "true")).Stderr);
        Assert.Equal(id, File.ReadAllText(cidfile));
        var failed = Path.Combine(_temp.Path, "failed");
        await FailsOnOneLine("run", "--cidfile", failed, "--dns", "bogus", Image, "true");
        Assert.False(File.Exists(failed));
        Assert.Single((await Ok("ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("--add-host=db:10.0.0.300", "skiff: invalid extra host \"db:10.0.0.300\": \"10.0.0.300\" is not an IP address")]
    [InlineData("--dns=8.8.8", "skiff: invalid DNS server \"8.8.8\": it must be an IP address")]
    [InlineData("--dns-search=-x.example", "skiff: invalid DNS search domain \"-x.example\"")]
    [InlineData("--pid=private", "skiff: invalid PID namespace mode \"private\"")]
    [InlineData("--ipc=container:nosuch", "skiff: no such container: nosuch")]
    [InlineData("--uts=private", "skiff: invalid UTS namespace mode \"private\"")]
    [InlineData("--userns=remap", "skiff: user namespace mode \"remap\" is not supported")]
    [InlineData("--group-add=nosuch", "skiff: unable to find group nosuch")]
    [InlineData("--oom-score-adj=-10", "skiff: OOM score adjustment -10: lowering it below skiff's own (0) needs CAP_SYS_RESOURCE")]
    [InlineData("--cpu-shares=1", "skiff: CPU shares 1: the range is 2 to 262144")]
    [InlineData("--cpu-quota=999", "skiff: CPU CFS quota 999: it is at least 1000 microseconds, or -1 for none")]
    [InlineData("--memory-swappiness=101", "skiff: memory swappiness 101: the range is 0 to 100 (-1: the host's)")]
    [InlineData("--cpuset-cpus=64", "skiff: CPUs 64 are not available")]
    [InlineData("--blkio-weight=500", "skiff: block IO weight 500: this host's blkio controller has no weight file")]
    [InlineData("--device-cgroup-rule=c 1:3 rwx", "skiff: invalid device cgroup rule \"c 1:3 rwx\"")]
    [InlineData("--gpus=all", "skiff: GPU request \"all\" cannot be met: skiff has no GPU support")]
    [InlineData("--platform=linux/s390x", "skiff: platform linux/s390x cannot run on this host")]
    [InlineData("--log-driver=syslog", "skiff: log driver \"syslog\" is not supported: skiff's are json-file, local and none")]
    [InlineData("--isolation=hyperv", "skiff: isolation \"hyperv\" is not supported")]
    public async Task UnsupportedOrInvalidFlagsAreRefusedWithAReason(string flag, string message)
    {
        // What this host lacks (skiff's test machines: no blkio weight file, no CAP_SYS_RESOURCE) works where it is there.
        if (flag.StartsWith("--blkio-weight", StringComparison.Ordinal) && (File.Exists("/sys/fs/cgroup/blkio/blkio.weight") || File.Exists("/sys/fs/cgroup/blkio/blkio.bfq.weight") || File.Exists("/sys/fs/cgroup/cgroup.controllers")))
            message = "";
        const int CapSysResource = 24;
        var bounding = Convert.ToUInt64(File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("CapBnd:", StringComparison.Ordinal))[7..].Trim(), 16);
        if (flag.StartsWith("--oom-score-adj", StringComparison.Ordinal) && (bounding & (1UL << CapSysResource)) != 0)
            message = "";
        if (message.Length == 0)
        {
            await Ok("run", "--rm", flag, Image, "true");
            return;
        }
        Assert.StartsWith(message, (await FailsOnOneLine("run", "--rm", flag, Image, "true")).Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    [Fact]
    public async Task VersionHasDockersSectionsAndTakesATemplate()
    {
        var text = (await Ok("version")).Stdout;
        Assert.StartsWith("Client:\n Version:           ", text);
        Assert.Contains("\nServer: Skiff Engine\n Engine:\n  Version:          ", text);
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        Assert.Equal($"{kernel} linux\n", (await Ok("version", "--format", "{{.Server.KernelVersion}} {{.Client.Os}}")).Stdout);
        var json = JsonDocument.Parse((await Ok("version", "-f", "json")).Stdout).RootElement;
        Assert.Equal("Engine", json.GetProperty("Server").GetProperty("Components")[0].GetProperty("Name").GetString());
        Assert.Equal(json.GetProperty("Client").GetProperty("Version").GetString(), json.GetProperty("Server").GetProperty("Version").GetString());
        Assert.StartsWith("skiff: template parsing error", (await FailsOnOneLine(64, "version", "--format", "{{.Client.Version")).Stderr);
    }

    [Fact]
    public async Task LogLevelsAreDockersNames()
    {
        foreach (var level in new[] { "debug", "info", "warn", "error", "fatal" })
            await Ok("--log-level", level, "ps");
        await Ok("-D", "ps");
        var bad = await Skiff.RunAsync(Root, "--log-level", "loud", "ps");
        // docker's CLI exits 1 here (SetLogLevel), not with cobra's 125 for a flag that does not parse.
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("skiff: unable to parse logging level: loud", bad.Stderr);
    }

    [Fact]
    public async Task ConfigDirectoryHoldsTheLoginCredentials()
    {
        using var registry = await RegistryProcess.StartAsync("alice", "wonderland");
        var config = Path.Combine(_temp.Path, "docker-config");
        var login = await Skiff.RunWithInputAsync(Root, "wonderland\n", "--config", config, "login", "--tls-verify=false", "-u", "alice", "--password-stdin", registry.Host);
        Assert.True(login.ExitCode == 0, login.Stderr);
        Assert.Contains(registry.Host, File.ReadAllText(Path.Combine(config, "config.json")));
        Assert.Equal($"Removed login credentials for {registry.Host}\n", (await Ok("--config", config, "logout", registry.Host)).Stdout);
        Assert.DoesNotContain(registry.Host, File.ReadAllText(Path.Combine(config, "config.json")));
    }
}
