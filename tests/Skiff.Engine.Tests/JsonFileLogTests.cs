using System.Text;
using System.Text.Json;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;

namespace Skiff.Engine.Tests;

public sealed class JsonFileLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-engine-log-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<(string Log, string Stream)> Entries(string path)
        => File.ReadAllLines(path).Select(line =>
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            Assert.True(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), out _));
            return (root.GetProperty("log").GetString()!, root.GetProperty("stream").GetString()!);
        }).ToList();

    [Fact]
    public void Each_line_is_one_entry_with_its_stream_and_partial_lines_wait_for_their_end()
    {
        var path = Path.Combine(_directory, "container.log");
        using (var log = new JsonFileLog(path, LogOptions.Default))
        {
            log.Write("stdout", Encoding.UTF8.GetBytes("one\ntw"));
            log.Write("stderr", Encoding.UTF8.GetBytes("err \"quoted\"\n"));
            log.Write("stdout", Encoding.UTF8.GetBytes("o\nthree"));
        }
        Assert.Equal([("one\n", "stdout"), ("err \"quoted\"\n", "stderr"), ("two\n", "stdout"), ("three", "stdout")], Entries(path));
    }

    [Fact]
    public void Long_lines_are_split_at_16_KiB()
    {
        var path = Path.Combine(_directory, "container.log");
        using (var log = new JsonFileLog(path, LogOptions.Default))
            log.Write("stdout", Encoding.UTF8.GetBytes(new string('x', 40_000) + "\n"));
        Assert.Equal([16384, 16384, 40_001 - 32768], Entries(path).Select(e => e.Log.Length));
    }

    [Fact]
    public void Rotation_keeps_max_file_files_under_max_size()
    {
        var path = Path.Combine(_directory, "container.log");
        using (var log = new JsonFileLog(path, new LogOptions(300, 3)))
            for (int i = 0; i < 40; i++)
                log.Write("stdout", Encoding.UTF8.GetBytes($"line {i:D2}\n"));
        Assert.False(File.Exists(path + ".3"));
        foreach (var file in new[] { path, path + ".1", path + ".2" })
            Assert.InRange(new FileInfo(file).Length, 1, 300);
        var kept = Entries(path + ".2").Concat(Entries(path + ".1")).Concat(Entries(path)).Select(e => e.Log).ToList();
        Assert.Equal("line 39\n", kept[^1]);
        Assert.Equal(Enumerable.Range(40 - kept.Count, kept.Count).Select(i => $"line {i:D2}\n"), kept);
    }
}
