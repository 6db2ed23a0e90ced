using System.Text.Json;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>exec into a running container: its namespaces and cgroups, the flags, the failures.</summary>
public sealed class ExecTests : IDisposable
{
    private readonly TestBundle _bundle = new();
    private readonly string _id;

    public ExecTests()
    {
        _id = _bundle.NewId("exec");
        _bundle.Spec.Hostname = "exec-host";
        _bundle.Spec.Process!.Args = ["sleep", "1000"];
        _bundle.Spec.Root!.Readonly = false;
    }

    public void Dispose() => _bundle.Dispose();

    private int StartContainer()
    {
        var pidFile = Path.Combine(_bundle.Directory, "init.pid");
        var create = _bundle.Create(_id, "--pid-file", pidFile);
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal(0, _bundle.Runtime("start", _id).ExitCode);
        return int.Parse(File.ReadAllText(pidFile));
    }

    private RunResult Exec(params string[] args) => _bundle.Runtime(["exec", .. args]);

    private RunResult ExecOk(params string[] args)
    {
        var result = Exec(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [ContainerFact]
    public void ExecRunsInTheContainersNamespacesAndCgroups()
    {
        int init = StartContainer();
        var result = ExecOk(_id, "sh", "-c", "hostname; ps -o pid,args | awk '$1 == 1 {print $2, $3}'; cat /proc/self/cgroup; echo ---; for ns in mnt net uts pid; do readlink /proc/self/ns/$ns; done");
        var parts = result.Stdout.Split("---\n");
        var lines = parts[0].Split('\n');
        Assert.Equal("exec-host", lines[0]);
        Assert.Equal("sleep 1000", lines[1]);
        var expectedCgroups = File.ReadAllText($"/proc/{init}/cgroup");
        Assert.Equal(expectedCgroups, string.Join('\n', lines.Skip(2)));
        var expectedNs = string.Concat(new[] { "mnt", "net", "uts", "pid" }.Select(ns => new FileInfo($"/proc/{init}/ns/{ns}").LinkTarget + "\n"));
        Assert.Equal(expectedNs, parts[1]);
    }

    [ContainerFact]
    public void ExecExitCodeIsPropagated()
    {
        StartContainer();
        Assert.Equal(0, Exec(_id, "true").ExitCode);
        Assert.Equal(1, Exec(_id, "false").ExitCode);
        Assert.Equal(42, Exec(_id, "sh", "-c", "exit 42").ExitCode);
    }

    [ContainerFact]
    public void ExecIntoACreatedContainerWorks()
    {
        var create = _bundle.Create(_id);
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("exec-host\n", ExecOk(_id, "hostname").Stdout);
    }

    [ContainerFact]
    public void EnvCwdAndUserFlags()
    {
        StartContainer();
        Directory.CreateDirectory(Path.Combine(_bundle.Rootfs, "srv"));
        var result = ExecOk("--env", "FOO=bar", "--env", "PATH=/bin", "--cwd", "/srv", "--user", "1000:1001", _id,
            "sh", "-c", "echo $FOO; echo $PATH; pwd; id -u; id -g");
        Assert.Equal("bar\n/bin\n/srv\n1000\n1001\n", result.Stdout);
    }

    [ContainerFact]
    public void CapAndNoNewPrivsFlags()
    {
        StartContainer();
        var without = ProcessTests.StatusFields(ExecOk(_id, "cat", "/proc/self/status").Stdout);
        Assert.Equal(0UL, Convert.ToUInt64(without["CapEff"], 16) & ProcessTests.MaskOf("CAP_SYS_ADMIN"));
        var with = ProcessTests.StatusFields(ExecOk("--cap", "CAP_SYS_ADMIN", _id, "cat", "/proc/self/status").Stdout);
        Assert.NotEqual(0UL, Convert.ToUInt64(with["CapEff"], 16) & ProcessTests.MaskOf("CAP_SYS_ADMIN"));

        _bundle.Spec.Process!.NoNewPrivileges = false;
        // The container's own setting is the base; --no-new-privs turns it on for this process.
        var other = _bundle.NewId("exec");
        _bundle.Spec.Process.Args = ["sleep", "1000"];
        Assert.Equal(0, _bundle.Create(other).ExitCode);
        Assert.Equal("0", ProcessTests.StatusFields(ExecOk(other, "cat", "/proc/self/status").Stdout)["NoNewPrivs"]);
        Assert.Equal("1", ProcessTests.StatusFields(ExecOk("--no-new-privs", other, "cat", "/proc/self/status").Stdout)["NoNewPrivs"]);
    }

    [ContainerFact]
    public void ProcessJsonDescribesTheWholeProcess()
    {
        StartContainer();
        var process = new Process
        {
            Args = ["sh", "-c", "echo $ONLY; pwd; id -u; env | wc -l"],
            Env = ["ONLY=from-process-json", "PATH=/bin"],
            Cwd = "/tmp",
            User = new User { UID = 7, GID = 7 },
        };
        var path = Path.Combine(_bundle.Directory, "process.json");
        File.WriteAllText(path, JsonSerializer.Serialize(process, OciJsonContext.Default.Process));
        var result = ExecOk("--process", path, _id);
        // sh adds PWD and SHLVL to the two configured variables.
        Assert.Equal("from-process-json\n/tmp\n7\n4\n", result.Stdout);
    }

    [ContainerFact]
    public void DetachWithPidFile()
    {
        StartContainer();
        var pidFile = Path.Combine(_bundle.Directory, "exec.pid");
        var result = ProcessRunner.Run("/bin/sh",
            ["-c", "exec \"$0\" \"$@\" >/dev/null 2>&1 </dev/null", Repo.Runtime, "--root", _bundle.StateRoot, "exec", "--detach", "--pid-file", pidFile, _id, "sleep", "777"],
            null, _bundle.Directory);
        Assert.Equal(0, result.ExitCode);
        int pid = int.Parse(File.ReadAllText(pidFile));
        Assert.Equal("sleep\0777\0", File.ReadAllText($"/proc/{pid}/cmdline"));
        Assert.Contains(pid.ToString(), _bundle.Runtime("ps", "--format", "json", _id).Stdout);
    }

    [ContainerFact]
    public void PreserveFdsPassesExactlyTheGivenFds()
    {
        StartContainer();
        var secret = Path.Combine(_bundle.Directory, "secret");
        File.WriteAllText(secret, "through fd 3\n");
        var result = ProcessRunner.Run("/bin/sh",
            ["-c", "exec 3<\"$SECRET\" 4<\"$SECRET\" 5<\"$SECRET\"; exec \"$0\" \"$@\"", Repo.Runtime, "--root", _bundle.StateRoot, "exec", "--preserve-fds", "1", _id,
             // test(1) is a shell builtin: it opens nothing that could be mistaken for a leaked fd.
             "sh", "-c", "cat <&3; for fd in 3 4 5 6 7 8 9 10; do [ -e /proc/self/fd/$fd ] && echo open $fd; done; true"],
            null, _bundle.Directory, environment: new() { ["SECRET"] = secret });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("through fd 3\nopen 3\n", result.Stdout);
    }

    [ContainerFact]
    public void WithoutPreserveFdsNothingAbove2IsOpen()
    {
        StartContainer();
        var result = ProcessRunner.Run("/bin/sh",
            ["-c", "exec 3</dev/null 4</dev/null; exec \"$0\" \"$@\"", Repo.Runtime, "--root", _bundle.StateRoot, "exec", _id,
             "sh", "-c", "for fd in 3 4 5 6 7 8 9 10; do [ -e /proc/self/fd/$fd ] && echo open $fd; done; true"],
            null, _bundle.Directory);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stdout);
    }

    [ContainerFact]
    public void ExecIntoAStoppedContainerFailsClearly()
    {
        _bundle.Spec.Process!.Args = ["true"];
        StartContainer();
        LifecycleTests.WaitFor(() => _bundle.Runtime("state", _id).Stdout.Contains("\"stopped\""));
        var result = Exec(_id, "true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("stopped", Leftovers.SingleLine(result.Stderr));
    }

    [ContainerFact]
    public void ExecOfAMissingProgramFailsClearly()
    {
        StartContainer();
        var result = Exec(_id, "nope");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("exec: \"nope\": executable file not found in $PATH", Leftovers.SingleLine(result.Stderr));
    }

    [ContainerFact]
    public void ExecWithAMissingCwdFailsClearly()
    {
        StartContainer();
        var result = Exec("--cwd", "/does/not/exist", _id, "true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/does/not/exist", Leftovers.SingleLine(result.Stderr));
    }

    [ContainerFact]
    public void ExecIntoAnUnknownContainerFails()
    {
        var result = Exec("no-such-container", "true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no-such-container", Leftovers.SingleLine(result.Stderr));
    }
}
