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
        // doubling a shell string: 32 MB is reached within a few iterations
        _bundle.Spec.Process!.Args = ["sh", "-c", "x=a; while :; do x=$x$x; done"];
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
