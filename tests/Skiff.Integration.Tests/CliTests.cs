using System.Text.Json;

namespace Skiff.Integration.Tests;

/// <summary>The runc-compatible command line: usage, help, spec, features, ps, kill --all, logs.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [ContainerFact]
    public void UnknownCommandPrintsUsageAndFails()
    {
        var result = _bundle.Runtime("frobnicate");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("unknown command \"frobnicate\"", result.Stderr);
        Assert.Contains("usage: skiff-runtime", result.Stderr);
    }

    [ContainerFact]
    public void EveryCommandHasHelp()
    {
        foreach (var command in new[] { "create", "start", "run", "state", "list", "kill", "delete", "exec", "ps", "spec", "features" })
        {
            var help = _bundle.Runtime(command, "--help");
            Assert.True(help.ExitCode == 0, $"{command}: {help}");
            Assert.StartsWith($"usage: skiff-runtime {command}", help.Stdout);
        }
    }

    [ContainerFact]
    public void MissingArgumentsAndUnknownFlagsAreUsageErrors()
    {
        var missing = _bundle.Runtime("start");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("expected CONTAINER_ID", missing.Stderr);
        var flag = _bundle.Runtime("create", "--frob", "x");
        Assert.Equal(1, flag.ExitCode);
        Assert.Contains("unknown flag --frob", flag.Stderr);
    }

    [ContainerFact]
    public void VersionNamesTheSpecVersion()
    {
        var version = _bundle.Runtime("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Contains("skiff-runtime version", version.Stdout);
        Assert.Contains("spec: 1.", version.Stdout);
    }

    [ContainerFact]
    public void SpecWritesARunnableConfigAndRefusesToOverwrite()
    {
        var dir = Directory.CreateTempSubdirectory("skiff-spec-").FullName;
        try
        {
            Assert.Equal(0, _bundle.Runtime("spec", "--bundle", dir).ExitCode);
            var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))).RootElement;
            Assert.Equal("sh", config.GetProperty("process").GetProperty("args")[0].GetString());
            Assert.Equal("rootfs", config.GetProperty("root").GetProperty("path").GetString());
            var again = _bundle.Runtime("spec", "--bundle", dir);
            Assert.NotEqual(0, again.ExitCode);
            Assert.Contains("already exists", again.Stderr);

            File.Delete(Path.Combine(dir, "config.json"));
            Assert.Equal(0, _bundle.Runtime("spec", "--rootless", "--bundle", dir).ExitCode);
            var rootless = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))).RootElement;
            Assert.Contains(rootless.GetProperty("linux").GetProperty("namespaces").EnumerateArray(), n => n.GetProperty("type").GetString() == "user");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [ContainerFact]
    public void FeaturesDescribeThisRuntime()
    {
        var features = JsonDocument.Parse(_bundle.Runtime("features").Stdout).RootElement;
        Assert.Equal("1.0.0", features.GetProperty("ociVersionMin").GetString());
        var linux = features.GetProperty("linux");
        Assert.Contains(linux.GetProperty("namespaces").EnumerateArray(), n => n.GetString() == "time");
        Assert.True(linux.GetProperty("seccomp").GetProperty("enabled").GetBoolean());
        Assert.Contains(features.GetProperty("hooks").EnumerateArray(), h => h.GetString() == "startContainer");
    }

    [ContainerFact]
    public void PsTableAndKillAllReachEveryProcessOfTheContainer()
    {
        var id = _bundle.NewId();
        _bundle.Spec.Process!.Args = ["sh", "-c", "sleep 100 & sleep 100 & wait"];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        LifecycleTests.WaitFor(() => _bundle.Pids(id).Count == 3);
        var pids = _bundle.Pids(id);

        // A forked child shows the shell's command line until it has exec'd sleep: under load that takes a while.
        string[] lines = [];
        LifecycleTests.WaitFor(() =>
        {
            var table = _bundle.Runtime("ps", id);
            Assert.Equal(0, table.ExitCode);
            lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return lines.Count(l => l.TrimEnd().EndsWith(" sleep 100", StringComparison.Ordinal)) == 2;
        });
        Assert.Contains("PID", lines[0]);
        Assert.Equal(3, lines.Length - 1);
        Assert.Equal(2, lines.Count(l => l.TrimEnd().EndsWith(" sleep 100", StringComparison.Ordinal)));

        // SIGTERM to everything: the shell (pid 1) ignores it without a handler, the sleeps die.
        Assert.Equal(0, _bundle.Runtime("kill", "--all", id, "TERM").ExitCode);
        LifecycleTests.WaitFor(() => pids.Count(p => !TestBundle.ProcessGone(p)) <= 1);
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);
    }

    [ContainerFact]
    public void ErrorsGoToTheJsonLogAsWell()
    {
        var log = Path.Combine(_bundle.Directory, "runtime.log");
        var result = _bundle.Runtime("--log", log, "--log-format", "json", "state", "no-such-container");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var entry = JsonDocument.Parse(File.ReadAllLines(log).Single()).RootElement;
        Assert.Equal("error", entry.GetProperty("level").GetString());
        Assert.Contains("does not exist", entry.GetProperty("msg").GetString());
    }
}
