using Microsoft.Extensions.Logging;
using Skiff.Engine.Events;
using Skiff.Engine.Logging;

namespace Skiff.Engine.Tests;

public sealed class EventServiceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-engine-event-service-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static EngineEvent Container(string action, string id, string name, string image = "busybox")
        => EngineEvent.Now(EngineEvent.Container, action, id, new Dictionary<string, string> { ["image"] = image, ["name"] = name, ["tier"] = "web" });

    private static async Task<List<EngineEvent>> All(IAsyncEnumerable<EngineEvent> events)
    {
        var list = new List<EngineEvent>();
        await foreach (var e in events)
            list.Add(e);
        return list;
    }

    private static EventQuery Past(params string[] filters) => new() { Since = DateTimeOffset.UnixEpoch, Until = DateTimeOffset.UtcNow, Filters = filters };

    [Fact]
    public async Task Filters_are_anded_across_keys_and_ored_within_one()
    {
        var events = new EventService(new EventJournal(_directory));
        events.Record(Container("create", "c0ffee01", "web"));
        events.Record(Container("start", "c0ffee01", "web"));
        events.Record(Container("start", "deadbeef", "db", image: "postgres"));
        events.RecordImage("tag", "sha256:" + new string('a', 64), "busybox:latest");
        events.Record(EngineEvent.Now(EngineEvent.Volume, "create", "data", new Dictionary<string, string> { ["driver"] = "local" }));

        Assert.Equal(5, (await All(events.ReadAsync(Past()))).Count);
        Assert.Equal(["c0ffee01", "deadbeef"], (await All(events.ReadAsync(Past("event=start")))).Select(e => e.Actor.Id));
        Assert.Equal(["c0ffee01"], (await All(events.ReadAsync(Past("event=start", "container=web")))).Select(e => e.Actor.Id));
        Assert.Equal(["create", "start"], (await All(events.ReadAsync(Past("container=c0ffee")))).Select(e => e.Action));
        Assert.Equal(["tag", "create"], (await All(events.ReadAsync(Past("type=image", "type=volume")))).Select(e => e.Action));
        // image= matches a container's image and an image's ID (with or without the algorithm) or name.
        Assert.Equal(["c0ffee01", "c0ffee01", "sha256:" + new string('a', 64)],
            (await All(events.ReadAsync(Past("image=busybox", "image=busybox:latest")))).Select(e => e.Actor.Id));
        Assert.Single(await All(events.ReadAsync(Past("image=" + new string('a', 64)))));
        Assert.Equal(3, (await All(events.ReadAsync(Past("label=tier=web")))).Count);
        Assert.Equal(["data"], (await All(events.ReadAsync(Past("volume=data")))).Select(e => e.Actor.Id));
    }

    [Fact]
    public async Task Since_and_until_bound_the_past_events()
    {
        var events = new EventService(new EventJournal(_directory));
        events.Record(Container("create", "c1", "one"));
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(5);
        events.Record(Container("create", "c2", "two"));

        Assert.Equal(["c2"], (await All(events.ReadAsync(new EventQuery { Since = between, Until = DateTimeOffset.UtcNow }))).Select(e => e.Actor.Id));
        Assert.Equal(["c1"], (await All(events.ReadAsync(new EventQuery { Since = DateTimeOffset.UnixEpoch, Until = between }))).Select(e => e.Actor.Id));
    }

    [Fact]
    public void A_malformed_filter_fails_before_any_event_is_read()
    {
        var events = new EventService(new EventJournal(_directory));
        var error = Assert.ThrowsAny<SkiffException>(() => events.ReadAsync(Past("colour=red")));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("colour", error.Message);
    }

    [Fact]
    public async Task Following_sees_new_events_and_ends_when_cancelled()
    {
        var events = new EventService(new EventJournal(_directory));
        using var cancel = new CancellationTokenSource();
        var seen = new List<string>();
        var follower = Task.Run(async () =>
        {
            await foreach (var e in events.ReadAsync(new EventQuery { Filters = ["type=container"] }, cancel.Token))
            {
                seen.Add(e.Action);
                if (e.Action == "stop")
                    cancel.Cancel();
            }
        });
        // The follower starts at the end of the journal: record until it has seen one, then the one it stops at.
        while (!follower.IsCompleted && seen.Count == 0)
        {
            events.Record(Container("start", "c1", "one"));
            await Task.Delay(20);
        }
        events.RecordImage("pull", "busybox:latest", "busybox");
        events.Record(Container("stop", "c1", "one"));
        await follower.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal("stop", seen[^1]);
        Assert.All(seen[..^1], action => Assert.Equal("start", action));
    }

    [Fact]
    public void An_event_that_cannot_be_written_is_a_one_line_warning_in_the_log_not_a_failure()
    {
        string blocked = Path.Combine(_directory, "not-a-directory");
        File.WriteAllText(blocked, "");
        var log = new StringWriter();
        using var provider = new TextWriterLoggerProvider(log);
        var events = new EventService(new EventJournal(blocked, logger: provider.CreateLogger("events")));

        events.RecordImage("pull", "busybox:latest", "busybox");

        var line = Assert.Single(log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("skiff: warning: the image pull event of busybox:latest was not recorded in ", line);
        Assert.DoesNotMatch(@"[A-Z][a-z]+_[A-Z]", line);
    }
}
