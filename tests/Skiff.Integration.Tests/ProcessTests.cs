using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>The container process as config.json describes it: capabilities, rlimits, identity, cwd, env, exit codes.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    // Numbers from linux/capability.h, independent of the runtime's own table.
    private static readonly Dictionary<string, int> CapNumbers = new()
    {
        ["CAP_CHOWN"] = 0, ["CAP_DAC_OVERRIDE"] = 1, ["CAP_FOWNER"] = 3, ["CAP_KILL"] = 5, ["CAP_SETGID"] = 6,
        ["CAP_SETUID"] = 7, ["CAP_NET_BIND_SERVICE"] = 10, ["CAP_NET_RAW"] = 13, ["CAP_SYS_CHROOT"] = 18,
        ["CAP_SYS_ADMIN"] = 21, ["CAP_AUDIT_WRITE"] = 29,
    };

    internal static ulong MaskOf(params string[] names) => names.Aggregate(0UL, (mask, name) => mask | (1UL << CapNumbers[name]));

    internal static Dictionary<string, string> StatusFields(string output)
    {
        var fields = new Dictionary<string, string>();
        foreach (var line in output.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon > 0)
                fields[line[..colon]] = line[(colon + 1)..].Trim();
        }
        return fields;
    }

    private static ulong Hex(string value) => Convert.ToUInt64(value, 16);

    private RunResult RunOk(params string[] command)
    {
        var result = _bundle.Run(command);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [ContainerFact]
    public void CapabilitySetsAreTheConfiguredOnes()
    {
        string[] bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", "CAP_AUDIT_WRITE"];
        string[] permitted = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"];
        string[] inheritable = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
        string[] ambient = ["CAP_NET_BIND_SERVICE"];
        // Root with no_new_privs: the kernel keeps exactly the permitted set across execve
        // (effective = permitted for root), so effective is configured equal to permitted.
        _bundle.Spec.Process!.NoNewPrivileges = true;
        _bundle.Spec.Process.Capabilities = new LinuxCapabilities
        {
            Bounding = [.. bounding], Permitted = [.. permitted], Effective = [.. permitted],
            Inheritable = [.. inheritable], Ambient = [.. ambient],
        };
        var status = StatusFields(RunOk("cat", "/proc/self/status").Stdout);
        Assert.Equal(MaskOf(bounding), Hex(status["CapBnd"]));
        Assert.Equal(MaskOf(permitted), Hex(status["CapPrm"]));
        Assert.Equal(MaskOf(permitted), Hex(status["CapEff"]));
        Assert.Equal(MaskOf(inheritable), Hex(status["CapInh"]));
        Assert.Equal(MaskOf(ambient), Hex(status["CapAmb"]));
    }

    [ContainerFact]
    public void EmptyCapabilitySetsGiveZeroMasks()
    {
        _bundle.Spec.Process!.Capabilities = new LinuxCapabilities { Bounding = [], Permitted = [], Effective = [], Inheritable = [], Ambient = [] };
        var status = StatusFields(RunOk("cat", "/proc/self/status").Stdout);
        foreach (var set in new[] { "CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb" })
            Assert.True(Hex(status[set]) == 0, $"{set} is {status[set]}");
    }

    [ContainerFact]
    public void NonRootUserKeepsAmbientCapabilities()
    {
        string[] caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
        _bundle.Spec.Process!.User = new User { UID = 1000, GID = 1000 };
        _bundle.Spec.Process.Capabilities = new LinuxCapabilities
        {
            Bounding = [.. caps], Permitted = [.. caps], Effective = [.. caps], Inheritable = [.. caps], Ambient = [.. caps],
        };
        var status = StatusFields(RunOk("cat", "/proc/self/status").Stdout);
        Assert.StartsWith("1000\t", status["Uid"]);
        Assert.Equal(MaskOf(caps), Hex(status["CapAmb"]));
        Assert.Equal(MaskOf(caps), Hex(status["CapEff"]));
        Assert.Equal(MaskOf(caps), Hex(status["CapPrm"]));
    }

    [ContainerFact]
    public void NoNewPrivilegesIsSetOnlyWhenConfigured()
    {
        _bundle.Spec.Process!.NoNewPrivileges = true;
        Assert.Equal("1", StatusFields(RunOk("cat", "/proc/self/status").Stdout)["NoNewPrivs"]);
        _bundle.Spec.Process.NoNewPrivileges = false;
        Assert.Equal("0", StatusFields(RunOk("cat", "/proc/self/status").Stdout)["NoNewPrivs"]);
    }

    [ContainerFact]
    public void RlimitNofileIsApplied()
    {
        _bundle.Spec.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = 1024, Hard = 2048 }];
        var result = RunOk("sh", "-c", "ulimit -n; ulimit -Hn; grep 'Max open files' /proc/self/limits");
        var lines = result.Stdout.Split('\n');
        Assert.Equal("1024", lines[0]);
        Assert.Equal("2048", lines[1]);
        Assert.Equal(["Max", "open", "files", "1024", "2048", "files"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private static ulong HostNofileHardLimit()
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files"));
        return ulong.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4]);
    }

    [ContainerFact]
    public void RlimitAboveTheHostHardLimitFailsAtCreateWithOneLine()
    {
        var hard = HostNofileHardLimit();
        Assert.True(hard < 1048576, "this test needs a host without CAP_SYS_RESOURCE and nofile hard < 1048576");
        _bundle.Spec.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = 1048576, Hard = 1048576 }];
        var id = _bundle.NewId();
        var create = _bundle.Create(id);
        Assert.NotEqual(0, create.ExitCode);
        var line = Leftovers.SingleLine(create.Stderr);
        Assert.Contains("RLIMIT_NOFILE", line);
        Assert.Contains(hard.ToString(), line);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
        Assert.Empty(Leftovers.CgroupDirs(id));
    }

    [ContainerFact]
    public void UserGroupsAndAdditionalGids()
    {
        _bundle.Spec.Process!.User = new User { UID = 1234, GID = 2345, AdditionalGids = [10, 20] };
        var result = RunOk("sh", "-c", "id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups):' /proc/self/status");
        var lines = result.Stdout.Split('\n');
        Assert.Equal("1234", lines[0]);
        Assert.Equal("2345", lines[1]);
        Assert.Equal(["10", "20", "2345"], lines[2].Split(' ').Order());
        var status = StatusFields(result.Stdout);
        Assert.Equal(["1234", "1234", "1234", "1234"], status["Uid"].Split('\t'));
        Assert.Equal(["2345", "2345", "2345", "2345"], status["Gid"].Split('\t'));
        Assert.Equal(["10", "20"], status["Groups"].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [ContainerFact]
    public void NoAdditionalGidsMeansNoSupplementaryGroups()
    {
        _bundle.Spec.Process!.User = new User { UID = 0, GID = 0 };
        var status = StatusFields(RunOk("cat", "/proc/self/status").Stdout);
        Assert.Equal("", status["Groups"]);
    }

    [ContainerFact]
    public void UmaskIsAppliedToNewFiles()
    {
        _bundle.Spec.Root!.Readonly = false;
        _bundle.Spec.Process!.User.Umask = Convert.ToUInt32("077", 8);
        var result = RunOk("sh", "-c", "umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d");
        Assert.Equal("0077\n600\n700\n", result.Stdout);
    }

    [ContainerFact]
    public void DefaultUmaskIs022()
    {
        _bundle.Spec.Process!.User.Umask = null;
        Assert.Equal("0022\n", RunOk("sh", "-c", "umask").Stdout);
    }

    [ContainerFact]
    public void CwdIsTheConfiguredDirectory()
    {
        _bundle.Spec.Process!.Cwd = "/tmp";
        Assert.Equal("/tmp\n", RunOk("pwd").Stdout);
    }

    [ContainerFact]
    public void MissingCwdIsCreatedInTheRootfsAsRuncDoes()
    {
        // runc's default spec has a read-only root: the directory is made before it turns read-only.
        Assert.True(_bundle.Spec.Root!.Readonly);
        _bundle.Spec.Process!.Cwd = "/work/new";
        Assert.Equal("/work/new\n", RunOk("pwd").Stdout);
        Assert.True(Directory.Exists(Path.Combine(_bundle.Rootfs, "work", "new")));
    }

    [ContainerFact]
    public void CwdThatIsAFileFailsClearly()
    {
        File.WriteAllText(Path.Combine(_bundle.Rootfs, "etc", "afile"), "");
        _bundle.Spec.Process!.Cwd = "/etc/afile";
        var result = _bundle.Run("pwd");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/etc/afile", Leftovers.SingleLine(result.Stderr));
    }

    [ContainerFact]
    public void EnvironmentIsExactlyTheConfiguredOne()
    {
        _bundle.Spec.Process!.Env = ["PATH=/bin", "FOO=bar baz", "EMPTY="];
        // env(1) itself: a shell would add PWD/SHLVL of its own.
        var result = RunOk("env");
        Assert.Equal(["EMPTY=", "FOO=bar baz", "PATH=/bin"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [ContainerFact]
    public void ProgramIsLookedUpInTheContainersPath()
    {
        var custom = Path.Combine(_bundle.Rootfs, "custom", "bin");
        Directory.CreateDirectory(custom);
        File.WriteAllText(Path.Combine(custom, "hello-custom"), "#!/bin/sh\necho found in custom\n");
        Leftovers.Chmod("755", Path.Combine(custom, "hello-custom"));
        _bundle.Spec.Process!.Env = ["PATH=/custom/bin"];
        Assert.Equal("found in custom\n", RunOk("hello-custom").Stdout);
    }

    [ContainerFact]
    public void NonExistentProgramFailsAtCreateAndLeavesNothing()
    {
        _bundle.Spec.Process!.Args = ["nope"];
        var id = _bundle.NewId();
        var create = _bundle.Create(id);
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("exec: \"nope\": executable file not found in $PATH", Leftovers.SingleLine(create.Stderr));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
        Assert.Empty(Leftovers.CgroupDirs(id));
    }

    [ContainerFact]
    public void NonExecutableProgramGivesPermissionDenied()
    {
        File.WriteAllText(Path.Combine(_bundle.Rootfs, "bin", "not-exec"), "#!/bin/sh\necho no\n");
        Leftovers.Chmod("644", Path.Combine(_bundle.Rootfs, "bin", "not-exec"));
        _bundle.Spec.Process!.Args = ["/bin/not-exec"];
        var id = _bundle.NewId();
        var create = _bundle.Create(id);
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("permission denied", Leftovers.SingleLine(create.Stderr));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, id)));
    }

    [ContainerFact]
    public void ExitCodesArePropagatedByRun()
    {
        foreach (var code in new[] { 0, 1, 42, 255 })
            Assert.Equal(code, _bundle.Run("sh", "-c", $"exit {code}").ExitCode);
    }

    [ContainerFact]
    public void DetachedRunReturnsZeroAndTheContainerKeepsRunning()
    {
        var id = _bundle.NewId("det");
        _bundle.Spec.Process!.Args = ["sleep", "100"];
        _bundle.WriteConfig(id);
        // stdio on /dev/null: the container inherits it and must not hold our pipes.
        var result = ProcessRunner.Run("/bin/sh",
            ["-c", "exec \"$0\" \"$@\" >/dev/null 2>&1 </dev/null", Repo.Runtime, "--root", _bundle.StateRoot, "run", "-d", "--bundle", _bundle.Directory, id],
            null, _bundle.Directory);
        Assert.Equal(0, result.ExitCode);
        var state = _bundle.Runtime("state", id);
        Assert.Contains("\"running\"", state.Stdout);
        Thread.Sleep(300);
        Assert.Contains("\"running\"", _bundle.Runtime("state", id).Stdout);
        Assert.Equal(0, _bundle.Runtime("delete", "--force", id).ExitCode);
    }

    [ContainerFact]
    public void RunPreserveFdsPassesExactlyTheGivenFds()
    {
        var id = _bundle.NewId("fds");
        _bundle.Spec.Process!.Args = ["sh", "-c", "cat <&3; for fd in 3 4 5 6 7 8 9 10; do [ -e /proc/self/fd/$fd ] && echo open $fd; done; true"];
        _bundle.WriteConfig(id);
        var secret = Path.Combine(_bundle.Directory, "secret");
        File.WriteAllText(secret, "through fd 3\n");
        var result = ProcessRunner.Run("/bin/sh",
            ["-c", "exec 3<\"$SECRET\" 4<\"$SECRET\" 5<\"$SECRET\"; exec \"$0\" \"$@\"", Repo.Runtime, "--root", _bundle.StateRoot, "run", "--preserve-fds", "1", "--bundle", _bundle.Directory, id],
            null, _bundle.Directory, environment: new() { ["SECRET"] = secret });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("through fd 3\nopen 3\n", result.Stdout);
    }
}
