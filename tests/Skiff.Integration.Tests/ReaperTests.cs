using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>
/// `skiff-init --init`, the pid 1 of `skiff run --init`: it reaps orphans and forwards signals. Each test also
/// runs the same container without it, so the test shows the problem it solves and cannot pass vacuously.
/// </summary>
public sealed class ReaperTests : IDisposable
{
    private const string CountZombies = "n=0; for f in /proc/[0-9]*/stat; do read l < $f; case \"$l\" in *') Z '*) n=$((n+1));; esac; done; echo zombies=$n";

    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    private void UseInit(bool init, params string[] command)
    {
        _bundle.Spec.Process!.Args = init ? ["/dev/init", "--init", "--", .. command] : [.. command];
        _bundle.Spec.Mounts!.RemoveAll(m => m.Destination == "/dev/init");
        if (init)
            _bundle.Spec.Mounts.Add(new Mount { Destination = "/dev/init", Type = "bind", Source = Path.Combine(Repo.Root, "bin", "skiff-init"), Options = ["bind", "ro"] });
    }

    [ContainerTheory]
    [InlineData(true, "zombies=0")]
    [InlineData(false, "zombies=1")]
    public void Orphans_are_reaped(bool init, string expected)
    {
        // The orphaned sleep is re-parented to pid 1; the program that then becomes pid 1 (sleep) never waits.
        UseInit(init, "sh", "-c", "sh -c 'sleep 0.1 &'; exec sleep 30");
        var id = _bundle.NewId("reap");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        string output = "";
        for (int attempt = 0; attempt < 50 && !output.Contains(expected); attempt++)
        {
            Thread.Sleep(100);
            output = _bundle.Runtime("exec", id, "sh", "-c", CountZombies).Stdout;
        }
        Assert.Contains(expected, output);
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);
    }

    [ContainerTheory]
    [InlineData(true, "stopped")]
    [InlineData(false, "running")]
    public void Sigterm_reaches_the_program(bool init, string expected)
    {
        // Without an init, the program is pid 1 and the kernel drops signals it has no handler for.
        UseInit(init, "sleep", "30");
        var id = _bundle.NewId("term");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        Thread.Sleep(200);
        Assert.Equal("running", _bundle.Status(id));
        Assert.Equal(0, _bundle.Runtime("kill", id, "TERM").ExitCode);
        string status = "";
        for (int attempt = 0; attempt < 20; attempt++)
        {
            Thread.Sleep(100);
            status = _bundle.Status(id);
            if (status == "stopped") break;
        }
        Assert.Equal(expected, status);
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);
    }

    [ContainerFact]
    public void Exit_status_is_the_programs()
    {
        UseInit(true, "sh", "-c", "exit 7");
        Assert.Equal(7, _bundle.Run(_bundle.Spec.Process!.Args!.ToArray()).ExitCode);
        UseInit(true, "sh", "-c", "kill -KILL $$");
        Assert.Equal(137, _bundle.Run(_bundle.Spec.Process!.Args!.ToArray()).ExitCode);
        UseInit(true, "/no/such/program");
        Assert.Equal(127, _bundle.Run(_bundle.Spec.Process!.Args!.ToArray()).ExitCode);
    }
}
