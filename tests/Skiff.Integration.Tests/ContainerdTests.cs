using System.Diagnostics;

namespace Skiff.Integration.Tests;

/// <summary>
/// Debian's containerd drives bin/skiff-runtime through its runc v2 shim, as a containerd user would: `ctr run
/// --runc-binary` with null IO, exec, kill, delete. containerd runs with its own root, state, sockets and config in
/// a temporary directory (restrict_oom_score_adj on, as hosts without CAP_SYS_RESOURCE need), the containers use a
/// busybox rootfs directory (no images, no snapshots) and their cgroups sit under /skiff-test, and everything is
/// stopped and removed afterwards, even when the test fails.
/// </summary>
public sealed class ContainerdTests : IDisposable
{
    private readonly string _dir;
    private readonly string _socket;
    private readonly string _namespace = ContainerHelpers.Unique("skiff");
    private readonly TestBundle _bundle = new();
    private readonly Process _containerd;
    private readonly List<string> _ids = [];

    /// <summary>containerd 1.6 puts its shims' sockets under /run/containerd/s whatever its config says.</summary>
    private readonly bool _hostRunDirExisted = Directory.Exists(ShimSocketRoot);

    private const string ShimSocketRoot = "/run/containerd";

    public ContainerdTests()
    {
        _dir = Directory.CreateTempSubdirectory("skiff-containerd-").FullName;
        _socket = Path.Combine(_dir, "containerd.sock");
        var config = Path.Combine(_dir, "config.toml");
        File.WriteAllText(config, $"""
            version = 2
            root = "{_dir}/root"
            state = "{_dir}/state"
            disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

            [grpc]
              address = "{_socket}"

            [ttrpc]
              address = "{_socket}.ttrpc"

            [plugins."io.containerd.grpc.v1.cri"]
              restrict_oom_score_adj = true
            """);
        var info = new ProcessStartInfo("/usr/bin/containerd") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "--config", config, "--log-level", "warn" })
            info.ArgumentList.Add(arg);
        _containerd = Process.Start(info) ?? throw new InvalidOperationException("cannot start containerd (make deps-test installs it)");
        _containerd.ErrorDataReceived += (_, _) => { };
        _containerd.OutputDataReceived += (_, _) => { };
        _containerd.BeginErrorReadLine();
        _containerd.BeginOutputReadLine();
        try
        {
            LifecycleTests.WaitFor(() => File.Exists(_socket) && Ctr("version").ExitCode == 0);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    [ContainerFact]
    public void ContainersThatExitOrAreKilledAreSeenAndLeaveNothing()
    {
        // Foreground: ctr waits for the task exit the shim reports, and returns its status.
        var exits = NewId();
        var run = Ctr([.. RunFlags(exits), _bundle.Rootfs, exits, "sh", "-c", "exit 3"]);
        Assert.True(run.ExitCode == 3, run.ToString());
        var deleted = Ctr("container", "delete", exits);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());

        var killed = NewId();
        var detached = Ctr([.. RunFlags(killed), "--detach", _bundle.Rootfs, killed, "sleep", "1000"]);
        Assert.True(detached.ExitCode == 0, detached.ToString());
        Assert.Contains("RUNNING", TaskLine(killed));
        var exec = Ctr("task", "exec", "--fifo-dir", FifoDir, "--exec-id", "probe", killed, "sh", "-c", "exit 5");
        Assert.True(exec.ExitCode == 5, exec.ToString());
        var kill = Ctr("task", "kill", "--signal", "SIGKILL", killed);
        Assert.True(kill.ExitCode == 0, kill.ToString());
        LifecycleTests.WaitFor(() => TaskLine(killed).Contains("STOPPED"));
        var deleteTask = Ctr("task", "delete", killed);
        Assert.True(deleteTask.ExitCode == 0, deleteTask.ToString());
        Assert.Contains("exit code 137", deleteTask.Stderr);
        Assert.Equal(0, Ctr("container", "delete", killed).ExitCode);

        // A stopped task: the shim passes kills on to the runtime (CRI sends them after every exit) and understands
        // only runc's answers; anything else is "unknown error after kill" and the task never leaves containerd.
        var stopped = NewId();
        Assert.Equal(0, Ctr([.. RunFlags(stopped), "--detach", _bundle.Rootfs, stopped, "true"]).ExitCode);
        LifecycleTests.WaitFor(() => TaskLine(stopped).Contains("STOPPED"));
        var killAll = Ctr("task", "kill", "--all", "--signal", "SIGKILL", stopped);
        Assert.True(killAll.ExitCode == 0, killAll.ToString());
        Assert.Contains("process already finished: not found", Ctr("task", "kill", "--signal", "SIGKILL", stopped).Stderr);
        Assert.Equal(0, Ctr("task", "delete", stopped).ExitCode);
        Assert.Equal(0, Ctr("container", "delete", stopped).ExitCode);

        // With null IO the runtime's stderr is /dev/null opened read-only: the error must still reach the shim's log.json.
        var failing = NewId();
        var create = Ctr([.. RunFlags(failing), _bundle.Rootfs, failing, "no-such-program"]);
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("OCI runtime create failed: exec: \"no-such-program\": executable file not found in $PATH", create.Stderr);
        Assert.Equal(0, Ctr("container", "delete", failing).ExitCode);

        // CRI with restrict_oom_score_adj asks for containerd's own score from a shim that runs one above it.
        var scored = NewId();
        _bundle.Spec.Root!.Path = _bundle.Rootfs;
        _bundle.Spec.Process!.Args = ["sh", "-c", $"test \"$(cat /proc/self/oom_score_adj)\" = {OwnScore(_containerd.Id)}"];
        _bundle.Spec.Process.OOMScoreAdj = OwnScore(_containerd.Id);
        _bundle.Spec.Linux!.CgroupsPath = $"/skiff-test/{scored}";
        var spec = Path.Combine(_dir, "config.json");
        Skiff.Oci.OciJson.WriteSpec(spec, _bundle.Spec);
        var withScore = Ctr(["run", .. ShimFlags, "--config", spec, scored]);
        Assert.True(withScore.ExitCode == 0, withScore.ToString());
        Assert.Equal(0, Ctr("container", "delete", scored).ExitCode);

        Assert.Equal("", Ctr("task", "ls", "--quiet").Stdout.Trim());
        Assert.Equal("", Ctr("container", "ls", "--quiet").Stdout.Trim());
        LifecycleTests.WaitFor(() => ShimPids().Count == 0);
        foreach (var id in _ids)
        {
            Assert.Empty(Leftovers.CgroupDirs(id));
            Assert.Empty(Leftovers.ProcessesOf(id));
        }
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(_dir) || line.Contains(_bundle.Directory));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_dir, "runc")).SelectMany(Directory.EnumerateDirectories));
    }

    private static int OwnScore(int pid) => int.Parse(File.ReadAllText($"/proc/{pid}/oom_score_adj").Trim());

    private string NewId()
    {
        var id = ContainerHelpers.Unique("ctrd");
        _ids.Add(id);
        return id;
    }

    private string FifoDir => Path.Combine(_dir, "fifo");

    /// <summary>Null IO (the shim hands the runtime a read-only /dev/null), our runtime, its state under our directory.</summary>
    private string[] ShimFlags => ["--null-io", "--fifo-dir", FifoDir, "--runc-binary", Repo.Runtime, "--runc-root", Path.Combine(_dir, "runc")];

    private string[] RunFlags(string id) => ["run", "--rootfs", .. ShimFlags, "--cgroup", $"/skiff-test/{id}"];

    private string TaskLine(string id) => Ctr("task", "ls").Stdout.Split('\n').FirstOrDefault(line => line.StartsWith(id + " ", StringComparison.Ordinal)) ?? "";

    private RunResult Ctr(params string[] args)
        => ProcessRunner.Run("/usr/bin/ctr", ["--address", _socket, "--namespace", _namespace, .. args], null, _dir, timeoutMs: 60_000);

    /// <summary>The shims of this test's containerd: they name its socket on their command line.</summary>
    private List<int> ShimPids()
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("containerd-shim") && cmdline.Contains(_namespace))
                    pids.Add(pid);
            }
            catch (IOException)
            {
            }
        }
        return pids;
    }

    public void Dispose()
    {
        try
        {
            foreach (var id in _ids)
            {
                Ctr("task", "kill", "--all", "--signal", "SIGKILL", id);
                Ctr("task", "delete", "--force", id);
                Ctr("container", "delete", id);
            }
        }
        catch (TimeoutException)
        {
        }
        if (!_containerd.HasExited)
        {
            ContainerHelpers.HostQuiet("kill", "-TERM", _containerd.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!_containerd.WaitForExit(10_000))
                _containerd.Kill();
            _containerd.WaitForExit();
        }
        _containerd.Dispose();
        foreach (var pid in ShimPids())
            ContainerHelpers.HostQuiet("kill", "-9", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Containers the shims left to our runtime root are skiff-runtime's to remove (processes, cgroups).
        var runtimeRoot = Path.Combine(_dir, "runc", _namespace);
        if (Directory.Exists(runtimeRoot))
            foreach (var state in Directory.EnumerateDirectories(runtimeRoot))
                ProcessRunner.Run(Repo.Runtime, ["--root", runtimeRoot, "delete", "--force", Path.GetFileName(state)], null, "/");
        foreach (var point in File.ReadAllLines("/proc/self/mountinfo").Select(line => line.Split(' ')[4])
                     .Where(point => point.StartsWith(_dir + "/", StringComparison.Ordinal)).Reverse())
            ContainerHelpers.HostQuiet("umount", "-l", point);
        foreach (var id in _ids)
            foreach (var cgroup in Leftovers.CgroupDirs(id))
                ContainerHelpers.HostQuiet("rmdir", cgroup);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        if (!_hostRunDirExisted)
            foreach (var dir in new[] { $"{ShimSocketRoot}/s", $"{ShimSocketRoot}/fifo", ShimSocketRoot })
                ContainerHelpers.HostQuiet("rmdir", dir); // only when empty: another containerd may use them
        _bundle.Dispose();
    }
}
