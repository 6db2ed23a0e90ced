using Skiff.Engine;
using Skiff.Engine.Containers;

namespace Skiff.Integration.Tests;

/// <summary>One engine's services shared by many threads of one process, as an API server shares them between its requests.</summary>
public sealed class EngineConcurrencyTests
{
    [ContainerFact]
    public void Threads_sharing_one_set_of_services_create_start_exec_wait_and_remove_containers_at_once()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        const int Flows = 10;
        var results = new (int Exec, int Exit, string Id)[Flows];
        Parallel.For(0, Flows, new ParallelOptions { MaxDegreeOfParallelism = Flows }, i =>
        {
            // Each container runs until a detached exec tells it to end (a process still running in it when it ends is
            // killed with it, so the exec whose status is checked ends first).
            var container = engine.Create(["sh", "-c", $"while [ ! -f /tmp/done ]; do sleep 0.05; done; exit {i + 10}"]);
            engine.Containers.Start(container.Id);
            using var devNull = RuntimeClient.OpenDevNull();
            var stdio = new ExecStdio(devNull, devNull, devNull);
            int exec = engine.ContainerExec.Exec(container.Id, new ExecRequest { Command = ["sh", "-c", $"exit {i}"] }, stdio);
            engine.ContainerExec.Exec(container.Id, new ExecRequest { Command = ["touch", "/tmp/done"], Detach = true }, stdio);
            int exit = engine.Containers.WaitAsync(container.Id).GetAwaiter().GetResult();
            Assert.Equal(ContainerStatus.Exited, engine.ContainerQueries.Get(container.Id).State.Status);
            engine.Containers.Remove(container.Id);
            results[i] = (exec, exit, container.Id);
        });
        Assert.Equal(Enumerable.Range(0, Flows).Select(i => (i, i + 10)), results.Select(r => (r.Exec, r.Exit)));
        foreach (var (_, _, id) in results)
            engine.AssertGone(id);
        Assert.Empty(engine.ContainerQueries.List(all: true));
    }

    [ContainerFact]
    public async Task Waits_on_running_containers_end_when_cancelled_and_leave_them_running()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var containers = Enumerable.Range(0, 3).Select(_ => engine.Create(["sleep", "1000"])).ToList();
        foreach (var container in containers)
            engine.Containers.Start(container.Id);
        using var cancel = new CancellationTokenSource();
        var waits = containers.Select(c => engine.Containers.WaitAsync(c.Id, cancel.Token)).ToList();
        await Task.Delay(200);
        Assert.All(waits, wait => Assert.False(wait.IsCompleted));
        cancel.Cancel();
        foreach (var wait in waits)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.All(containers, c => Assert.Equal(ContainerStatus.Running, engine.ContainerQueries.Get(c.Id).State.Status));
    }
}
