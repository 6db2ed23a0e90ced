using System.Text.Json;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>OCI hooks: the state on stdin, the order of the six phases, where they run, failure semantics (runtime-spec config.md).</summary>
public sealed class HookTests : IDisposable
{
    private readonly TestBundle _bundle = new();
    private readonly string _log;

    public HookTests()
    {
        _bundle.Spec.Root!.Readonly = false;
        // In the rootfs, so the startContainer hook (which runs inside the container) can write it too.
        _log = Path.Combine(_bundle.Rootfs, "hooks.log");
        _bundle.Spec.Hooks = new Hooks();
    }

    public void Dispose() => _bundle.Dispose();

    /// <summary>A host hook appending "PHASE STATE-JSON" as one line.</summary>
    private Hook Logging(string phase, int? timeout = null) => new()
    {
        Path = "/bin/sh",
        Args = ["sh", "-c", "printf '%s ' \"$0\" >> \"$1\"; cat >> \"$1\"; echo >> \"$1\"", phase, _log],
        Timeout = timeout,
    };

    private static Hook Failing(string script = "exit 3", int? timeout = null) => new() { Path = "/bin/sh", Args = ["sh", "-c", script], Timeout = timeout };

    private List<(string Phase, JsonElement State)> Entries()
        => File.ReadAllLines(_log).Where(l => l.Length > 0).Select(line =>
        {
            int space = line.IndexOf(' ');
            var phase = line[..space];
            var json = line[(space + 1)..];
            try
            {
                return (phase, JsonDocument.Parse(json).RootElement);
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"{phase} hook got no valid state on stdin: \"{json}\" ({e.Message})");
            }
        }).ToList();

    [ContainerFact]
    public void AllSixPhasesRunInOrderWithTheirState()
    {
        var hooks = _bundle.Spec.Hooks!;
        hooks.Prestart = [Logging("prestart")];
        hooks.CreateRuntime = [Logging("createRuntime")];
        hooks.CreateContainer = [Logging("createContainer")];
        hooks.Poststart = [Logging("poststart")];
        hooks.Poststop = [Logging("poststop")];
        // startContainer runs in the container: its path and the log path resolve in the rootfs.
        File.WriteAllText(Path.Combine(_bundle.Rootfs, "start-hook.sh"), "#!/bin/sh\nsleep 0.3; printf 'startContainer ' >> /hooks.log; cat >> /hooks.log; echo >> /hooks.log\n");
        Leftovers.Chmod("755", Path.Combine(_bundle.Rootfs, "start-hook.sh"));
        hooks.StartContainer = [new Hook { Path = "/start-hook.sh" }];
        _bundle.Spec.Process!.Args = ["sleep", "1000"];

        var id = _bundle.NewId("hooks");
        var create = _bundle.Create(id);
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal(["prestart", "createRuntime", "createContainer"], Entries().Select(e => e.Phase));
        var start = _bundle.Runtime("start", id);
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Equal(["prestart", "createRuntime", "createContainer", "startContainer", "poststart"], Entries().Select(e => e.Phase));
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);

        var entries = Entries();
        Assert.Equal(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"], entries.Select(e => e.Phase));
        var expectedStatus = new Dictionary<string, string>
        {
            ["prestart"] = "creating", ["createRuntime"] = "creating", ["createContainer"] = "creating",
            ["startContainer"] = "created", ["poststart"] = "running", ["poststop"] = "stopped",
        };
        foreach (var (phase, state) in entries)
        {
            Assert.Equal(id, state.GetProperty("id").GetString());
            Assert.Equal(_bundle.Directory, state.GetProperty("bundle").GetString());
            Assert.False(string.IsNullOrEmpty(state.GetProperty("ociVersion").GetString()), phase);
            Assert.True(expectedStatus[phase] == state.GetProperty("status").GetString(), $"{phase}: status {state.GetProperty("status")}");
            if (phase != "poststop")
                Assert.True(state.GetProperty("pid").GetInt32() > 0, $"{phase}: pid {state.GetProperty("pid")}");
        }
    }

    [ContainerFact]
    public void FailingCreateRuntimeHookFailsCreateAndLeavesNothing()
    {
        _bundle.Spec.Hooks!.CreateRuntime = [Failing()];
        _bundle.Spec.Hooks.Poststop = [Logging("poststop")];
        var id = _bundle.NewId("hooks");
        _bundle.AssertFailedCleanly(id, _bundle.Create(id), "createRuntime");
        Assert.False(File.Exists(_log), "poststop ran for a container that was never created");
    }

    [ContainerFact]
    public void FailingPrestartAndCreateContainerHooksFailCreate()
    {
        foreach (var phase in new[] { "prestart", "createContainer" })
        {
            _bundle.Spec.Hooks = phase == "prestart" ? new Hooks { Prestart = [Failing()] } : new Hooks { CreateContainer = [Failing()] };
            var id = _bundle.NewId("hooks");
            var create = _bundle.Create(id);
            Assert.NotEqual(0, create.ExitCode);
            Assert.Contains(phase, Leftovers.SingleLine(create.Stderr));
            Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
            Assert.Empty(Leftovers.CgroupDirs(id));
        }
    }

    [ContainerFact]
    public void HookExceedingItsTimeoutIsKilledAndFailsCreate()
    {
        var marker = Path.Combine(_bundle.Directory, "hook-survived");
        _bundle.Spec.Hooks!.CreateRuntime = [Failing($"sleep 5; touch {marker}", timeout: 1)];
        var id = _bundle.NewId("hooks");
        var started = Environment.TickCount64;
        var create = _bundle.Create(id);
        Assert.True(Environment.TickCount64 - started < 4_000, "create waited for the hook past its timeout");
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("timed out", Leftovers.SingleLine(create.Stderr));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
        Thread.Sleep(5_500);
        Assert.False(File.Exists(marker), "the timed-out hook was not killed");
    }

    [ContainerFact]
    public void FailingPoststartOnlyWarns()
    {
        _bundle.Spec.Hooks!.Poststart = [Failing(), Logging("poststart")];
        _bundle.Spec.Process!.Args = ["sleep", "1000"];
        var id = _bundle.NewId("hooks");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        var start = _bundle.Runtime("start", id);
        Assert.Equal(0, start.ExitCode);
        Assert.Contains("poststart", Leftovers.SingleLine(start.Stderr));
        Assert.Contains("warning", start.Stderr);
        // The remaining hooks still run and the container keeps running.
        Assert.Equal(["poststart"], Entries().Select(e => e.Phase));
        Assert.Contains("\"running\"", _bundle.Runtime("state", id).Stdout);
    }

    [ContainerFact]
    public void FailingPoststopWarnsAndDeleteSucceeds()
    {
        _bundle.Spec.Hooks!.Poststop = [Failing(), Logging("poststop")];
        var id = _bundle.NewId("hooks");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        var delete = _bundle.Runtime("delete", "--force", id);
        Assert.Equal(0, delete.ExitCode);
        Assert.Contains("poststop", Leftovers.SingleLine(delete.Stderr));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
        Assert.Equal(["poststop"], Entries().Select(e => e.Phase));
    }

    [ContainerFact]
    public void FailingStartContainerHookStopsTheContainerBeforeItsProgram()
    {
        var marker = Path.Combine(_bundle.Rootfs, "program-ran");
        _bundle.Spec.Hooks!.StartContainer = [new Hook { Path = "/bin/false" }];
        _bundle.Spec.Process!.Args = ["touch", "/program-ran"];
        var id = _bundle.NewId("hooks");
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        _bundle.Runtime("start", id);
        LifecycleTests.WaitFor(() => _bundle.Runtime("state", id).Stdout.Contains("\"stopped\""));
        Assert.False(File.Exists(marker), "the program ran although a startContainer hook failed");
        Assert.Contains("/bin/false", File.ReadAllText(Path.Combine(_bundle.Directory, $"{id}.err")));
    }
}
