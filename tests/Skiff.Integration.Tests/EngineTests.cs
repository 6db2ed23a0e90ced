using System.Diagnostics;
using System.Text;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;
using Skiff.Interop;

namespace Skiff.Integration.Tests;

/// <summary>The engine's container lifecycle with real containers and monitors, under skiff-runtime and under runc.</summary>
public sealed class EngineTests
{
    public static readonly TheoryData<string> Runtimes = new() { TestEngine.SkiffRuntime, TestEngine.Runc };

    private static (int? Exit, string Stdout, string Stderr) RunAttached(TestEngine engine, string id, string? stdin = null, PendingMonitor? monitor = null)
    {
        using var session = engine.Containers.Start(id, attach: true, monitor: monitor)!;
        if (stdin is not null)
            session.ForwardStdin(new MemoryStream(Encoding.UTF8.GetBytes(stdin)));
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var exit = session.CopyOutput(stdout, stderr);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }

    [ContainerTheory]
    [MemberData(nameof(Runtimes))]
    public void A_foreground_run_streams_its_output_and_ends_with_the_exit_code(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["sh", "-c", "echo out; echo err >&2; exit 3"]);
        var (exit, stdout, stderr) = RunAttached(engine, container.Id);

        Assert.Equal(3, exit);
        Assert.Equal("out\n", stdout);
        Assert.Equal("err\n", stderr);
        Assert.Equal(3, engine.Wait(container.Id));
        var inspect = engine.ContainerQueries.Inspect(container.Name);
        Assert.Equal("exited", inspect.State.Status);
        Assert.Equal(3, inspect.State.ExitCode);
        Assert.False(inspect.State.Running);
        var logs = engine.Logs(container.Id, new LogsRequest()).ToList();
        Assert.Contains(logs, e => e.Stream == "stdout" && e.Text == "out\n");
        Assert.Contains(logs, e => e.Stream == "stderr" && e.Text == "err\n");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, new DirectoryInfo(engine.Options.ContainerDirectory(container.Id)).UnixFileMode);

        engine.Containers.Remove(container.Id);
        engine.AssertGone(container.Id);
    }

    [ContainerTheory]
    [MemberData(nameof(Runtimes))]
    public void Stdin_reaches_the_container_and_its_end_of_file_too(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["sh", "-c", "cat; echo done"], r => r with { Interactive = true });
        var (exit, stdout, _) = RunAttached(engine, container.Id, "hello\nworld\n");
        Assert.Equal(0, exit);
        Assert.Equal("hello\nworld\ndone\n", stdout);
    }

    [ContainerTheory]
    [MemberData(nameof(Runtimes))]
    public void A_detached_container_logs_runs_exec_and_stops_with_its_stop_signal(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done"]);
        Assert.Null(engine.Containers.Start(container.Id));
        TestEngine.WaitFor(() => engine.LogText(container.Id).Contains("ready"), what: "ready in the log");

        var running = Assert.Single(engine.ContainerQueries.List(), c => c.Id == container.Id);
        Assert.Equal(ContainerStatus.Running, running.State.Status);
        Assert.Contains(engine.ContainerQueries.Top(container.Id), p => p.Command.StartsWith("sh -c"));
        Assert.Contains("ready", string.Concat(engine.Logs(container.Id, new LogsRequest { Tail = 1 }).Select(e => e.Text)));

        var output = Path.Combine(engine.Directory, "exec.out");
        var errors = Path.Combine(engine.Directory, "exec.err");
        using (var stdout = OpenForWriting(output))
        using (var stderr = OpenForWriting(errors))
        using (var devNull = RuntimeClient.OpenDevNull())
        {
            var code = engine.ContainerExec.Exec(container.Name, new ExecRequest { Command = ["sh", "-c", "echo $X $(pwd); exit 4"], Env = ["X=from-exec"], WorkingDir = "/tmp" },
                new ExecStdio(devNull, stdout, stderr));
            Assert.Equal(4, code);
            var missing = Assert.Throws<EngineException>(() => engine.ContainerExec.Exec(container.Id, new ExecRequest { Command = ["no-such-program"] }, new ExecStdio(devNull, stdout, stderr)));
            Assert.Equal((ErrorKind.NotFound, true), (missing.Kind, missing.ContainerCommand));
            Assert.Contains("no-such-program", missing.Message);
        }
        Assert.Equal("from-exec /tmp\n", File.ReadAllText(output));

        var stopwatch = Stopwatch.StartNew();
        engine.Containers.Stop(container.Id, timeoutSeconds: 20);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), "the TERM trap should have ended the container before the timeout");
        var stopped = engine.ContainerQueries.Get(container.Id);
        Assert.Equal(ContainerStatus.Exited, stopped.State.Status);
        Assert.Equal(0, stopped.State.ExitCode);
        Assert.Contains("bye", engine.LogText(container.Id));
        Assert.DoesNotContain(engine.ContainerQueries.List(), c => c.Id == container.Id);

        using var nothing = RuntimeClient.OpenDevNull();
        var error = Assert.Throws<EngineException>(() => engine.ContainerExec.Exec(container.Id, new ExecRequest { Command = ["true"] }, new ExecStdio(nothing, nothing, nothing)));
        Assert.Equal((ErrorKind.FailedPrecondition, false), (error.Kind, error.ContainerCommand));
        Assert.Contains("not running", error.Message);
    }

    private static FileDescriptor OpenForWriting(string path)
        => FileDescriptor.Wrap(Interop.Interop.Libc.Open(path, Interop.Interop.Libc.O_WRONLY | Interop.Interop.Libc.O_CREAT | Interop.Interop.Libc.O_CLOEXEC, 0x1a4), "open", path);

    [ContainerFact]
    public void Stop_kills_a_container_that_ignores_its_stop_signal_after_the_timeout()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"]);
        engine.Containers.Start(container.Id);
        TestEngine.WaitFor(() => engine.LogText(container.Id).Contains("ready"), what: "ready in the log");
        engine.Containers.Stop(container.Id, timeoutSeconds: 1);
        Assert.Equal(137, engine.ContainerQueries.Get(container.Id).State.ExitCode);
    }

    [ContainerFact]
    public void On_failure_2_restarts_twice_then_gives_up()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sh", "-c", "echo attempt; exit 2"], r => r with { RestartPolicy = RestartPolicy.Parse("on-failure:2") });
        engine.Containers.Start(container.Id);
        TestEngine.WaitFor(() => engine.ContainerQueries.Get(container.Id).State is { Status: ContainerStatus.Exited, RestartCount: 2 }, what: "two restarts");
        var monitorPid = engine.ContainerQueries.Get(container.Id).State.MonitorPid;
        TestEngine.WaitFor(() => ProcessIdentity.StartTime(monitorPid) is null, what: "the monitor to exit");
        Assert.Equal(2, engine.ContainerQueries.Get(container.Id).State.RestartCount);
        Assert.Equal(2, engine.ContainerQueries.Get(container.Id).State.ExitCode);
        Assert.Equal(3, engine.Logs(container.Id, new LogsRequest()).Count(e => e.Text == "attempt\n"));
    }

    [ContainerTheory]
    [MemberData(nameof(Runtimes))]
    public void A_killed_monitor_leaves_the_container_running_and_stop_still_works(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        var state = engine.ContainerQueries.Get(container.Id).State;
        Process.GetProcessById(state.MonitorPid).Kill();
        TestEngine.WaitFor(() => ProcessIdentity.StartTime(state.MonitorPid) is null, what: "the monitor to die");

        var running = engine.ContainerQueries.Get(container.Id);
        Assert.Equal(ContainerStatus.Running, running.State.Status);
        Assert.True(ProcessIdentity.IsAlive(state.Pid, state.PidStartTime));

        engine.Containers.Stop(container.Id, timeoutSeconds: 1);
        var stopped = engine.ContainerQueries.Get(container.Id);
        Assert.Equal(ContainerStatus.Exited, stopped.State.Status);
        Assert.False(ProcessIdentity.IsAlive(state.Pid, state.PidStartTime));
        Assert.Empty(Leftovers.ProcessesOf(container.Id));

        engine.Containers.Remove(container.Id);
        engine.AssertGone(container.Id);
    }

    [ContainerFact]
    public void A_container_whose_monitor_and_process_are_gone_is_exited_and_rm_cleans_it_fully()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        var state = engine.ContainerQueries.Get(container.Id).State;
        Process.GetProcessById(state.MonitorPid).Kill();
        TestEngine.WaitFor(() => ProcessIdentity.StartTime(state.MonitorPid) is null, what: "the monitor to die");
        Process.GetProcessById(state.Pid).Kill();
        TestEngine.WaitFor(() => ProcessIdentity.StartTime(state.Pid) is null, what: "the container process to die");

        var listed = Assert.Single(engine.ContainerQueries.List(all: true), c => c.Id == container.Id);
        Assert.Equal(ContainerStatus.Exited, listed.State.Status);
        Assert.True(Directory.Exists(Path.Combine(engine.Options.RuntimeRoot, container.Id)), "the runtime's state is what rm must clean");

        engine.Containers.Remove(container.Id);
        engine.AssertGone(container.Id);
    }

    [ContainerFact]
    public void Bad_input_is_refused_and_leaves_nothing_behind()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var first = engine.Create(["true"]);
        string[] Entries() => Directory.GetFileSystemEntries(engine.Options.ContainersDirectory).Concat(Directory.GetFileSystemEntries(engine.RootfsDirectory)).Order().ToArray();
        var before = Entries();

        var taken = Assert.Throws<EngineException>(() => engine.Create(["true"], r => r with { Name = first.Name }));
        Assert.Contains("already in use", taken.Message);
        Assert.Equal(ErrorKind.AlreadyExists, taken.Kind);

        var missingPath = Assert.Throws<EngineException>(() => engine.Create(["true"], options: new RunOptions { Mounts = [MountRequest.ParseVolume("/no/such/dir:/data")] }));
        Assert.Contains("/no/such/dir", missingPath.Message);

        var badUser = Assert.Throws<EngineException>(() => engine.Create(["true"], options: new RunOptions { User = "nosuchuser" }));
        Assert.Contains("nosuchuser", badUser.Message);

        var unknownImage = Assert.Throws<EngineException>(() => engine.Create(["true"], r => r with { ImageInfo = new ContainerImage("missing-image", null) }));
        Assert.Contains("missing-image", unknownImage.Message);

        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => engine.Create(["true"], r => r with { Name = "bad name" })).Kind);
        var restarted = Assert.Throws<EngineException>(() => engine.Create(["true"], r => r with { AutoRemove = true, RestartPolicy = RestartPolicy.Parse("always") }));
        Assert.Equal(ErrorKind.InvalidArgument, restarted.Kind);
        Assert.DoesNotContain("--", restarted.Message); // it names the container, not a command line's flags
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => engine.Create(["true"], r => r with { StopSignal = "SIGNOPE" })).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<EngineException>(() => engine.ContainerQueries.Get("no-such-container")).Kind);

        // A named volume the failed create made is removed with it.
        Assert.Throws<EngineException>(() => engine.Create(["true"], options: new RunOptions { User = "nosuchuser", Mounts = [MountRequest.ParseVolume("fresh-volume:/data")] }));
        Assert.Empty(engine.Volumes.List());

        Assert.Equal(before, Entries());
        Assert.Single(engine.ContainerQueries.List(all: true));
    }

    [ContainerTheory]
    [MemberData(nameof(Runtimes))]
    public void A_program_that_is_not_found_fails_start_with_127_and_leaves_no_process(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["/no/such/program"]);
        var error = Assert.Throws<EngineException>(() => engine.Containers.Start(container.Id, attach: true));
        Assert.Equal((ErrorKind.NotFound, true), (error.Kind, error.ContainerCommand));
        var state = engine.ContainerQueries.Get(container.Id).State;
        Assert.Equal(ContainerStatus.Created, state.Status);
        Assert.NotEmpty(state.Error);
        Assert.Empty(Leftovers.ProcessesOf(container.Id));
        Assert.Empty(Leftovers.CgroupDirs(container.Id));
        engine.Containers.Remove(container.Id);
        engine.AssertGone(container.Id);

        var autoRemoved = engine.Create(["/no/such/program"], r => r with { AutoRemove = true });
        var autoRemovedError = Assert.Throws<EngineException>(() => engine.Containers.Start(autoRemoved.Id));
        Assert.Equal((ErrorKind.NotFound, true), (autoRemovedError.Kind, autoRemovedError.ContainerCommand));
        TestEngine.WaitFor(() => !engine.ContainerQueries.List(all: true).Any(c => c.Id == autoRemoved.Id), what: "the --rm monitor to remove the container that could not start");
        engine.AssertGone(autoRemoved.Id);
    }

    [ContainerFact]
    public void Rm_of_a_running_container_needs_force()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        var error = Assert.Throws<EngineException>(() => engine.Containers.Remove(container.Id));
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("stop it first", error.Message);
        Assert.Equal(ContainerStatus.Running, engine.ContainerQueries.Get(container.Id).State.Status);

        engine.Containers.Remove(container.Id, force: true);
        engine.AssertGone(container.Id);
    }

    [ContainerFact]
    public void Pause_rename_kill_and_wait()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        engine.Containers.Pause(container.Id);
        Assert.Equal(ContainerStatus.Paused, engine.ContainerQueries.Get(container.Id).State.Status);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<EngineException>(() => engine.Containers.Pause(container.Id)).Kind);
        engine.Containers.Unpause(container.Id);
        Assert.Equal(ContainerStatus.Running, engine.ContainerQueries.Get(container.Id).State.Status);

        var newName = ContainerHelpers.Unique("renamed");
        engine.Containers.Rename(container.Name, newName);
        Assert.Equal(container.Id, engine.ContainerQueries.Get(newName).Id);

        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => engine.Containers.Kill(newName, "NOPE")).Kind);
        engine.Containers.Kill(newName, "KILL");
        Assert.Equal(137, engine.Wait(newName));
    }

    [ContainerFact]
    public void Named_volumes_outlive_their_container_and_rm_v_removes_anonymous_ones()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var volume = ContainerHelpers.Unique("vol");
        var writer = engine.Create(["sh", "-c", "echo kept > /data/file"],
            options: new RunOptions { Mounts = [MountRequest.ParseVolume($"{volume}:/data"), MountRequest.ParseVolume("/scratch")] });
        Assert.Equal(0, RunAttached(engine, writer.Id).Exit);
        var anonymous = Assert.Single(writer.Config.AnonymousVolumes);
        Assert.Equal(2, engine.Volumes.List().Count);
        Assert.Contains("in use", Assert.Throws<EngineException>(() => engine.Volumes.Remove(volume)).Message);

        engine.Containers.Remove(writer.Id, volumes: true);
        Assert.Equal([volume], engine.Volumes.List().Select(v => v.Name));
        Assert.False(Directory.Exists(Path.GetDirectoryName(engine.Volumes.DataPath(anonymous))));

        var reader = engine.Create(["cat", "/data/file"], options: new RunOptions { Mounts = [MountRequest.ParseVolume($"{volume}:/data:ro")] });
        Assert.Equal("kept\n", RunAttached(engine, reader.Id).Stdout);
        engine.Containers.Remove(reader.Id);
        engine.Volumes.Remove(volume);
        Assert.Empty(engine.Volumes.List());
    }

    [ContainerTheory]
    [MemberData(nameof(Runtimes))]
    public void A_monitor_started_ahead_of_its_container_runs_it_and_one_left_unused_exits(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var unused = engine.ContainerCreation.SpawnMonitor();
        unused.Dispose();
        Assert.Equal(0, Skiff.Interop.Interop.Libc.WaitChild(unused.Pid));

        var container = engine.Create(["sh", "-c", "echo ahead; exit 4"]);
        using var monitor = engine.ContainerCreation.SpawnMonitor();
        Assert.Equal((4, "ahead\n", ""), RunAttached(engine, container.Id, monitor: monitor));
        Assert.Contains("ahead", engine.LogText(container.Id));
        Assert.True(File.Exists(Path.Combine(engine.Options.ContainerDirectory(container.Id), "monitor.log")), "the monitor's own log is where a monitor started with the id has it");
    }

    [ContainerFact]
    public void Rm_removes_a_container_whose_directory_is_gone()
    {
        // What a power loss during rm can leave: the engine database does not fsync, so the row's deletion may be undone.
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["true"]);
        Directory.Delete(engine.Options.ContainerDirectory(container.Id), recursive: true);

        engine.Containers.Remove(container.Id);
        engine.AssertGone(container.Id);
    }
}

/// <summary>Terminals, logs and the lifecycle operations that need one runtime only.</summary>
public sealed class EngineTerminalAndLogTests
{
    private static (int? Exit, string Stdout) RunAttached(TestEngine engine, string id, (ushort, ushort)? size = null, string? stdin = null)
    {
        using var session = engine.Containers.Start(id, attach: true, terminalSize: size)!;
        if (stdin is not null)
            session.SendStdin(Encoding.UTF8.GetBytes(stdin));
        var stdout = new MemoryStream();
        var exit = session.CopyOutput(stdout, stdout);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()));
    }

    [ContainerTheory]
    [MemberData(nameof(EngineTests.Runtimes), MemberType = typeof(EngineTests))]
    public void A_tty_container_gets_a_terminal_of_the_size_the_client_asked_for(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["sh", "-c", "tty; stty size; read line; echo got:$line"], r => r with { Interactive = true }, new RunOptions { Tty = true });
        var (exit, output) = RunAttached(engine, container.Id, (33, 111), "typed\n");
        Assert.Equal(0, exit);
        Assert.Contains("/dev/pts/", output);
        Assert.Contains("33 111", output);
        Assert.Contains("got:typed", output);
        Assert.Contains("got:typed", engine.LogText(container.Id));
    }

    [ContainerFact]
    public void Rm_option_removes_the_container_when_it_exits()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sh", "-c", "echo bye"], r => r with { AutoRemove = true }, new RunOptions { Mounts = [MountRequest.ParseVolume("/anonymous")] });
        var volume = Assert.Single(container.Config.AnonymousVolumes);
        Assert.Equal((0, "bye\n"), RunAttached(engine, container.Id));
        // The monitor removes the container before it reports the exit: gone by the time the status arrives.
        engine.AssertGone(container.Id);
        Assert.DoesNotContain(engine.Volumes.List(), v => v.Name == volume);

        var detached = engine.Create(["sh", "-c", "sleep 0.5; exit 6"], r => r with { AutoRemove = true });
        engine.Containers.Start(detached.Id);
        Assert.Equal(6, engine.Wait(detached.Id));
        engine.AssertGone(detached.Id);
    }

    [ContainerFact]
    public void Logs_follow_until_the_container_exits_and_rotate_by_size()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var slow = engine.Create(["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done"]);
        engine.Containers.Start(slow.Id);
        var followed = engine.Logs(slow.Id, new LogsRequest { Follow = true }).Select(e => e.Text).ToList();
        Assert.Equal(["1\n", "2\n", "3\n"], followed);

        var chatty = engine.Create(["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"],
            r => r with { Log = LogOptions.Parse(null, ["max-size=1k", "max-file=3"]) });
        engine.Containers.Start(chatty.Id);
        Assert.Equal(0, engine.Wait(chatty.Id));
        var log = Path.Combine(engine.Options.ContainerDirectory(chatty.Id), ContainerDirectory.LogFileName);
        Assert.True(File.Exists(log + ".2"));
        Assert.False(File.Exists(log + ".3"));
        var kept = engine.Logs(chatty.Id, new LogsRequest()).Select(e => e.Text).ToList();
        Assert.Equal(Enumerable.Range(300 - kept.Count, kept.Count).Select(i => $"line-{i}\n"), kept);
        var lastTwo = engine.Logs(chatty.Id, new LogsRequest { Tail = 2 }).ToList();
        Assert.Equal(["line-298\n", "line-299\n"], lastTwo.Select(e => e.Text));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line-299\n$", lastTwo[1].Format(timestamps: true));
        Assert.Equal("line-299\n", lastTwo[1].Format(timestamps: false));
        Assert.Empty(engine.Logs(chatty.Id, new LogsRequest { Since = DateTimeOffset.UtcNow.AddMinutes(1) }));
    }

    [ContainerFact]
    public void Restart_runs_the_container_again_with_a_new_process()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        var first = engine.ContainerQueries.Get(container.Id).State.Pid;
        engine.Containers.Restart(container.Id, timeoutSeconds: 1);
        var state = engine.ContainerQueries.Get(container.Id).State;
        Assert.Equal(ContainerStatus.Running, state.Status);
        Assert.NotEqual(first, state.Pid);
        Assert.True(ProcessIdentity.IsAlive(state.Pid, state.PidStartTime));
    }

    [ContainerFact]
    public void Containers_created_and_run_by_concurrent_commands_each_get_their_own_name_and_exit_code()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var codes = new int[6];
        Parallel.For(0, codes.Length, new ParallelOptions { MaxDegreeOfParallelism = codes.Length }, i =>
        {
            using var command = engine.NewHost();
            var container = command.ContainerCreation.Create(new CreateRequest
            {
                Image = "busybox",
                ImageInfo = new ContainerImage(TestEngine.ImageId, null),
                Options = new RunOptions { Command = ["sh", "-c", $"exit {i + 10}"] },
            });
            command.Containers.Start(container.Id);
            codes[i] = command.Containers.WaitAsync(container.Id).GetAwaiter().GetResult();
        });
        Assert.Equal(Enumerable.Range(10, codes.Length), codes);
        Assert.Equal(codes.Length, engine.ContainerQueries.List(all: true).Select(c => c.Name).Distinct().Count());
        Assert.Equal(codes.Length, engine.Containers.Prune().Removed.Count);
        Assert.Empty(engine.ContainerQueries.List(all: true));
    }

    [ContainerFact]
    public void A_new_volume_starts_with_what_the_image_has_at_its_mount_point()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var seed = Path.Combine(engine.ImageRootfs, "seed");
        Directory.CreateDirectory(seed);
        File.WriteAllText(Path.Combine(seed, "initial"), "from the image\n");
        ContainerHelpers.Host("/bin/chown", "-R", "65534:65534", seed);
        var image = new ContainerImage(TestEngine.ImageId, new Oci.Image.ImageExecutionConfig { Volumes = new() { ["/seed"] = default } });
        var container = engine.Create(["sh", "-c", "cat /seed/initial; stat -c %u /seed/initial"], r => r with { ImageInfo = image });
        using var session = engine.Containers.Start(container.Id, attach: true)!;
        var output = new MemoryStream();
        Assert.Equal(0, session.CopyOutput(output, output));
        Assert.Equal("from the image\n65534\n", Encoding.UTF8.GetString(output.ToArray()));
        Assert.Single(container.Config.AnonymousVolumes);
    }

    [ContainerFact]
    public void Exec_with_a_terminal_runs_the_program_on_a_pty()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        var output = Path.Combine(engine.Directory, "exec-tty.out");
        using (var stdout = FileDescriptor.Wrap(Interop.Interop.Libc.Open(output, Interop.Interop.Libc.O_WRONLY | Interop.Interop.Libc.O_CREAT | Interop.Interop.Libc.O_CLOEXEC, 0x1a4), "open", output))
        using (var devNull = RuntimeClient.OpenDevNull())
            Assert.Equal(5, engine.ContainerExec.Exec(container.Id, new ExecRequest { Command = ["sh", "-c", "tty; exit 5"], Tty = true }, new ExecStdio(devNull, stdout, stdout)));
        Assert.StartsWith("/dev/pts/", File.ReadAllText(output));
    }

    [ContainerTheory]
    [MemberData(nameof(EngineTests.Runtimes), MemberType = typeof(EngineTests))]
    public void With_init_the_stop_signal_reaches_a_program_without_a_handler(string runtime)
    {
        using var engine = new TestEngine(runtime);
        var container = engine.Create(["sleep", "1000"], options: new RunOptions { Init = true });
        engine.Containers.Start(container.Id);
        // `start` returns once the runtime let the process go: it may not have executed /dev/init yet.
        TestEngine.WaitFor(() => engine.ContainerQueries.Top(container.Id).Any(p => p.Command.StartsWith("/dev/init --init")), what: "/dev/init as pid 1");
        var stopwatch = Stopwatch.StartNew();
        engine.Containers.Stop(container.Id, timeoutSeconds: 20);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), "SIGTERM should have ended sleep through the init");
        Assert.Equal(143, engine.ContainerQueries.Get(container.Id).State.ExitCode);
        Assert.True(engine.ContainerQueries.Inspect(container.Id).HostConfig.Init);
    }

    [ContainerFact]
    public void The_detach_keys_end_the_session_and_leave_the_container_running()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sh"], r => r with { Interactive = true }, new RunOptions { Tty = true });
        using (var session = engine.Containers.Start(container.Id, attach: true)!)
        {
            session.ForwardStdin(new MemoryStream([(byte)'e', (byte)'c', (byte)'h', (byte)'o', (byte)' ', (byte)'h', (byte)'i', (byte)'\n', 16, 17]), DetachKeys.Parse(DetachKeys.Default)).Join();
            Assert.Null(session.CopyOutput(Stream.Null, Stream.Null));
            Assert.True(session.Detached);
        }
        Assert.Equal(ContainerStatus.Running, engine.ContainerQueries.Get(container.Id).State.Status);
        TestEngine.WaitFor(() => engine.LogText(container.Id).Contains("hi\r\n"), what: "the echo before the detach keys");

        using (var again = engine.Containers.Attach(container.Id))
        {
            again.SendStdin("exit 7\n"u8);
            Assert.Equal(7, again.CopyOutput(Stream.Null, Stream.Null));
        }
    }

    [ContainerFact]
    public void Exec_takes_stdin_with_i_a_user_with_u_and_returns_at_once_with_d()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sleep", "1000"]);
        engine.Containers.Start(container.Id);
        var output = Path.Combine(engine.Directory, "exec.out");
        string Exec(ExecRequest request, FileDescriptor stdin)
        {
            using (var stdout = FileDescriptor.Wrap(Interop.Interop.Libc.Open(output, Interop.Interop.Libc.O_WRONLY | Interop.Interop.Libc.O_CREAT | Interop.Interop.Libc.O_TRUNC | Interop.Interop.Libc.O_CLOEXEC, 0x1a4), "open", output))
                Assert.Equal(0, engine.ContainerExec.Exec(container.Id, request, new ExecStdio(stdin, stdout, stdout)));
            return File.ReadAllText(output);
        }

        var (read, write) = Interop.Interop.Libc.Pipe();
        using (read)
        {
            using (write)
                Interop.Interop.Libc.WriteAll(write, "piped\n"u8, "pipe");
            Assert.Equal("piped\n", Exec(new ExecRequest { Command = ["cat"], Interactive = true }, read));
        }
        using var devNull = RuntimeClient.OpenDevNull();
        Assert.Equal("65534 65534\n", Exec(new ExecRequest { Command = ["sh", "-c", "echo $(id -u) $(id -g)"], User = "nobody" }, devNull));
        Assert.Equal("", Exec(new ExecRequest { Command = ["sh", "-c", "sleep 0.2; echo late > /tmp/detached"], Detach = true }, devNull));
        TestEngine.WaitFor(() => Exec(new ExecRequest { Command = ["sh", "-c", "cat /tmp/detached 2>/dev/null || true"] }, devNull) == "late\n", what: "the detached exec's file");
    }

    [ContainerFact]
    public void Commands_on_one_container_wait_for_each_other()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"]);
        engine.Containers.Start(container.Id);
        TestEngine.WaitFor(() => engine.LogText(container.Id).Contains("ready"), what: "ready in the log");

        var stop = Task.Run(() =>
        {
            using var command = engine.NewHost();
            command.Containers.Stop(container.Id, timeoutSeconds: 2);
        });
        Thread.Sleep(500); // stop holds the container's lock through its 2 s timeout
        var stopwatch = Stopwatch.StartNew();
        using (var remove = engine.NewHost())
            remove.Containers.Remove(container.Id);
        Assert.True(stopwatch.Elapsed > TimeSpan.FromSeconds(1), "rm should have waited for stop to finish");
        stop.Wait();
        engine.AssertGone(container.Id);
    }
}
