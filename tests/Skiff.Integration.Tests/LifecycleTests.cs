using System.Text.Json;

namespace Skiff.Integration.Tests;

public sealed class LifecycleTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [ContainerFact]
    public void RunReturnsTheProgramsOutputAndExitCode()
    {
        var result = _bundle.Run("sh", "-c", "echo hello; exit 7");
        Assert.Equal(7, result.ExitCode);
        Assert.Equal("hello\n", result.Stdout);
    }

    [ContainerFact]
    public void CreateStartStateKillDelete()
    {
        _bundle.Spec.Process!.Args = ["sleep", "100"];
        var id = _bundle.NewId();
        var pidFile = Path.Combine(_bundle.Directory, "pid");
        var create = _bundle.Create(id, "--pid-file", pidFile);
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("created", _bundle.Status(id));
        int pid = int.Parse(File.ReadAllText(pidFile));
        // Before start the container process is still skiff-init, waiting on the exec fifo.
        Assert.DoesNotContain("sleep", File.ReadAllText($"/proc/{pid}/cmdline"));

        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        Assert.Equal("running", _bundle.Status(id));
        // start returns once the exec fifo is opened, as runc's: the exec itself follows, under load a little later.
        WaitFor(() => File.ReadAllText($"/proc/{pid}/cmdline").Contains("sleep"));

        var state = JsonDocument.Parse(_bundle.Runtime("state", id).Stdout).RootElement;
        Assert.Equal(id, state.GetProperty("id").GetString());
        Assert.Equal(pid, state.GetProperty("pid").GetInt32());
        Assert.Equal(_bundle.Directory, state.GetProperty("bundle").GetString());

        var deleteRunning = _bundle.Runtime("delete", id);
        Assert.NotEqual(0, deleteRunning.ExitCode);
        Assert.Contains("running", deleteRunning.Stderr);

        Assert.Equal(0, _bundle.Runtime("kill", id, "KILL").ExitCode);
        WaitFor(() => _bundle.Status(id) == "stopped");
        Assert.Equal(0, _bundle.Runtime("delete", id).ExitCode);
        Assert.NotEqual(0, _bundle.Runtime("state", id).ExitCode);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
    }

    [ContainerFact]
    public void KilledContainerIsReportedAs128PlusSignal()
    {
        // The pid-namespace init ignores signals it has no handler for, even SIGKILL from inside:
        // the kill has to come from outside, through the runtime.
        var id = _bundle.NewId("run");
        _bundle.Spec.Process!.Args = ["sleep", "100"];
        _bundle.WriteConfig(id);
        using var run = StartRuntime("run", "--bundle", _bundle.Directory, id);
        WaitFor(() => _bundle.Runtime("state", id) is { ExitCode: 0 } state && state.Stdout.Contains("\"running\""));
        Assert.Equal(0, _bundle.Runtime("kill", id, "KILL").ExitCode);
        Assert.True(run.WaitForExit(10_000));
        Assert.Equal(137, run.ExitCode);
    }

    [ContainerFact]
    public void ForegroundRunForwardsSignalsToTheContainer()
    {
        var id = _bundle.NewId("run");
        _bundle.Spec.Process!.Args = ["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"];
        _bundle.WriteConfig(id);
        using var run = StartRuntime("run", "--bundle", _bundle.Directory, id);
        WaitFor(() => _bundle.Runtime("ps", "--format", "json", id) is { ExitCode: 0 } ps && ps.Stdout.Contains(','));
        Assert.Equal(0, Skiff.Interop.Interop.Libc.Kill(run.Id, 15));
        Assert.True(run.WaitForExit(10_000));
        Assert.Equal(3, run.ExitCode);
    }

    [ContainerFact]
    public void SignalDuringStartIsForwardedOnceTheProgramIsKnown()
    {
        // The program runs while a poststart hook still holds `run` inside start: a SIGTERM then must be kept and
        // forwarded, not take .NET's default action on the runtime (as runc, whose handler is installed first).
        var id = _bundle.NewId("run");
        string released = Path.Combine(_bundle.Directory, "hook-released");
        _bundle.Spec.Process!.Args = ["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"];
        _bundle.Spec.Hooks = new Skiff.Oci.Hooks
        {
            Poststart = [new Skiff.Oci.Hook { Path = "/bin/sh", Args = ["sh", "-c", $"while [ ! -e {released} ]; do sleep 0.02; done"], Timeout = 60 }],
        };
        _bundle.WriteConfig(id);
        using var run = StartRuntime("run", "--bundle", _bundle.Directory, id);
        WaitFor(() => _bundle.Runtime("ps", "--format", "json", id) is { ExitCode: 0 } ps && ps.Stdout.Contains(','));
        Assert.Equal(0, Skiff.Interop.Interop.Libc.Kill(run.Id, 15));
        File.WriteAllText(released, "");
        Assert.True(run.WaitForExit(10_000));
        Assert.Equal(3, run.ExitCode);
    }

    private System.Diagnostics.Process StartRuntime(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(Repo.Runtime) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var arg in (string[])["--root", _bundle.StateRoot, .. args])
            info.ArgumentList.Add(arg);
        return System.Diagnostics.Process.Start(info)!;
    }

    [ContainerFact]
    public void ListShowsContainersInJsonAndTable()
    {
        _bundle.Spec.Process!.Args = ["sleep", "100"];
        var id = _bundle.NewId();
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        var json = _bundle.Runtime("list", "--format", "json");
        var states = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Contains(states.EnumerateArray(), s => s.GetProperty("id").GetString() == id && s.GetProperty("status").GetString() == "created");
        Assert.Contains(id, _bundle.Runtime("list", "-q").Stdout.Split('\n'));
        Assert.Contains(id, _bundle.Runtime("list").Stdout);
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);
        Assert.DoesNotContain(id, _bundle.Runtime("list", "-q").Stdout);
    }

    [ContainerFact]
    public void DeleteOfACreateThatDiedBeforeRecordingThePidKillsWhatItStarted()
    {
        _bundle.Spec.Process!.Args = ["sleep", "100"];
        var id = _bundle.NewId();
        var pidFile = Path.Combine(_bundle.Directory, "pid");
        Assert.Equal(0, _bundle.Create(id, "--pid-file", pidFile).ExitCode);
        int pid = int.Parse(File.ReadAllText(pidFile));
        // What a `create` killed between spawning and saving leaves: a record without a pid.
        var statePath = Path.Combine(_bundle.StateRoot, id, "state.json");
        var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(statePath))!;
        state["pid"] = 0;
        File.WriteAllText(statePath, state.ToJsonString());
        Assert.Equal("creating", _bundle.Status(id));

        Assert.Equal(0, _bundle.Runtime("delete", id).ExitCode);
        WaitFor(() => TestBundle.ProcessGone(pid));
        Assert.False(Directory.Exists($"/sys/fs/cgroup/pids/skiff-test/{id}"));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
    }

    internal static void WaitFor(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException("condition not met in time");
            Thread.Sleep(20);
        }
    }
}
