using System.Collections.Concurrent;
using System.Text.Json;
using Skiff.Engine.Events;

namespace Skiff.Engine.Tests;

public sealed class EventJournalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-engine-events-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static EngineEvent Container(string action, string id = "c0ffee", params (string Key, string Value)[] attributes)
        => EngineEvent.Now(EngineEvent.Container, action, id, new Dictionary<string, string>(attributes.Select(a => KeyValuePair.Create(a.Key, a.Value))) { ["image"] = "busybox", ["name"] = "web" });

    private static List<EngineEvent> Past(EventJournal journal) => journal.Read(DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow, follow: false).ToList();

    [Fact]
    public void Events_are_read_back_in_order_in_the_shape_of_docker_events_api()
    {
        var journal = new EventJournal(_directory);
        var before = DateTimeOffset.UtcNow;
        journal.Record(Container("create"));
        journal.Record(Container("die", attributes: ("exitCode", "3")));
        journal.Record(EngineEvent.Now(EngineEvent.Volume, "create", "data", new Dictionary<string, string> { ["driver"] = "local" }));

        var events = Past(journal);
        Assert.Equal(["create", "die", "create"], events.Select(e => e.Action));
        Assert.True(events[0].TimeNano >= (before - DateTimeOffset.UnixEpoch).Ticks * 100);
        Assert.Equal(events[0].TimeNano / 1_000_000_000, events[0].Time);

        using var json = JsonDocument.Parse(File.ReadAllLines(Path.Combine(_directory, EventJournal.FileName))[1]);
        var root = json.RootElement;
        Assert.Equal("die", root.GetProperty("status").GetString());
        Assert.Equal("c0ffee", root.GetProperty("id").GetString());
        Assert.Equal("busybox", root.GetProperty("from").GetString());
        Assert.Equal("container", root.GetProperty("Type").GetString());
        Assert.Equal("c0ffee", root.GetProperty("Actor").GetProperty("ID").GetString());
        Assert.Equal("3", root.GetProperty("Actor").GetProperty("Attributes").GetProperty("exitCode").GetString());
        Assert.Equal("local", root.GetProperty("scope").GetString());
        Assert.Null(events[2].Status); // volume events have no legacy fields

        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die c0ffee \(exitCode=3, image=busybox, name=web\)$", events[1].ToString());
    }

    [Fact]
    public void Since_and_until_select_a_time_range()
    {
        var journal = new EventJournal(_directory);
        journal.Record(Container("create"));
        var middle = DateTimeOffset.UtcNow;
        while (DateTimeOffset.UtcNow == middle)
            Thread.Yield();
        journal.Record(Container("start"));
        Assert.Equal(["start"], journal.Read(middle, null, follow: false).Select(e => e.Action));
        Assert.Equal(["create"], journal.Read(null, middle, follow: false).Select(e => e.Action));
    }

    [Fact]
    public void At_its_size_limit_the_journal_is_rotated_once_and_keeps_the_newest_events()
    {
        var journal = new EventJournal(_directory, maximumSize: 2000);
        for (int i = 0; i < 40; i++)
            journal.Record(Container("start", id: $"container-{i:D2}"));

        Assert.True(File.Exists(Path.Combine(_directory, EventJournal.FileName + ".1")));
        Assert.False(File.Exists(Path.Combine(_directory, EventJournal.FileName + ".2")));
        Assert.True(new FileInfo(Path.Combine(_directory, EventJournal.FileName)).Length <= 2000);
        var ids = Past(journal).Select(e => int.Parse(e.Actor.Id["container-".Length..])).ToList();
        Assert.Equal(39, ids[^1]);
        Assert.Equal(Enumerable.Range(ids[0], ids.Count), ids); // contiguous: nothing lost between the two files
    }

    [Fact]
    public void A_foreign_line_too_long_to_be_an_event_is_skipped()
    {
        var journal = new EventJournal(_directory);
        journal.Record(Container("create"));
        File.AppendAllText(Path.Combine(_directory, EventJournal.FileName), new string('x', 3 * JsonLines.MaximumLine) + "\n");
        journal.Record(Container("start"));
        Assert.Equal(["create", "start"], Past(journal).Select(e => e.Action));
    }

    [Fact]
    public void Concurrent_writers_never_tear_or_interleave_lines()
    {
        var journal = new EventJournal(_directory);
        Parallel.For(0, 8, writer =>
        {
            for (int i = 0; i < 100; i++)
                new EventJournal(_directory).Record(Container("exec_start: sh -c 'echo a long command line to make lines longer'", id: $"{writer}-{i}"));
        });
        var lines = File.ReadAllLines(Path.Combine(_directory, EventJournal.FileName));
        Assert.Equal(800, lines.Length);
        Assert.Equal(800, Past(journal).Select(e => e.Actor.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_follower_sees_new_events_across_rotations_and_stops_when_cancelled()
    {
        var journal = new EventJournal(_directory, maximumSize: 1000);
        var seen = new BlockingCollection<EngineEvent>();
        using var cancel = new CancellationTokenSource();
        var follower = Task.Run(() =>
        {
            foreach (var e in journal.Read(null, null, follow: true, cancel.Token))
                seen.Add(e);
        });
        // Probes until the follower answers: from then on it is watching, whatever the scheduling.
        int probes = 0;
        EngineEvent? first;
        do
        {
            journal.Record(Container("probe", id: $"probe-{probes++}"));
        }
        while (!seen.TryTake(out first, 200));
        Assert.Equal("probe", first.Action);
        while (seen.TryTake(out _, 0))
        {
        }

        for (int i = 0; i < 20; i++)
        {
            journal.Record(Container("start", id: $"after-{i}"));
            Assert.True(seen.TryTake(out var e, TimeSpan.FromSeconds(30)), $"event {i} not followed");
            // Probes written before the follower answered may still arrive: skip them.
            while (e!.Action == "probe")
                Assert.True(seen.TryTake(out e, TimeSpan.FromSeconds(30)));
            Assert.Equal($"after-{i}", e.Actor.Id);
        }
        Assert.True(File.Exists(Path.Combine(_directory, EventJournal.FileName + ".1")), "the events crossed a rotation");

        cancel.Cancel();
        await follower.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_follower_with_until_ahead_returns_once_it_passes()
    {
        var journal = new EventJournal(_directory);
        journal.Record(Container("create"));
        var events = journal.Read(DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow.AddMilliseconds(300), follow: true).ToList();
        Assert.Equal(["create"], events.Select(e => e.Action));
    }

    [Fact]
    public void Filters_match_as_docker_s_do()
    {
        var create = Container("create", attributes: ("team", "a"));
        var exec = Container("exec_create: sh -c true");
        var volume = EngineEvent.Now(EngineEvent.Volume, "destroy", "data", new Dictionary<string, string> { ["driver"] = "local" });
        var tag = EngineEvent.Now(EngineEvent.Image, "tag", "sha256:abc", new Dictionary<string, string> { ["name"] = "busybox:v1" });
        bool Matches(EngineEvent e, params string[] filters) => EventFilter.Parse(filters).Matches(e);

        Assert.True(Matches(create, "container=web"));
        Assert.True(Matches(create, "container=c0f"));
        Assert.False(Matches(volume, "container=web"));
        Assert.True(Matches(exec, "event=exec_create"));
        Assert.False(Matches(exec, "event=exec"));
        Assert.True(Matches(create, "event=die", "event=create"));
        Assert.False(Matches(create, "event=create", "type=image"));
        Assert.True(Matches(create, "label=team"));
        Assert.True(Matches(create, "label=team=a"));
        Assert.False(Matches(create, "label=team=b"));
        Assert.True(Matches(create, "image=busybox"));
        Assert.True(Matches(tag, "image=busybox:v1"));
        Assert.True(Matches(tag, "image=abc"));
        Assert.True(Matches(volume, "volume=data", "type=volume"));
        Assert.False(Matches(volume, "volume=other"));
        var error = Assert.Throws<EngineException>(() => EventFilter.Parse(["colour=red"]));
        Assert.Equal("invalid filter 'colour'", error.Message);
    }
}
