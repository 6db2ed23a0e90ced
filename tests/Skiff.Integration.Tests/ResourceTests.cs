using Process = System.Diagnostics.Process;
using ProcessStartInfo = System.Diagnostics.ProcessStartInfo;
using System.Text.Json;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>Limits that must hold against a real workload on this host's cgroups, and `events`.</summary>
public sealed class ResourceTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [ContainerFact]
    public void MemoryHogIsOomKilledAndEventsReportsTheOomAndStats()
    {
        var id = _bundle.NewId("oom");
        _bundle.Spec.Linux!.Resources = new LinuxResources { Memory = new LinuxMemory { Limit = 32 << 20 } };
        // doubling a shell string reaches 32 MB within a few iterations, often before the first 100 ms
        // stats tick: the hog waits a second so that stats events of the live cgroup are seen too
        _bundle.Spec.Process!.Args = ["sh", "-c", "sleep 1; x=a; while :; do x=$x$x; done"];
        var create = _bundle.Create(id);
        Assert.True(create.ExitCode == 0, create.ToString());

        using var events = StartEvents(id, "--interval", "100ms");
        try
        {
            // the watch is in place once the events process holds its eventfd (v1) or inotify fd (v2)
            LifecycleTests.WaitFor(() => HoldsNotifyFd(events.Id));
            Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
            Assert.True(events.WaitForExit(60_000), "events did not exit when the container stopped");
        }
        finally
        {
            if (!events.HasExited) events.Kill();
        }
        var lines = events.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(0, events.ExitCode);
        Assert.Contains(lines, e => e.GetProperty("type").GetString() == "oom" && e.GetProperty("id").GetString() == id);
        var stats = lines.Where(e => e.GetProperty("type").GetString() == "stats").ToList();
        Assert.NotEmpty(stats);
        Assert.All(stats, e => Assert.Equal(32UL << 20, e.GetProperty("data").GetProperty("memory").GetProperty("usage").GetProperty("limit").GetUInt64()));
        Assert.Equal("stopped", _bundle.Status(id));
        Assert.Contains("oom_kill 1", File.ReadAllText($"/sys/fs/cgroup/memory/skiff-test/{id}/memory.oom_control"));
    }

    [ContainerFact]
    public void EventsStatsPrintsOneStatsEventOfTheLiveCgroup()
    {
        var id = _bundle.NewId("stats");
        _bundle.Spec.Linux!.Resources = new LinuxResources { Pids = new LinuxPids { Limit = 20 } };
        _bundle.Spec.Process!.Args = ["sh", "-c", "sleep 100 & sleep 100"];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        LifecycleTests.WaitFor(() => _bundle.Pids(id).Count >= 2);

        var result = _bundle.Runtime("events", "--stats", id);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var e = Assert.Single(lines);
        var root = JsonDocument.Parse(e).RootElement;
        Assert.Equal("stats", root.GetProperty("type").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(20UL, data.GetProperty("pids").GetProperty("limit").GetUInt64());
        Assert.True(data.GetProperty("pids").GetProperty("current").GetUInt64() >= 2);
        Assert.True(data.GetProperty("memory").GetProperty("usage").GetProperty("usage").GetUInt64() > 0);
        Assert.True(data.GetProperty("cpu").GetProperty("usage").GetProperty("total").GetUInt64() > 0);
    }

    [ContainerFact]
    public void EventsOfAStoppedContainerIsAnError()
    {
        var id = _bundle.NewId("stopped");
        _bundle.CreateStartWait(id, ["true"]);
        var result = _bundle.Runtime("events", id);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("stopped", Leftovers.SingleLine(result.Stderr));
    }

    [ContainerFact]
    public void ForkBombStopsAtPidsMax()
    {
        var id = _bundle.NewId("bomb");
        _bundle.Spec.Linux!.Resources = new LinuxResources { Pids = new LinuxPids { Limit = 32 } };
        _bundle.Spec.Process!.Args = ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 100"];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        var cgroup = $"/sys/fs/cgroup/pids/skiff-test/{id}";

        // the kernel counts every fork refused at the limit in pids.events
        LifecycleTests.WaitFor(() => MaxEvents(cgroup) > 0, 30_000);
        for (var i = 0; i < 10; i++)
        {
            Assert.InRange(int.Parse(File.ReadAllText($"{cgroup}/pids.current").Trim()), 1, 32);
            Thread.Sleep(20);
        }
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);
        Assert.Empty(Leftovers.ProcessesOf(id));
        Assert.Empty(Leftovers.CgroupDirs(id));
    }

    [ContainerFact]
    public void CpuQuotaIsVisibleAndLimitsABusyLoop()
    {
        var id = _bundle.NewId("cpu");
        _bundle.Spec.Linux!.Resources = new LinuxResources { CPU = new LinuxCPU { Quota = 20_000, Period = 100_000 } };
        _bundle.Spec.Process!.Args = ["sh", "-c", "while :; do :; done"];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);

        var inside = _bundle.Runtime("exec", id, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us");
        Assert.True(inside.ExitCode == 0, inside.ToString());
        Assert.Equal(["20000", "100000"], inside.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // 0.2 CPU: measured from the cgroup's own CPU time over ~1.5 s, with room for a loaded machine
        var usageFile = $"/sys/fs/cgroup/cpuacct/skiff-test/{id}/cpuacct.usage";
        Thread.Sleep(300);
        var before = ulong.Parse(File.ReadAllText(usageFile).Trim());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(1500);
        var used = ulong.Parse(File.ReadAllText(usageFile).Trim()) - before;
        var share = used / 1e9 / clock.Elapsed.TotalSeconds;
        Assert.InRange(share, 0.05, 0.3);

        var stats = JsonDocument.Parse(_bundle.Runtime("events", "--stats", id).Stdout).RootElement.GetProperty("data").GetProperty("cpu");
        Assert.True(stats.GetProperty("throttling").GetProperty("throttledPeriods").GetUInt64() > 0, stats.ToString());
    }

    [ContainerFact]
    public void DeviceRulesDenyOpeningADeviceTheContainerCreated()
    {
        _bundle.Spec.Process!.Capabilities!.Bounding!.Add("CAP_MKNOD");
        _bundle.Spec.Process.Capabilities.Effective!.Add("CAP_MKNOD");
        _bundle.Spec.Process.Capabilities.Permitted!.Add("CAP_MKNOD");
        // after runc spec's "deny everything": /dev/fuse is allowed, /dev/loop-control is not
        _bundle.Spec.Linux!.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" });
        var result = _bundle.Run("sh", "-c",
            "mknod /dev/allowed c 10 229 && mknod /dev/denied c 10 237 && (exec 3</dev/allowed) && echo allowed-opened; (exec 3</dev/denied) 2>&1; echo denied=$?");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("allowed-opened", result.Stdout);
        Assert.Contains("Operation not permitted", result.Stdout);
        Assert.Contains("denied=1", result.Stdout);
    }

    private static int MaxEvents(string cgroup)
        => File.ReadAllLines($"{cgroup}/pids.events").Select(l => l.Split(' ')).Where(f => f[0] == "max").Select(f => int.Parse(f[1])).Single();

    private Process StartEvents(string id, params string[] args)
    {
        var info = new ProcessStartInfo(Repo.Runtime) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["--root", _bundle.StateRoot, "events", .. args, id])
            info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }

    private static bool HoldsNotifyFd(int pid)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
                .Select(fd => new FileInfo(fd).LinkTarget)
                .Any(target => target is "anon_inode:[eventfd]" or "anon_inode:inotify");
        }
        catch (IOException)
        {
            return false;
        }
    }
}
