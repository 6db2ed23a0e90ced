using System.Text.Json;

namespace Skiff.Integration.Tests;

public sealed class PauseUpdateTests : IDisposable
{
    private readonly TestBundle _bundle = new();
    private readonly string _id;

    public PauseUpdateTests()
    {
        _id = _bundle.NewId();
        _bundle.Spec.Process!.Args = ["sh", "-c", "sleep 100 & while :; do sleep 0.05; done"];
        var create = _bundle.Create(_id);
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal(0, _bundle.Runtime("start", _id).ExitCode);
    }

    public void Dispose() => _bundle.Dispose();


    private string Cgroup(string controller, string file) => File.ReadAllText($"/sys/fs/cgroup/{controller}/skiff-test/{_id}/{file}").Trim();


    [ContainerFact]
    public void PauseFreezesEveryProcessAndResumeThawsThem()
    {
        LifecycleTests.WaitFor(() => _bundle.Pids(_id).Count >= 2);
        Assert.Equal(0, _bundle.Runtime("pause", _id).ExitCode);
        Assert.Equal("paused", _bundle.Status(_id));
        Assert.Equal("FROZEN", Cgroup("freezer", "freezer.state"));
        // A frozen task sits in the refrigerator: state D (or S on some kernels), but it never runs.
        var before = _bundle.Pids(_id).ToDictionary(p => p, p => File.ReadAllText($"/proc/{p}/stat").Split(' ')[13]);
        Thread.Sleep(200);
        foreach (var (pid, utime) in before)
            Assert.Equal(utime, File.ReadAllText($"/proc/{pid}/stat").Split(' ')[13]);
        var again = _bundle.Runtime("pause", _id);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("not running", again.Stderr);

        Assert.Equal(0, _bundle.Runtime("resume", _id).ExitCode);
        Assert.Equal("running", _bundle.Status(_id));
        Assert.Equal("THAWED", Cgroup("freezer", "freezer.state"));
        Assert.NotEqual(0, _bundle.Runtime("resume", _id).ExitCode);
    }

    [ContainerFact]
    public void DeleteForceOfAPausedContainerKillsIt()
    {
        Assert.Equal(0, _bundle.Runtime("pause", _id).ExitCode);
        var pids = _bundle.Pids(_id);
        Assert.Equal(0, _bundle.Runtime("delete", "--force", _id).ExitCode);
        LifecycleTests.WaitFor(() => pids.All(TestBundle.ProcessGone));
    }

    [ContainerFact]
    public void UpdateChangesLiveLimitsAndRemembersThem()
    {
        Assert.Equal(0, _bundle.Runtime("update", "--memory", "64m", "--pids-limit", "50", "--cpu-quota", "20000", "--cpu-period", "100000", _id).ExitCode);
        Assert.Equal((64L << 20).ToString(), Cgroup("memory", "memory.limit_in_bytes"));
        Assert.Equal("50", Cgroup("pids", "pids.max"));
        Assert.Equal("20000", Cgroup("cpu", "cpu.cfs_quota_us"));

        var resources = Path.Combine(_bundle.Directory, "resources.json");
        File.WriteAllText(resources, """{"pids": {"limit": 70}}""");
        Assert.Equal(0, _bundle.Runtime("update", "--resources", resources, _id).ExitCode);
        Assert.Equal("70", Cgroup("pids", "pids.max"));
        // The earlier memory limit stays in force and in the saved config.
        Assert.Equal((64L << 20).ToString(), Cgroup("memory", "memory.limit_in_bytes"));
        var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(_bundle.StateRoot, _id, "config.json"))).RootElement;
        var savedResources = saved.GetProperty("linux").GetProperty("resources");
        Assert.Equal(64L << 20, savedResources.GetProperty("memory").GetProperty("limit").GetInt64());
        Assert.Equal(70, savedResources.GetProperty("pids").GetProperty("limit").GetInt64());
    }

    [ContainerFact]
    public void UpdateRejectsBadValuesWithoutChangingAnything()
    {
        Assert.Equal(0, _bundle.Runtime("update", "--pids-limit", "40", _id).ExitCode);
        var bad = _bundle.Runtime("update", "--memory", "lots", _id);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--memory", bad.Stderr);
        var contradictory = _bundle.Runtime("update", "--memory", "64m", "--memory-swap", "32m", _id);
        Assert.NotEqual(0, contradictory.ExitCode);
        Assert.Contains("swap", contradictory.Stderr);
        Assert.Equal("40", Cgroup("pids", "pids.max"));
    }
}
