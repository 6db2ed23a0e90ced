using System.Text;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;

namespace Skiff.Engine.Tests;

/// <summary>`logs` over json-file logs as the monitor writes and rotates them: --tail, --since/--until, -f.</summary>
public sealed class LogReaderTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-engine-logs-").FullName;

    private string LogPath => Path.Combine(_directory, "container.log");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Entry(string text, int second = 0, string stream = "stdout")
        => $"{{\"log\":\"{text}\\n\",\"stream\":\"{stream}\",\"time\":\"{JsonFileLog.FormatTime(Start.AddSeconds(second))}\"}}\n";

    private List<string> Read(LogsRequest request, int maxFiles = 1)
        => JsonFileLogReader.Read(LogPath, maxFiles, request, writing: () => false).ToBlockingEnumerable().Select(e => e.Text.TrimEnd('\n')).ToList();

    /// <summary>The follower's next entry; a follower that missed it would wait for ever, so it gets 30 s.</summary>
    private static string Next(IEnumerator<LogEntry> follower)
    {
        var moved = Task.Run(follower.MoveNext);
        Assert.True(moved.Wait(TimeSpan.FromSeconds(30)), "the follower did not see the next entry");
        Assert.True(moved.Result);
        return follower.Current.Text.TrimEnd('\n');
    }

    [Fact]
    public void Tail_reads_the_last_entries_across_rotated_files()
    {
        using (var log = new JsonFileLog(LogPath, new LogOptions(300, 3)))
            for (int i = 0; i < 40; i++)
                log.Write(i % 3 == 0 ? "stderr" : "stdout", Encoding.UTF8.GetBytes($"line {i:D2}\n"));
        var all = Read(new LogsRequest(), maxFiles: 3);
        Assert.True(File.Exists(LogPath + ".2"));
        Assert.Equal("line 39", all[^1]);
        Assert.True(all.Count > 6, "the kept files hold more entries than the tails below");
        foreach (int tail in new[] { 1, 2, 5, all.Count - 1, all.Count, all.Count + 1, 1000 })
            Assert.Equal(all.TakeLast(tail), Read(new LogsRequest { Tail = tail }, maxFiles: 3));
        Assert.Empty(Read(new LogsRequest { Tail = 0 }, maxFiles: 3));
        Assert.Empty(Read(new LogsRequest { Tail = -1 }, maxFiles: 3));
        Assert.Equal(["stdout", "stdout", "stderr"],
            JsonFileLogReader.Read(LogPath, 3, new LogsRequest { Tail = 3 }, () => false).ToBlockingEnumerable().Select(e => e.Stream));
    }

    [Fact]
    public void Tail_counts_neither_torn_lines_nor_the_line_being_written()
    {
        File.WriteAllText(LogPath, Entry("one") + "{\"log\":\"torn\n" + Entry("two") + "\n" + Entry("three") + "{\"log\":\"being wri");
        Assert.Equal(["one", "two", "three"], Read(new LogsRequest()));
        Assert.Equal(["two", "three"], Read(new LogsRequest { Tail = 2 }));
        Assert.Equal(["one", "two", "three"], Read(new LogsRequest { Tail = 3 }));
    }

    [Fact]
    public void A_line_too_long_to_be_an_entry_is_skipped_reading_forward_and_backward()
    {
        File.WriteAllText(LogPath, Entry("before") + new string('x', 3 * JsonLines.MaximumLine) + "\n" + Entry("after"));
        Assert.Equal(["before", "after"], Read(new LogsRequest()));
        Assert.Equal(["before", "after"], Read(new LogsRequest { Tail = 2 }));
        Assert.Equal(["after"], Read(new LogsRequest { Tail = 1 }));
    }

    [Fact]
    public void A_rotated_file_that_ends_in_a_torn_line_is_read_up_to_it()
    {
        File.WriteAllText(LogPath + ".1", Entry("old") + "{\"log\":\"to");
        File.WriteAllText(LogPath, Entry("new"));
        Assert.Equal(["old", "new"], Read(new LogsRequest(), maxFiles: 2));
        Assert.Equal(["old", "new"], Read(new LogsRequest { Tail = 2 }, maxFiles: 2));
    }

    [Fact]
    public void Since_and_until_select_by_time_and_tail_counts_only_what_they_select()
    {
        File.WriteAllText(LogPath + ".2", string.Concat(Enumerable.Range(0, 3).Select(i => Entry($"e{i}", i))));
        File.WriteAllText(LogPath + ".1", string.Concat(Enumerable.Range(3, 4).Select(i => Entry($"e{i}", i))));
        File.WriteAllText(LogPath, string.Concat(Enumerable.Range(7, 3).Select(i => Entry($"e{i}", i))));
        List<string> Range(int from, int to) => Enumerable.Range(from, to - from + 1).Select(i => $"e{i}").ToList();

        Assert.Equal(Range(0, 9), Read(new LogsRequest(), maxFiles: 3));
        Assert.Equal(Range(3, 9), Read(new LogsRequest { Since = Start.AddSeconds(3) }, maxFiles: 3));
        Assert.Equal(Range(0, 5), Read(new LogsRequest { Until = Start.AddSeconds(5) }, maxFiles: 3));
        Assert.Equal(Range(2, 8), Read(new LogsRequest { Since = Start.AddSeconds(2), Until = Start.AddSeconds(8) }, maxFiles: 3));
        Assert.Equal(Range(4, 5), Read(new LogsRequest { Since = Start.AddSeconds(2), Until = Start.AddSeconds(5), Tail = 2 }, maxFiles: 3));
        Assert.Equal(Range(8, 9), Read(new LogsRequest { Since = Start.AddSeconds(8), Tail = 20 }, maxFiles: 3));
        Assert.Empty(Read(new LogsRequest { Since = Start.AddSeconds(10), Tail = 1 }, maxFiles: 3));
    }

    [Theory]
    [InlineData(2, 2)] // one rotation between reads: the first line went to the old file after the follower last read it
    [InlineData(3, 3)] // two: the follower reads the file in between
    [InlineData(3, 2)] // two with max-file 2: the follower's file is deleted under it; it reads it to its end, then the next
    public void A_follower_goes_on_across_rotations_and_ends_once_the_container_stopped(int linesBetweenReads, int maxFiles)
    {
        bool running = true;
        // Lines of ~80 bytes in files of 200: a rotation every two lines.
        using var log = new JsonFileLog(LogPath, new LogOptions(200, maxFiles));
        log.Write("stdout", "old\n"u8);
        using var follower = JsonFileLogReader.Read(LogPath, maxFiles, new LogsRequest { Follow = true }, () => running).ToBlockingEnumerable().GetEnumerator();
        Assert.Equal("old", Next(follower));
        for (int i = 0; i < 12; i += linesBetweenReads)
        {
            for (int j = i; j < i + linesBetweenReads; j++)
                log.Write("stdout", Encoding.UTF8.GetBytes($"line {j}\n"));
            for (int j = i; j < i + linesBetweenReads; j++)
                Assert.Equal($"line {j}", Next(follower));
        }
        Assert.True(File.Exists($"{LogPath}.{maxFiles - 1}"), "the log was rotated");
        log.Write("stdout", "last\n"u8);
        running = false;
        Assert.Equal("last", Next(follower));
        Assert.False(follower.MoveNext());
    }

    [Fact]
    public void A_follower_of_a_log_of_one_file_reads_it_again_once_truncated()
    {
        bool running = true;
        using var log = new JsonFileLog(LogPath, new LogOptions(200, 1));
        using var follower = JsonFileLogReader.Read(LogPath, 1, new LogsRequest { Follow = true }, () => running).ToBlockingEnumerable().GetEnumerator();
        for (int i = 0; i < 8; i++)
        {
            log.Write("stdout", Encoding.UTF8.GetBytes($"line {i}\n"));
            Assert.Equal($"line {i}", Next(follower));
        }
        Assert.True(new FileInfo(LogPath).Length < 200);
        running = false;
        Assert.False(follower.MoveNext());
    }

    [Fact]
    public async Task Tail_with_follow_starts_at_the_last_entries_and_tail_0_at_the_last_complete_line()
    {
        bool running = true;
        using var waiting = new SemaphoreSlim(0);
        File.WriteAllText(LogPath, Entry("one") + Entry("two") + Entry("three")[..20]);
        using var fromTwo = JsonFileLogReader.Read(LogPath, 1, new LogsRequest { Follow = true, Tail = 1 }, () => running).ToBlockingEnumerable().GetEnumerator();
        // The follower asks whether the container still runs once it has read all there is: from then on it waits for more.
        using var fromNow = JsonFileLogReader.Read(LogPath, 1, new LogsRequest { Follow = true, Tail = 0 }, () => waiting.Release() >= 0 && running).ToBlockingEnumerable().GetEnumerator();
        var three = Task.Run(() => Next(fromNow));
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("two", Next(fromTwo));
        File.AppendAllText(LogPath, Entry("three")[20..] + Entry("four"));
        Assert.Equal("three", await three.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("three", Next(fromTwo));
        Assert.Equal("four", Next(fromNow));
        Assert.Equal("four", Next(fromTwo));
        running = false;
        Assert.False(fromNow.MoveNext());
        Assert.False(fromTwo.MoveNext());
    }
}
