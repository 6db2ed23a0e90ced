using Skiff.Interop;
using Skiff.Oci;


namespace Skiff.Integration.Tests;

/// <summary>
/// What containerd's runc shim, podman's conmon and CRI-O rely on from a runtime, beyond the OCI lifecycle:
/// runc's exit statuses and the error words they match on ("container not running", "does not exist"),
/// errors that reach --log whatever state stdio is in, and the oomScoreAdj a shim asks for.
/// </summary>
public sealed class EngineContractTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [ContainerFact]
    public void KillAllOfAStoppedContainerSucceedsAndPlainKillSaysNotRunning()
    {
        // containerd's shim runs `kill --all ID 9` after every exit and treats only runc's wording as "already gone".
        var id = _bundle.NewId();
        _bundle.CreateStartWait(id, ["true"]);
        var all = _bundle.Runtime("kill", "--all", id, "9");
        Assert.True(all.ExitCode == 0, all.ToString());
        var plain = _bundle.Runtime("kill", id, "9");
        Assert.Equal(1, plain.ExitCode);
        Assert.Contains("container not running", plain.Stderr);
        var missing = _bundle.Runtime("kill", "--all", "no-such-container", "9");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr);
    }

    [ContainerFact]
    public void SignalZeroProbesAndPauseResumeUseRuncsWords()
    {
        var id = _bundle.NewId();
        _bundle.CreateSleeping(id);
        Assert.Equal(0, _bundle.Runtime("kill", id, "0").ExitCode);
        // runc pauses a created container too.
        Assert.Equal(0, _bundle.Runtime("pause", id).ExitCode);
        Assert.Equal("paused", _bundle.Status(id));
        Assert.Equal(0, _bundle.Runtime("resume", id).ExitCode);
        Assert.Contains("container not paused", _bundle.Runtime("resume", id).Stderr);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("pause", id).ExitCode);
        // A frozen process never acts on SIGKILL: kill thaws the container for it, as runc.
        Assert.Equal(0, _bundle.Runtime("kill", id, "KILL").ExitCode);
        LifecycleTests.WaitFor(() => _bundle.Status(id) == "stopped");
        Assert.Contains("container not running", _bundle.Runtime("kill", id, "0").Stderr);
        Assert.Contains("container not running", _bundle.Runtime("pause", id).Stderr);
        Assert.Equal(0, _bundle.Runtime("delete", id).ExitCode);
        Leftovers.AssertNone(_bundle, id);
    }

    [ContainerFact]
    public void ExecIntoAMissingContainerSaysItDoesNotExist()
    {
        var result = _bundle.Runtime("exec", "no-such-container", "true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("skiff-runtime: container \"no-such-container\" does not exist", Leftovers.SingleLine(result.Stderr));
    }

    [ContainerTheory]
    [InlineData("2</dev/null")]   // the shim's null IO: /dev/null opened read-only
    [InlineData("2>&-")]          // closed
    [InlineData("2>/dev/full")]   // ENOSPC
    public void AnUnwritableStderrKeepsTheExitStatusAndTheLog(string redirection)
    {
        var log = Path.Combine(_bundle.Directory, "log.json");
        var result = ProcessRunner.Run("/bin/sh", ["-c", $"\"$0\" --root \"$1\" --log \"$2\" --log-format json state no-such-container {redirection}",
            Repo.Runtime, _bundle.StateRoot, log], null, _bundle.Directory);
        Assert.True(result.ExitCode == 1, result.ToString());
        var record = System.Text.Json.JsonDocument.Parse(File.ReadAllLines(log).Single()).RootElement;
        Assert.Equal("error", record.GetProperty("level").GetString());
        Assert.Equal("container \"no-such-container\" does not exist", record.GetProperty("msg").GetString());
    }

    [ContainerFact]
    public void AnUnwritableStdoutKeepsTheExitStatus()
    {
        var id = _bundle.NewId();
        _bundle.CreateSleeping(id);
        var result = ProcessRunner.Run("/bin/sh", ["-c", "\"$0\" --root \"$1\" state \"$2\" >/dev/full", Repo.Runtime, _bundle.StateRoot, id], null, _bundle.Directory);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [ContainerFact]
    public void OomScoreAdjMayGoBackToWhatTheKernelAllows()
    {
        // containerd (restrict_oom_score_adj) asks for its own score from a shim one above it. Without
        // CAP_SYS_RESOURCE the kernel lets a process lower its score down to the lowest one a privileged
        // process gave it, and no further.
        int own = int.Parse(File.ReadAllText("/proc/self/oom_score_adj").Trim());
        Assert.True(own < 1000, "this test raises the runtime's score above its own");
        var fine = RunAtScore(own + 1, own);
        Assert.True(fine.ExitCode == 0, fine.ToString());
        Assert.Equal($"{own}\n", fine.Stdout);
        if (ProcessCapabilities.Has(LinuxNames.CAP_SYS_RESOURCE) || own - 5 < -1000)
            return;
        var refused = RunAtScore(own + 1, own - 5);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"set oom_score_adj to {own - 5}: write /proc/self/oom_score_adj: Permission denied", Leftovers.SingleLine(refused.Stderr));
        Leftovers.AssertNone(_bundle, _bundle.Spec.Linux!.CgroupsPath!.Split('/')[^1]);
    }

    private RunResult RunAtScore(int runtimeScore, int containerScore)
    {
        var id = _bundle.NewId("oom");
        _bundle.Spec.Process!.Args = ["cat", "/proc/self/oom_score_adj"];
        _bundle.Spec.Process.OOMScoreAdj = containerScore;
        _bundle.WriteConfig(id);
        return ProcessRunner.Run("/bin/sh", ["-c", $"echo {runtimeScore} >/proc/self/oom_score_adj && exec \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\"",
            Repo.Runtime, _bundle.StateRoot, _bundle.Directory, id], null, _bundle.Directory);
    }
}
