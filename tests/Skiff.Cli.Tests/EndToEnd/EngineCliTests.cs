using System.Diagnostics;
using System.Text.Json;
using Skiff.Images.Tests.Archive;
using Skiff.Images.Tests.Registry;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Containers through bin/skiff as a user drives it: an image imported from the host's busybox-static, then run,
/// logs, exec, stop, rm, volumes and the bad-input cases of the engine issue. Every container is removed at the end.
/// </summary>
public sealed partial class EngineCliTests : IDisposable
{
    private const string Image = "local/busybox:test";
    private readonly TempDir _temp = new();

    private string Root => Path.Combine(_temp.Path, "root");

    /// <summary>The busybox rootfs the test image was imported from.</summary>
    private string RootfsTarball => Path.Combine(_temp.Path, "rootfs.tar");

    public EngineCliTests()
    {
        BusyboxRootfs.WriteTarball(Path.Combine(_temp.Path, "rootfs"), RootfsTarball);
        var import = Skiff.RunAsync(Root, "import", "-c", "CMD [\"sh\"]", RootfsTarball, Image).GetAwaiter().GetResult();
        Assert.True(import.ExitCode == 0, import.Stderr);
    }

    public void Dispose()
    {
        var ids = Skiff.RunAsync(Root, "ps", "-aq", "--no-trunc").GetAwaiter().GetResult().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var id in ids)
            Skiff.RunAsync(Root, "rm", "-f", id).GetAwaiter().GetResult();
        // The default network's bridge and rules, and any network a test left, are the host's until pruned.
        if (File.Exists(Path.Combine(Root, "networks.db")))
            Skiff.RunAsync(Root, "network", "prune", "-f").GetAwaiter().GetResult();
        _temp.Dispose();
    }

    private async Task<Skiff.Result> Ok(params string[] args)
    {
        var result = await Skiff.RunAsync(Root, args);
        Assert.True(result.ExitCode == 0, $"skiff {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}");
        return result;
    }

    [Fact]
    public async Task RunPassesOutputAndExitCodes()
    {
        Assert.Equal("hello\n", (await Ok("run", "--rm", Image, "echo", "hello")).Stdout);
        Assert.Equal(3, (await Skiff.RunAsync(Root, "run", "--rm", Image, "sh", "-c", "exit 3")).ExitCode);
        var missing = await Skiff.RunAsync(Root, "run", "--rm", Image, "no-such-program");
        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("no-such-program", missing.Stderr);
        Assert.Equal("from stdin\n", (await Skiff.RunWithInputAsync(Root, "from stdin\n", "run", "--rm", "-i", Image, "cat")).Stdout);
        Assert.Equal("uid=65534(nobody) gid=65534(nogroup)\n", (await Ok("run", "--rm", "-u", "nobody", Image, "id")).Stdout);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    [Fact]
    public async Task DetachedLifecycle()
    {
        string id = (await Ok("run", "-d", "--name", "web", Image, "sh", "-c", "echo started; while true; do sleep 1; done")).Stdout.Trim();
        Assert.Equal(64, id.Length);
        string logs = "";
        for (int attempt = 0; attempt < 50 && !logs.Contains("started"); attempt++)
        {
            await Task.Delay(100);
            logs = (await Ok("logs", "web")).Stdout;
        }
        Assert.Equal("started\n", logs);
        Assert.Equal("in exec\n", (await Ok("exec", "web", "echo", "in exec")).Stdout);
        Assert.Matches(@"\bUp\b.*\bweb\n$", (await Ok("ps")).Stdout);

        var taken = await Skiff.RunAsync(Root, "run", "-d", "--name", "web", Image, "true");
        Assert.Equal(125, taken.ExitCode);
        Assert.Contains("web", taken.Stderr);
        // docker exits 125 only for run's (and create's) own failures: every other command's error is 1.
        var takenByCreate = await Skiff.RunAsync(Root, "create", "--name", "web", Image, "true");
        Assert.Equal(1, takenByCreate.ExitCode);
        var running = await Skiff.RunAsync(Root, "rm", "web");
        Assert.Equal(1, running.ExitCode);
        Assert.StartsWith("skiff: ", running.Stderr);

        await Ok("stop", "-t", "1", "web");
        using (var json = JsonDocument.Parse((await Ok("container", "inspect", "web")).Stdout))
        {
            var state = json.RootElement[0].GetProperty("State");
            Assert.Equal("exited", state.GetProperty("Status").GetString());
            Assert.Equal(137, state.GetProperty("ExitCode").GetInt32());
        }
        using (var json = JsonDocument.Parse((await Ok("inspect", "web", Image)).Stdout))
        {
            Assert.Equal(id, json.RootElement[0].GetProperty("Id").GetString());
            Assert.Equal([Image], json.RootElement[1].GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));
        }
        Assert.Equal(1, (await Skiff.RunAsync(Root, "inspect", "--type", "container", Image)).ExitCode);
        var exec = await Skiff.RunAsync(Root, "exec", "web", "true");
        Assert.Equal(1, exec.ExitCode);
        await Ok("rm", "web");
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    /// <summary>Polls `skiff diff` until the container's command has written <paramref name="marker"/> (a detached run returns at once).</summary>
    private async Task<string[]> DiffOnceWritten(string container, string marker)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var lines = (await Ok("diff", container)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Contains("A " + marker))
                return lines;
            Assert.True(DateTime.UtcNow < deadline, $"{container} never wrote {marker}; diff: {string.Join(", ", lines)}");
            await Task.Delay(100);
        }
    }

    /// <summary>An image named here within the last minutes: LastTagTime in docker's RFC 3339 form, in UTC.</summary>
    internal static void AssertRecentTagTime(JsonElement image)
    {
        string time = image.GetProperty("Metadata").GetProperty("LastTagTime").GetString()!;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", time);
        Assert.InRange(DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow);
    }

    private static List<string> TarNames(string path)
    {
        using var reader = new System.Formats.Tar.TarReader(File.OpenRead(path));
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
            names.Add(entry.Name);
        return names;
    }

    [Fact]
    public async Task DiffAndCommitLeaveOutWhatTheEngineMountsOver()
    {
        // The runtime creates /etc/hosts, /proc ... in the upper dir when the image lacks them; docker's init layer
        // hides them, so a container that changed nothing has an empty diff and commits an empty layer.
        await Ok("run", "--name", "init-layer", Image, "echo", "nothing written");
        Assert.Equal("", (await Ok("diff", "init-layer")).Stdout);
        string committed = (await Ok("commit", "init-layer")).Stdout.Trim();
        using (var json = JsonDocument.Parse((await Ok("image", "inspect", Image, committed)).Stdout))
        {
            Assert.Equal(json.RootElement[0].GetProperty("Size").GetInt64(), json.RootElement[1].GetProperty("Size").GetInt64());
            // Imported with a name: named here, made from nothing. Committed without one: made from it, never named.
            Assert.Equal("", json.RootElement[0].GetProperty("Parent").GetString());
            AssertRecentTagTime(json.RootElement[0]);
            Assert.Equal(json.RootElement[0].GetProperty("Id").GetString(), json.RootElement[1].GetProperty("Parent").GetString());
            Assert.Equal("0001-01-01T00:00:00Z", json.RootElement[1].GetProperty("Metadata").GetProperty("LastTagTime").GetString());
        }

        // What the user mounts or writes still shows, next to the hidden files (/etc/hosts) in the same directory.
        await Ok("run", "--name", "init-layer-vol", "-v", "/vol", Image, "sh", "-c", "echo note > /etc/hosts.note");
        Assert.Equal(["C /etc", "A /etc/hosts.note", "A /vol"], (await Ok("diff", "init-layer-vol")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task CommitDiffAndExportShowWhatAContainerChanged()
    {
        // Layer 1 (a stopped container): /data with two files, and /bin/cat (from the imported layer) deleted.
        await Ok("run", "--name", "commit-one", Image, "sh", "-c", "mkdir /data && echo a > /data/a && echo b > /data/b && rm /bin/cat");
        var diff = (await Ok("diff", "commit-one")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["C /bin", "D /bin/cat", "A /data", "A /data/a", "A /data/b"], diff.Where(line => line.Contains("/bin") || line.Contains("/data")));
        string first = (await Ok("commit", "-a", "Tester", "-m", "first layer", "commit-one", "local/committed:one")).Stdout.Trim();
        Assert.Matches("^sha256:[0-9a-f]{64}$", first);

        // Layer 2 (a running container, paused while committed): /data replaced (an opaque dir), /added, a volume.
        await Ok("run", "-d", "--name", "commit-two", "-v", "/vol", "local/committed:one", "sh", "-c",
            "echo in-volume > /vol/inside && rm -rf /data && mkdir /data && echo new > /data/new && echo added > /added && exec sleep 1000");
        diff = await DiffOnceWritten("commit-two", "/added");
        Assert.Contains("C /data", diff);
        Assert.Contains("A /data/new", diff);
        Assert.DoesNotContain(diff, line => line.StartsWith("A /vol/", StringComparison.Ordinal));
        string second = (await Ok("commit", "-c", "CMD [\"sh\", \"-c\", \"busybox cat /added\"]", "commit-two", "local/committed:two")).Stdout.Trim();
        Assert.Equal("in exec\n", (await Ok("exec", "commit-two", "echo", "in exec")).Stdout); // unpaused again

        Assert.Equal("added\n", (await Ok("run", "--rm", "local/committed:two")).Stdout);
        Assert.Equal("new\n", (await Ok("run", "--rm", "local/committed:two", "ls", "/data")).Stdout);
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "run", "--rm", "local/committed:two", "ls", "/bin/cat")).ExitCode);
        Assert.Equal("", (await Ok("run", "--rm", "local/committed:two", "ls", "/vol")).Stdout);
        using (var json = JsonDocument.Parse((await Ok("image", "inspect", "local/committed:one", second)).Stdout))
        {
            Assert.Equal("Tester", json.RootElement[0].GetProperty("Author").GetString());
            Assert.Equal("first layer", json.RootElement[0].GetProperty("Comment").GetString());
            Assert.Equal(second, json.RootElement[1].GetProperty("Id").GetString());
            Assert.Equal(first, json.RootElement[1].GetProperty("Parent").GetString());
            AssertRecentTagTime(json.RootElement[0]);
            Assert.Equal(3, json.RootElement[1].GetProperty("RootFS").GetProperty("Layers").GetArrayLength());
            var driver = json.RootElement[1].GetProperty("GraphDriver").GetProperty("Data");
            Assert.Equal(2, driver.GetProperty("LowerDir").GetString()!.Split(':').Count(Directory.Exists));
            Assert.True(File.Exists(Path.Combine(driver.GetProperty("UpperDir").GetString()!, "added")));
        }

        // A peer reads it: podman load unpacks every layer and checks it against the config's diff IDs.
        string archive = Path.Combine(_temp.Path, "committed.tar");
        await Ok("save", "-o", archive, "local/committed:two");
        using (var podman = new PrivatePodman())
        {
            podman.Run("load", "-i", archive);
            using var inspected = JsonDocument.Parse(podman.Run("image", "inspect", "local/committed:two"));
            Assert.Equal(second, "sha256:" + inspected.RootElement[0].GetProperty("Id").GetString());
        }

        // Untagged commit, then export: the whole filesystem, without the volume's content.
        string untagged = (await Ok("commit", "commit-one")).Stdout.Trim();
        Assert.Contains(untagged, (await Ok("images", "-q", "--no-trunc")).Stdout);
        // Image one without its name is what image two was made from: intermediate, listed only with -a.
        await Ok("rmi", "-f", "local/committed:one");
        Assert.DoesNotContain(first, (await Ok("images", "-q", "--no-trunc")).Stdout);
        Assert.Contains(first, (await Ok("images", "-a", "-q", "--no-trunc")).Stdout);
        var parentById = await Skiff.RunAsync(Root, "rmi", "-f", first);
        Assert.Equal((1, $"skiff: conflict: unable to delete {first[7..19]} (cannot be forced) - image has dependent child images\n"),
            (parentById.ExitCode, parentById.Stderr));
        Assert.Contains(first, (await Ok("images", "-a", "-q", "--no-trunc")).Stdout);
        string exported = Path.Combine(_temp.Path, "exported.tar");
        await Ok("export", "-o", exported, "commit-two");
        var names = TarNames(exported);
        Assert.Contains("added", names);
        Assert.Contains("data/new", names);
        Assert.Contains("bin/busybox", names);
        Assert.DoesNotContain("data/a", names);
        Assert.DoesNotContain("bin/cat", names);
        Assert.DoesNotContain("vol/inside", names);
        await Ok("export", "-o", exported, "commit-one"); // a stopped container: its rootfs stays mounted
        Assert.Contains("data/a", TarNames(exported));
    }

    [Fact]
    public async Task InteractiveTerminalGoesThroughAPty()
    {
        // script(1) gives skiff a terminal, as a user's shell would: keys reach the container's shell through its pty
        // (echoed by it, not by us: our terminal is raw), and the shell's exit status is skiff's.
        var start = new ProcessStartInfo("script", ["-qec", $"{Skiff.Binary} --root {Root} --runroot {Skiff.RunRootOf(Root)} run -it --rm {Image} sh", "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        await script.StandardInput.WriteAsync("tty; echo inside-$((6*7))\nexit 5\n");
        script.StandardInput.Close();
        Assert.True(script.WaitForExit(60_000), "skiff run -it did not finish");
        string text = await output;
        Assert.Equal(5, script.ExitCode);
        Assert.Contains("inside-42", text);
        Assert.Contains("/dev/pts/", text);
    }

    [Fact]
    public async Task TwentyContainersStartedInParallel()
    {
        var runs = Enumerable.Range(0, 20).Select(i => Skiff.RunAsync(Root, "run", "--rm", "--name", $"parallel-{i}", Image, "sh", "-c", $"echo {i}")).ToList();
        var results = await Task.WhenAll(runs);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].ExitCode == 0, $"container {i}: {results[i].Stderr}");
            Assert.Equal($"{i}\n", results[i].Stdout);
        }
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    [Fact]
    public async Task VolumesKeepDataBetweenContainers()
    {
        await Ok("run", "--rm", "-v", "data:/data", Image, "sh", "-c", "echo kept > /data/file");
        Assert.Equal("kept\n", (await Ok("run", "--rm", "-v", "data:/data:ro", Image, "cat", "/data/file")).Stdout);
        Assert.Contains("data", (await Ok("volume", "ls", "-q")).Stdout);
        await Ok("volume", "create", "--label", "keep=no", "other");
        Assert.Equal("other\n", (await Ok("volume", "ls", "-q", "--filter", "label=keep")).Stdout);
        Assert.Equal("data\n", (await Ok("volume", "ls", "-q", "--filter", "name=dat", "--filter", "dangling=true")).Stdout);
        await Ok("volume", "rm", "other");
        await Ok("volume", "rm", "data");
        Assert.Empty((await Ok("volume", "ls", "-q")).Stdout);
    }

    /// <summary>skiff with <paramref name="args"/> exits 125 (docker's status for run's failures and create's invalid options) with one line on stderr.</summary>
    private Task<Skiff.Result> FailsOnOneLine(params string[] args) => FailsOnOneLine(125, args);

    /// <summary>skiff with <paramref name="args"/> exits <paramref name="status"/> with one line on stderr.</summary>
    private async Task<Skiff.Result> FailsOnOneLine(int status, params string[] args)
    {
        var result = await Skiff.RunAsync(Root, args);
        Assert.True(result.ExitCode == status, $"skiff {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}");
        Assert.Single(result.Stderr.TrimEnd().Split('\n'));
        return result;
    }

    [Fact]
    public async Task BadInputIsOneLineAndLeavesNothing()
    {
        string[][] cases =
        [
            ["run", "--pull", "never", "no/such:image", "true"],
            ["run", "-v", "/no/such/host/dir:/x", Image, "true"],
            ["run", "-v", "relative:dir", Image, "true"],
            ["run", "--memory", "lots", Image, "true"],
            ["run", "--ulimit", "nofile=99999999", Image, "true"],
            ["run", "--restart", "sometimes", Image, "true"],
            ["run", "--network", "nowhere", Image, "true"],
            ["run", "--name", "bad/name", Image, "true"],
        ];
        foreach (var args in cases)
            Assert.StartsWith("skiff: ", (await FailsOnOneLine(args)).Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
        Assert.Empty(Directory.Exists(Path.Combine(Root, "containers")) ? Directory.GetDirectories(Path.Combine(Root, "containers")) : []);
        Assert.Empty(Directory.Exists(Path.Combine(Root, "rootfs")) ? Directory.GetDirectories(Path.Combine(Root, "rootfs")) : []);
    }

    [Fact]
    public async Task SecurityOptProfilesReachTheRuntime()
    {
        // No host has these: without the module the runtime says it is not enabled, with it the module refuses them.
        string[][] refused =
        [
            ["run", "--security-opt", "apparmor=skiff-no-such-profile", Image, "true"],
            ["run", "--security-opt", "label=type:skiff_no_such_t", Image, "true"],
        ];
        foreach (var args in refused)
            Assert.Contains(args[2].StartsWith("apparmor", StringComparison.Ordinal) ? "skiff-no-such-profile" : "skiff_no_such_t", (await FailsOnOneLine(args)).Stderr);
        var bad = await FailsOnOneLine("run", "--security-opt", "label=colour:blue", Image, "true");
        Assert.StartsWith("skiff: security option label=colour:blue: expected", bad.Stderr);

        var unconfined = await Ok("run", "--rm", "--security-opt", "apparmor=unconfined", "--security-opt", "label=disable", Image, "echo", "unconfined");
        Assert.Equal("unconfined\n", unconfined.Stdout);
    }
}
