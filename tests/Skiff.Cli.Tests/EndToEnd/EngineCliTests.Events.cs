using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Skiff.Interop;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>`skiff events`: a follower sees what other commands and the monitors record; --since/--until replay; filters; JSON.</summary>
public sealed partial class EngineCliTests
{
    private string EventsDirectory => Path.Combine(Root, "events");

    /// <summary>
    /// Waits until `skiff events` watches the journal's directory (an inotify watch on its inode in the process's
    /// fdinfo): from then on it reads every event recorded, however slowly it was scheduled.
    /// </summary>
    private void WaitUntilFollowing(Process follower)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            if (follower.HasExited)
                Assert.Fail($"skiff events exited: {follower.StandardError.ReadToEnd()}");
            if (Directory.Exists(EventsDirectory) && InodeOf(EventsDirectory) is var inode && Directory.GetFiles($"/proc/{follower.Id}/fdinfo")
                    .Any(fd => TryRead(fd).Contains($" ino:{inode:x} ", StringComparison.Ordinal)))
                return;
            Assert.True(DateTime.UtcNow < deadline, "skiff events did not start watching its journal");
            Thread.Sleep(20);
        }

        static string TryRead(string path)
        {
            try
            {
                return File.ReadAllText(path);
            }
            catch (IOException)
            {
                return ""; // a descriptor closed meanwhile
            }
        }
    }

    private static ulong InodeOf(string path)
    {
        using var root = FileDescriptor.Wrap(Interop.Interop.Libc.Open("/", Interop.Interop.Libc.O_PATH | Interop.Interop.Libc.O_DIRECTORY | Interop.Interop.Libc.O_CLOEXEC, 0), "open", "/");
        return Interop.Interop.Libc.TryStatAt(root, path)!.Value.Ino;
    }

    /// <summary>Waits for a line in a container's log: the program got that far.</summary>
    private async Task WaitForLog(string container, string text)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!(await Ok("logs", container)).Stdout.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"container {container} did not log \"{text}\"");
            await Task.Delay(50);
        }
    }

    private static async Task<List<string>> ReadLinesUntil(Process follower, Func<string, bool> last)
    {
        var lines = new List<string>();
        while (true)
        {
            // WaitAsync: a read of a pipe does not heed a cancellation token.
            var line = await follower.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(line is not null, $"skiff events ended after: {string.Join('\n', lines)}");
            lines.Add(line);
            if (last(line))
                return lines;
        }
    }

    [Fact]
    public async Task AFollowerStartedBeforeARunSeesItFromCreateToDestroy()
    {
        using var follower = Skiff.Start(Root, "events", "--filter", "container=followed", "--filter", "type=container");
        try
        {
            WaitUntilFollowing(follower);
            Assert.Equal(3, (await Skiff.RunAsync(Root, "run", "--rm", "--name", "followed", "-l", "team=blue", Image, "sh", "-c", "exit 3")).ExitCode);
            var lines = await ReadLinesUntil(follower, line => line.Contains(" container destroy ", StringComparison.Ordinal));

            Assert.Equal(["create", "attach", "start", "die", "destroy"], lines.Select(line => line.Split(' ')[2]));
            var id = lines[0].Split(' ')[3];
            Assert.Equal(64, id.Length);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die [0-9a-f]{64} \(exitCode=3, image=local/busybox:test, name=followed, team=blue\)$", lines[3]);
        }
        finally
        {
            follower.Kill();
            await follower.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task SinceAndUntilReplayTheLifecycleWithFiltersAndJson()
    {
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Ok("volume", "create", "replayed-data");
        // A handler for the stop signal (pid 1 ignores signals it has none for): one kill event, then the die it causes.
        string id = (await Ok("run", "-d", "--name", "replayed", "-l", "team=red", Image, "sh", "-c", "trap 'exit 143' TERM; echo ready; sleep 1000 & wait")).Stdout.Trim();
        await WaitForLog("replayed", "ready");
        await Ok("exec", "replayed", "echo", "in exec");
        await Ok("pause", "replayed");
        await Ok("unpause", "replayed");
        await Ok("rename", "replayed", "replayed-2");
        await Ok("stop", "-t", "60", "replayed-2");
        await Ok("rm", "replayed-2");
        await Ok("volume", "rm", "replayed-data");
        await Ok("tag", Image, "local/other:tag");
        await Ok("rmi", "local/other:tag");
        var end = DateTimeOffset.UtcNow.AddSeconds(1);
        string since = start.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        string until = end.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        var container = await Ok("events", "--since", since, "--until", until, "--filter", $"container={id}", "--format", "{{.Action}}");
        Assert.Equal(["create", "start", "exec_create: echo in exec", "exec_start: echo in exec", "exec_die", "pause", "unpause", "rename", "kill", "die", "stop", "destroy"],
            container.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var signals = await Ok("events", "--since", "10m", "--until", until, "-f", "event=kill", "-f", "label=team=red", "--format", "{{.Actor.Attributes.signal}} {{.Actor.Attributes.name}}");
        Assert.Equal("15 replayed-2\n", signals.Stdout);
        var volumes = await Ok("events", "--since", since, "--until", until, "--filter", "type=volume", "--format", "{{.Action}} {{.Actor.ID}}");
        Assert.Equal("create replayed-data\ndestroy replayed-data\n", volumes.Stdout);
        var images = await Ok("events", "--since", since, "--until", until, "--filter", "image=local/other:tag", "--format", "{{.Type}} {{.Action}}");
        Assert.Equal("image tag\nimage untag\n", images.Stdout);
        Assert.Empty((await Ok("events", "--since", "1h", "--until", since, "--filter", $"container={id}")).Stdout);

        var json = await Ok("events", "--since", since, "--until", until, "--filter", "event=die", "--format", "json");
        using var document = JsonDocument.Parse(json.Stdout);
        var die = document.RootElement;
        Assert.Equal("container", die.GetProperty("Type").GetString());
        Assert.Equal("die", die.GetProperty("Action").GetString());
        Assert.Equal("die", die.GetProperty("status").GetString());
        Assert.Equal(id, die.GetProperty("id").GetString());
        Assert.Equal(Image, die.GetProperty("from").GetString());
        Assert.Equal(id, die.GetProperty("Actor").GetProperty("ID").GetString());
        var attributes = die.GetProperty("Actor").GetProperty("Attributes");
        Assert.Equal("143", attributes.GetProperty("exitCode").GetString());
        Assert.Equal("replayed-2", attributes.GetProperty("name").GetString());
        Assert.Equal("red", attributes.GetProperty("team").GetString());
        Assert.Equal(die.GetProperty("timeNano").GetInt64() / 1_000_000_000, die.GetProperty("time").GetInt64());
        Assert.InRange(die.GetProperty("time").GetInt64(), start.ToUnixTimeSeconds(), end.ToUnixTimeSeconds());

        var bad = await Skiff.RunAsync(Root, "events", "--filter", "colour=red");
        Assert.Equal(1, bad.ExitCode);
        Assert.Single(bad.Stderr.TrimEnd().Split('\n'));
        Assert.Equal(1, (await Skiff.RunAsync(Root, "events", "--since", "yesterday")).ExitCode);
    }

    [Fact]
    public async Task TheMonitorRecordsAnOomKillBeforeTheDie()
    {
        // The shell keeps what cat reads from /dev/urandom: it grows until the 16 MB limit's OOM killer ends it.
        var run = await Skiff.RunAsync(Root, "run", "--rm", "--name", "oom-hog", "-m", "16m", Image, "sh", "-c", "x=$(cat /dev/urandom)");
        Assert.Equal(137, run.ExitCode);
        var events = await Ok("events", "--since", "10m", "--until", "0s", "--filter", "container=oom-hog", "--format", "{{.Action}} {{.Actor.Attributes.exitCode}}");
        Assert.Equal("create <no value>\nattach <no value>\nstart <no value>\noom <no value>\ndie 137\ndestroy <no value>\n", events.Stdout);
    }
}
