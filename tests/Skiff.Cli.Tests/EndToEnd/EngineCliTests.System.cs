using System.Diagnostics;
using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>`skiff system info` and `skiff system prune`.</summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task SystemInfoReportsDockersFieldsForThisRootAndHost()
    {
        await Ok("run", "-d", "--name", "info-running", Image, "sleep", "1000");
        await Ok("create", "--name", "info-created", Image, "true");

        using var json = JsonDocument.Parse((await Ok("system", "info", "--format", "json")).Stdout);
        var info = json.RootElement;
        Assert.Equal(2, info.GetProperty("Containers").GetInt32());
        Assert.Equal(1, info.GetProperty("ContainersRunning").GetInt32());
        Assert.Equal(0, info.GetProperty("ContainersPaused").GetInt32());
        Assert.Equal(1, info.GetProperty("ContainersStopped").GetInt32());
        Assert.Equal(1, info.GetProperty("Images").GetInt32());
        Assert.Equal("overlay", info.GetProperty("Driver").GetString());
        var driverStatus = info.GetProperty("DriverStatus").EnumerateArray().ToDictionary(pair => pair[0].GetString()!, pair => pair[1].GetString()!);
        Assert.False(string.IsNullOrEmpty(driverStatus["Backing Filesystem"]));
        Assert.Equal("true", driverStatus["Supports d_type"]);
        Assert.Equal("json-file", info.GetProperty("LoggingDriver").GetString());
        Assert.Equal("cgroupfs", info.GetProperty("CgroupDriver").GetString());
        bool unifiedOnly = File.Exists("/sys/fs/cgroup/cgroup.controllers");
        Assert.Equal(unifiedOnly ? "2" : "1", info.GetProperty("CgroupVersion").GetString());
        Assert.Equal(unifiedOnly ? "v2" : Directory.Exists("/sys/fs/cgroup/unified") ? "hybrid" : "v1", info.GetProperty("CgroupMode").GetString());
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), info.GetProperty("KernelVersion").GetString());
        Assert.Equal("linux", info.GetProperty("OSType").GetString());
        Assert.Equal(Environment.ProcessorCount, info.GetProperty("NCPU").GetInt32());
        Assert.True(info.GetProperty("MemTotal").GetInt64() > 0);
        Assert.Equal(Environment.MachineName, info.GetProperty("Name").GetString());
        Assert.Equal(Root, info.GetProperty("DockerRootDir").GetString());
        var defaultRuntime = info.GetProperty("DefaultRuntime").GetString()!;
        Assert.True(File.Exists(info.GetProperty("Runtimes").GetProperty(defaultRuntime).GetProperty("path").GetString()));
        Assert.Contains("name=seccomp,profile=builtin", info.GetProperty("SecurityOptions").EnumerateArray().Select(o => o.GetString()));
        var engineId = info.GetProperty("ID").GetString()!;
        Assert.NotEmpty(engineId);
        Assert.False(string.IsNullOrEmpty(info.GetProperty("OperatingSystem").GetString()));

        Assert.Equal(engineId + "\n", (await Ok("info", "--format", "{{.ID}}")).Stdout);
        var text = (await Ok("info")).Stdout;
        Assert.Contains($" Skiff Root Dir: {Root}\n", text);
        Assert.Contains("  Running: 1\n", text);
        Assert.Contains(" Logging Driver: json-file\n", text);
    }

    [Fact]
    public async Task SystemPruneRemovesExactlyStoppedContainersUnusedAnonymousVolumesAndDanglingImages()
    {
        string running = (await Ok("run", "-d", "--name", "prune-running", "-v", "/kept", Image, "sleep", "1000")).Stdout.Trim();
        await Ok("run", "--name", "prune-stopped", "-v", "/freed", Image, "sh", "-c", "cat /bin/busybox > /written");
        string stopped = (await Ok("ps", "-aq", "--no-trunc", "--filter", "name=prune-stopped")).Stdout.Trim();
        string created = (await Ok("create", "--name", "prune-created", Image, "true")).Stdout.Trim();
        await Ok("volume", "create", "prune-named");
        string dangling = (await Ok("import", RootfsTarball)).Stdout.Trim();
        await Ok("import", "-c", "LABEL unused=yes", RootfsTarball, "local/unused:1");
        var volumesBefore = (await Ok("volume", "ls", "-q")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, volumesBefore.Length);

        var declined = await Skiff.RunWithInputAsync(Root, "n\n", "system", "prune", "--volumes");
        Assert.Equal(0, declined.ExitCode);
        Assert.StartsWith("WARNING! This will remove:\n  - all stopped containers\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n", declined.Stdout);
        Assert.Equal(3, (await Ok("ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var pruned = await Skiff.RunWithInputAsync(Root, "y\n", "system", "prune", "--volumes");
        Assert.True(pruned.ExitCode == 0, pruned.Stderr);
        Assert.Contains($"Deleted Containers:\n", pruned.Stdout);
        Assert.Contains(stopped + "\n", pruned.Stdout);
        Assert.Contains(created + "\n", pruned.Stdout);
        Assert.Contains("Deleted Volumes:\n", pruned.Stdout);
        Assert.Contains($"deleted: {dangling}\n", pruned.Stdout);
        Assert.Matches(@"Total reclaimed space: \d+(\.\d+)?MB\n$", pruned.Stdout); // at least the busybox copy the stopped one wrote
        Assert.Equal(running + "\n", (await Ok("ps", "-aq", "--no-trunc")).Stdout);
        var volumesAfter = (await Ok("volume", "ls", "-q")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, volumesAfter.Length);
        Assert.Contains("prune-named", volumesAfter);
        Assert.Single(volumesBefore.Except(volumesAfter));
        await Ok("image", "inspect", "local/unused:1");

        var all = await Ok("system", "prune", "-a", "-f");
        Assert.Contains("untagged: local/unused:1\n", all.Stdout);
        Assert.DoesNotContain("busybox", all.Stdout);
        Assert.Equal(running + "\n", (await Ok("ps", "-aq", "--no-trunc")).Stdout);
        await Ok("image", "inspect", Image);
        Assert.Equal(1, (await Skiff.RunAsync(Root, "image", "inspect", "local/unused:1")).ExitCode);
    }

    [Fact]
    public async Task SystemPruneUntilKeepsWhatIsNewer()
    {
        string old = (await Ok("create", "--name", "prune-old", Image, "true")).Stdout.Trim();
        // Creation times are kept to the millisecond: the limit is a millisecond of its own between the two.
        NextMillisecond();
        var between = DateTimeOffset.UtcNow;
        NextMillisecond();
        string recent = (await Ok("create", "--name", "prune-recent", Image, "true")).Stdout.Trim();

        var pruned = await Ok("system", "prune", "-f", "--filter", $"until={between:yyyy-MM-ddTHH:mm:ss.fffZ}");
        Assert.Contains(old, pruned.Stdout);
        Assert.Equal(recent + "\n", (await Ok("ps", "-aq", "--no-trunc")).Stdout);
        var bad = await Skiff.RunAsync(Root, "system", "prune", "-f", "--filter", "colour=red");
        Assert.Equal((1, "skiff: invalid filter 'colour'\n"), (bad.ExitCode, bad.Stderr));
    }

    private static void NextMillisecond()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() == now)
            Thread.Yield();
    }
}
