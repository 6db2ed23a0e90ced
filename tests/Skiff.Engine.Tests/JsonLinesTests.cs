using System.Text;

namespace Skiff.Engine.Tests;

/// <summary>The chunked line readers under `logs` and `events`: forward from an offset, and backward from the end.</summary>
public sealed class JsonLinesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-engine-lines-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string content)
    {
        var path = Path.Combine(_directory, "lines");
        File.WriteAllText(path, content);
        return path;
    }

    private static List<(long Start, string Text)> Backward(string path, int chunkSize, int maximumLine = JsonLines.MaximumLine)
    {
        using var file = JsonLines.OpenForReading(path)!;
        return JsonLines.Backward(file.SafeFileHandle, file.Length, chunkSize, maximumLine)
            .Select(line => (line.Start, Encoding.UTF8.GetString(line.Bytes.Span))).ToList();
    }

    /// <summary>Any line is an item here: the reader's own rules (complete, not too long) are what is tested.</summary>
    private static string Text(ReadOnlyMemory<byte> line) => Encoding.UTF8.GetString(line.Span);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(JsonLines.ChunkSize)]
    public void Backward_returns_each_complete_line_last_first_with_its_offset_whatever_the_chunk_size(int chunkSize)
    {
        var path = Write("first\n\na line longer than the smaller chunks\r\nx\nbeing writ");
        Assert.Equal([(46, "x"), (7, "a line longer than the smaller chunks\r"), (6, ""), (0, "first")], Backward(path, chunkSize));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    public void Backward_passes_over_lines_too_long_to_hold_and_the_line_being_written(int chunkSize)
    {
        var path = Write("short\n" + new string('x', 100) + "\nok\n" + new string('y', 20) + "\nlast\n" + new string('z', 500));
        Assert.Equal([(131, "last"), (107, "ok"), (0, "short")], Backward(path, chunkSize, maximumLine: 16));
    }

    [Fact]
    public void Backward_of_a_file_without_a_complete_line_returns_nothing()
    {
        Assert.Empty(Backward(Write(""), 4));
        Assert.Empty(Backward(Write("no newline yet"), 4));
        Assert.Equal([(0, "")], Backward(Write("\n"), 4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(JsonLines.ChunkSize)]
    public void Forward_reads_complete_lines_and_a_partial_one_once_it_is_complete(int chunkSize)
    {
        var path = Write("one\ntwo is longer\nthr");
        using var reader = new LineReader(JsonLines.OpenForReading(path)!, 0, chunkSize);
        Assert.Equal(["one", "two is longer"], reader.ReadNew(Text));
        Assert.Equal(18, reader.Offset);
        Assert.Empty(reader.ReadNew(Text));
        File.AppendAllText(path, "ee\r\n\nfour\n");
        Assert.Equal(["three\r", "", "four"], reader.ReadNew(Text));
        Assert.Equal(new FileInfo(path).Length, reader.Offset);
    }

    [Fact]
    public void Forward_stops_at_the_end_it_is_given_and_goes_on_from_there()
    {
        var path = Write("a\nb\nc\n");
        using var reader = new LineReader(JsonLines.OpenForReading(path)!, 0, chunkSize: 2);
        Assert.Equal(["a", "b"], reader.ReadNew(Text, end: 5));
        Assert.Equal(["c"], reader.ReadNew(Text));
    }

    [Fact]
    public void Forward_skips_a_line_too_long_to_hold_even_while_it_is_still_being_written()
    {
        var path = Write("before\n" + new string('x', 40));
        using var reader = new LineReader(JsonLines.OpenForReading(path)!, 0, chunkSize: 4, maximumLine: 16);
        Assert.Equal(["before"], reader.ReadNew(Text));
        Assert.Equal(7 + 32, reader.Offset); // what was passed over is not read again
        File.AppendAllText(path, new string('x', 40) + "\nafter\n");
        Assert.Equal(["after"], reader.ReadNew(Text));
        File.AppendAllText(path, new string('y', 15) + "\n");
        Assert.Equal([new string('y', 15)], reader.ReadNew(Text));
    }

    [Fact]
    public void Forward_reads_a_file_truncated_in_place_from_its_start()
    {
        var path = Write("an old line\nanother old line\n");
        using var reader = new LineReader(JsonLines.OpenForReading(path)!, 0);
        Assert.Equal(2, reader.ReadNew(Text).Count());
        using (var truncate = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
            truncate.Write("new\n"u8);
        Assert.Equal(["new"], reader.ReadNew(Text));
    }

    [Fact]
    public void Torn_lines_are_skipped_by_the_parser()
    {
        var path = Write("{\"n\":1}\n{\"n\":\n\n{\"n\":3}\n");
        using var reader = new LineReader(JsonLines.OpenForReading(path)!, 0);
        Assert.Equal(["1", "3"], reader.ReadNew(line =>
        {
            using var document = System.Text.Json.JsonDocument.Parse(line);
            return document.RootElement.GetProperty("n").GetRawText();
        }));
    }
}
