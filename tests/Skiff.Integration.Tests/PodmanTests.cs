using System.Text.Json;

namespace Skiff.Integration.Tests;

/// <summary>
/// podman 4.3 (through conmon) drives bin/skiff-runtime: create --bundle --pid-file, start, state,
/// kill, delete --force, exec --process --detach, with --log-format=json --log FILE for errors.
/// Every test gets its own podman storage, run root, tmpdir and containers.conf, so the host's
/// podman state is never touched, and imports a busybox-static rootfs as its image.
/// </summary>
public sealed class PodmanTests : IDisposable
{
    private const string Image = "localhost/skiff-busybox:test";

    private readonly string _dir;
    private readonly string _storage;
    private readonly string _runRoot;
    private readonly string _tmp;
    private readonly string _config;

    public PodmanTests()
    {
        _dir = Directory.CreateTempSubdirectory("skiff-podman-").FullName;
        _storage = Path.Combine(_dir, "storage");
        _runRoot = Path.Combine(_dir, "run");
        _tmp = Path.Combine(_dir, "tmp");
        _config = Path.Combine(_dir, "containers.conf");
        // podman's default ulimits (nofile 1048576) exceed this machine's hard limits, and no
        // runtime can raise them without CAP_SYS_RESOURCE. No event log outside our directory.
        File.WriteAllText(_config, """
            [containers]
            default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

            [engine]
            events_logger = "none"
            """);
        try
        {
            var tar = BuildBusyboxTar();
            var import = Podman("import", tar, Image);
            Assert.True(import.ExitCode == 0, import.ToString());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    [ContainerFact]
    public void RunRemoveEchoes()
    {
        var result = Podman(["run", "--rm", .. RunFlags, Image, "echo", "hi"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hi\n", result.Stdout);
        Assert.Equal("", Podman("ps", "-a", "-q").Stdout.Trim());
    }

    [ContainerFact]
    public void DetachedContainerExecStopRemove()
    {
        var run = Podman(["run", "-d", .. RunFlags, Image, "sleep", "1000"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var id = run.Stdout.Trim();
        Assert.Equal("running", Inspect(id).GetProperty("Status").GetString());

        var exec = Podman("exec", id, "sh", "-c", "echo from-exec; cat /proc/1/cmdline");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("from-exec\nsleep\01000\0", exec.Stdout);
        Assert.Equal(3, Podman("exec", id, "sh", "-c", "exit 3").ExitCode);

        // sleep as pid 1 ignores SIGTERM: podman falls back to SIGKILL after the timeout.
        var stop = Podman("stop", "-t", "1", id);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        var state = Inspect(id);
        Assert.Equal("exited", state.GetProperty("Status").GetString());
        Assert.Equal(137, state.GetProperty("ExitCode").GetInt32());

        var rm = Podman("rm", id);
        Assert.True(rm.ExitCode == 0, rm.ToString());
        Assert.Equal("", Podman("ps", "-a", "-q").Stdout.Trim());
    }

    [ContainerFact]
    public void TmpfsAndReadOnlyRootfs()
    {
        // Both give skiff-runtime tmpfs mounts with runc's tmpcopyup option: the image's /etc shows through
        // the new tmpfs, and with --read-only podman adds writable tmpfs on /tmp, /var/tmp and /run.
        string[] flags = [.. RunFlags, "--read-only", "--tmpfs", "/etc"];
        var result = Podman(["run", "--rm", .. flags, Image, "sh", "-c",
            "grep -c root /etc/passwd; grep -c '^tmpfs /etc ' /proc/mounts; touch /tmp/x /run/x /etc/x && echo writable; touch /bin/x || echo read-only"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("1\n1\nwritable\nread-only\n", result.Stdout);

        var run = Podman(["run", "-d", .. flags, Image, "sleep", "1000"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var id = run.Stdout.Trim();
        var exec = Podman("exec", id, "sh", "-c", "touch /tmp/from-exec && cat /etc/group");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("root:x:0:\n", exec.Stdout);
        Assert.Contains(Directory.EnumerateDirectories("/sys/fs/cgroup"), hierarchy => Directory.Exists(Path.Combine(hierarchy, "libpod_parent", $"libpod-{id}")));
        Assert.Equal(0, Podman("kill", id).ExitCode);
        LifecycleTests.WaitFor(() => Inspect(id).GetProperty("Status").GetString() == "exited");
        Assert.Equal(137, Inspect(id).GetProperty("ExitCode").GetInt32());
        Assert.Equal(0, Podman("rm", id).ExitCode);
        Assert.Equal("", Podman("ps", "-a", "-q").Stdout.Trim());
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(id));
        Assert.DoesNotContain(Directory.EnumerateDirectories("/sys/fs/cgroup"), hierarchy => Directory.Exists(Path.Combine(hierarchy, "libpod_parent", $"libpod-{id}")));
    }

    [ContainerFact]
    public void RuntimeErrorReachesPodman()
    {
        // podman reads create errors from the runtime's --log file (json); a limit this host
        // cannot grant must come back as our message, not as a cleanup error.
        var result = Podman(["run", "--rm", .. RunFlags, "--ulimit", "nofile=30000:30000", Image, "true"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("cannot set RLIMIT_NOFILE to 30000:30000", result.Stderr);
        Assert.DoesNotContain("does not exist", result.Stderr);
        Assert.Equal("", Podman("ps", "-a", "-q").Stdout.Trim());
    }

    /// <summary>
    /// seccomp=unconfined: skiff-runtime does not implement linux.seccomp yet and rejects podman's
    /// default profile. --network none: no bridge or firewall rules on the host for these tests.
    /// </summary>
    private static readonly string[] RunFlags = ["--pull", "never", "--network", "none", "--security-opt", "seccomp=unconfined"];

    private JsonElement Inspect(string id)
    {
        var result = Podman("inspect", "--format", "{{json .State}}", id);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    private RunResult Podman(params string[] args)
    {
        string[] global = ["--root", _storage, "--runroot", _runRoot, "--tmpdir", _tmp, "--cgroup-manager", "cgroupfs", "--runtime", Repo.Runtime];
        return ProcessRunner.Run(PodmanPath, [.. global, .. args], null, _dir, timeoutMs: 120_000,
            environment: new() { ["CONTAINERS_CONF"] = _config });
    }

    private static string PodmanPath =>
        File.Exists("/usr/bin/podman") ? "/usr/bin/podman" : throw new InvalidOperationException("podman is not installed (make deps-test)");

    /// <summary>A rootfs tarball with busybox-static and its applets, the way `podman import` wants it.</summary>
    private string BuildBusyboxTar()
    {
        var rootfs = Path.Combine(_dir, "rootfs");
        foreach (var dir in new[] { "bin", "proc", "sys", "dev", "etc", "tmp", "root" })
            Directory.CreateDirectory(Path.Combine(rootfs, dir));
        File.Copy(Repo.Busybox, Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in ProcessRunner.Run(Repo.Busybox, ["--list"], null, "/").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (applet != "busybox")
                File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\n");
        var tar = Path.Combine(_dir, "busybox.tar");
        var result = ProcessRunner.Run("tar", ["-C", rootfs, "-cf", tar, "."], null, _dir);
        Assert.True(result.ExitCode == 0, result.ToString());
        return tar;
    }

    public void Dispose()
    {
        // Containers first (they hold cgroups and mounts), then the whole storage; both even if
        // the test failed half way. system reset also unmounts the storage driver's mounts.
        try
        {
            Podman("rm", "--all", "--force", "--time", "0");
            Podman("system", "reset", "--force");
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
        }
        UnmountBelow(_dir);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Lazily unmounts whatever podman or the runtime left mounted under <paramref name="dir"/>.</summary>
    private static void UnmountBelow(string dir)
    {
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " "))
            .Where(point => point == dir || point.StartsWith(dir + "/", StringComparison.Ordinal))
            .OrderByDescending(point => point.Length);
        foreach (var point in mounts)
            ProcessRunner.Run("umount", ["-l", point], null, "/");
    }
}
