using System.Diagnostics;
using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Crash recovery through bin/skiff (the engine issue's acceptance): a killed CLI leaves its container to the monitor;
/// a killed monitor, or a reboot, leaves a container that `ps -a` shows as exited (255) and `rm` removes entirely.
/// </summary>
public sealed partial class EngineCliTests
{
    private string RuntimeRoot => Path.Combine(Skiff.RunRootOf(Root), "runtime");

    private async Task<JsonElement> State(string container)
    {
        using var json = JsonDocument.Parse((await Ok("container", "inspect", container)).Stdout);
        return json.RootElement[0].GetProperty("State").Clone();
    }

    /// <summary>
    /// The monitor of the container: a `skiff monitor` process of this root that has the container's id on its command
    /// line or, when `run` started it before the id existed, one of the container's files open (its log).
    /// </summary>
    private int MonitorOf(string id)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
                continue;
            try
            {
                var argv = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (argv.Contains("monitor") && argv.Contains(Root) && (argv.Contains(id) || HasOpenFileOf(directory, id)))
                    return pid;
            }
            catch (IOException)
            {
                // exited meanwhile
            }
        }
        throw new Xunit.Sdk.XunitException($"no monitor process for container {id}");
    }

    private static bool HasOpenFileOf(string processDirectory, string id)
    {
        foreach (var fd in Directory.EnumerateFiles(Path.Combine(processDirectory, "fd")))
        {
            if (new FileInfo(fd).LinkTarget?.Contains(id, StringComparison.Ordinal) == true)
                return true;
        }
        return false;
    }

    /// <summary>SIGKILL, then waits until the process is gone (or a zombie: it runs no more).</summary>
    private static void KillAndWait(int pid)
    {
        Process.GetProcessById(pid).Kill();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return;
            }
            if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
                return;
            Assert.True(DateTime.UtcNow < deadline, $"process {pid} did not die");
            Thread.Sleep(20);
        }
    }

    /// <summary>The container's cgroup directories in every hierarchy (the engine's parent is /skiff).</summary>
    private static List<string> CgroupDirsOf(string id)
        => Directory.EnumerateDirectories("/sys/fs/cgroup").Select(hierarchy => Path.Combine(hierarchy, "skiff", id))
            .Append(Path.Combine("/sys/fs/cgroup", "skiff", id))
            .Where(Directory.Exists).ToList();

    private void AssertRemovedEntirely(string id)
    {
        Assert.DoesNotContain(id, Skiff.RunAsync(Root, "ps", "-aq", "--no-trunc").GetAwaiter().GetResult().Stdout);
        Assert.False(Directory.Exists(Path.Combine(Root, "containers", id)), "container directory left behind");
        Assert.False(Directory.Exists(Path.Combine(Root, "rootfs", id)), "rootfs mount point left behind");
        Assert.False(Directory.Exists(Path.Combine(RuntimeRoot, id)), "runtime state left behind");
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(id));
        Assert.Empty(CgroupDirsOf(id));
    }

    /// <summary>A detached container that runs until killed: its ID and its process.</summary>
    private async Task<(string Id, int Pid)> RunDetached(string name)
    {
        string id = (await Ok("run", "-d", "--name", name, Image, "sleep", "1000")).Stdout.Trim();
        return (id, (await State(id)).GetProperty("Pid").GetInt32());
    }

    [Fact]
    public async Task AKilledAttachedRunLeavesItsContainerRunningUnderTheMonitor()
    {
        using var run = Skiff.Start(Root, "run", "--name", "crash-attached", Image, "sh", "-c", "trap 'exit 143' TERM; echo ready; sleep 1000 & wait");
        Assert.Equal("ready", await run.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1)));
        run.Kill();
        await run.WaitForExitAsync();

        var state = await State("crash-attached");
        Assert.Equal("running", state.GetProperty("Status").GetString());
        Assert.True(Directory.Exists($"/proc/{state.GetProperty("Pid").GetInt32()}"), "the container's process is gone");
        string id = (await Ok("ps", "-q", "--no-trunc", "--filter", "name=crash-attached")).Stdout.Trim();
        MonitorOf(id);

        await Ok("stop", "-t", "60", "crash-attached");
        Assert.Equal(143, (await State("crash-attached")).GetProperty("ExitCode").GetInt32());
        await Ok("rm", "crash-attached");
        AssertRemovedEntirely(id);
    }

    [Fact]
    public async Task AKilledMonitorLeavesAContainerThatEndsAsExited255AndRmCleansUp()
    {
        var (id, pid) = await RunDetached("crash-monitor");
        KillAndWait(MonitorOf(id));
        // Its process outlives the monitor (as with podman's conmon): the container still runs.
        Assert.Matches(@"\bUp\b", (await Ok("ps", "--filter", "name=crash-monitor")).Stdout);

        KillAndWait(pid);
        Assert.Matches(@"\bExited \(255\)", (await Ok("ps", "-a", "--filter", "name=crash-monitor")).Stdout);
        Assert.True(Directory.Exists(Path.Combine(RuntimeRoot, id)), "the runtime's state is what rm must clean");
        await Ok("rm", "crash-monitor");
        AssertRemovedEntirely(id);
    }

    [Fact]
    public async Task AfterARebootAContainerIsExited255AndRmCleansUp()
    {
        var (id, pid) = await RunDetached("crash-reboot");
        // What a reboot does: every process ends, mounts and cgroups go, and the tmpfs under /run is empty again.
        KillAndWait(MonitorOf(id));
        KillAndWait(pid);
        using (var umount = Process.Start("umount", ["-l", Path.Combine(Root, "rootfs", id)])!)
        {
            await umount.WaitForExitAsync();
            Assert.Equal(0, umount.ExitCode);
        }
        Directory.Delete(Path.Combine(RuntimeRoot, id), recursive: true);
        foreach (var cgroup in CgroupDirsOf(id))
            Directory.Delete(cgroup);

        Assert.Matches(@"\bExited \(255\)", (await Ok("ps", "-a", "--filter", "name=crash-reboot")).Stdout);
        await Ok("rm", "crash-reboot");
        AssertRemovedEntirely(id);
    }
}
