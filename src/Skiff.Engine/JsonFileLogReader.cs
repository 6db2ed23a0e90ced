using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Skiff.Engine;

/// <summary>Reads a container's json-file log (<see cref="Monitor.JsonFileLog"/> writes it), following it as it grows and rotates.</summary>
internal static class JsonFileLogReader
{
    /// <summary>
    /// The entries of the json-file log at <paramref name="path"/> (and its <paramref name="maxFiles"/> - 1 rotated files)
    /// that <paramref name="request"/> selects, streamed: memory holds one line, whatever the log's size. --tail reads
    /// backwards from the end only as far as its entries start. With Follow, new entries follow until
    /// <paramref name="writing"/> says the container stopped.
    /// </summary>
    public static async IAsyncEnumerable<LogEntry> Read(string path, int maxFiles, LogsRequest request, Func<bool> writing, [EnumeratorCancellation] CancellationToken cancel = default)
    {
        // Newest first, each opened once: a file renamed by a rotation while they are opened is not read twice.
        var files = new List<LineReader>();
        try
        {
            var inodes = new HashSet<ulong>();
            LineReader? current = null;
            for (int i = 0; i < maxFiles; i++)
            {
                if (LineReader.Open(i == 0 ? path : $"{path}.{i}") is not { } file)
                    continue;
                if (!inodes.Add(JsonLines.Inode(file.File)))
                {
                    file.Dispose();
                    continue;
                }
                files.Add(file);
                if (i == 0)
                    current = file;
            }
            var ends = files.Select(file => file.File.Length).ToList();
            int first = files.Count - 1;
            if (request.Tail is { } tail)
                first = SeekTail(files, ends, Math.Max(0, tail), request);
            for (int i = first; i >= 0; i--)
                foreach (var entry in files[i].ReadNew(ParseEntry, ends[i]))
                    if (Wanted(entry, request))
                        yield return entry;
            if (!request.Follow)
                yield break;

            bool stopped = false;
            while (!cancel.IsCancellationRequested)
            {
                if (current is null && LineReader.Open(path) is { } opened)
                    files.Add(current = opened);
                bool progressed = false;
                if (current is not null)
                {
                    long before = current.Offset;
                    foreach (var entry in current.ReadNew(ParseEntry))
                        if (Wanted(entry, request))
                            yield return entry;
                    progressed = current.Offset != before;
                    if (JsonLines.Rotated(current.File, path))
                    {
                        // The writer renamed the file after its last write to it: what it wrote since the read above,
                        // then the files that followed it, each from its start.
                        foreach (var entry in current.ReadNew(ParseEntry))
                            if (Wanted(entry, request))
                                yield return entry;
                        var next = Successor(path, maxFiles, JsonLines.Inode(current.File));
                        files.Remove(current);
                        current.Dispose();
                        if ((current = next) is not null)
                            files.Add(current);
                        continue;
                    }
                }
                if (progressed)
                    continue;
                if (stopped)
                    yield break;
                // Once it stopped, one more pass: it may have written or rotated since the read above.
                stopped = !writing();
                if (!stopped)
                    await Task.WhenAny(Task.Delay(100, cancel)); // cancelled: the loop ends, no exception
            }
        }
        finally
        {
            foreach (var file in files)
                file.Dispose();
        }
    }

    /// <summary>
    /// The file written after the one of inode <paramref name="previous"/>, which rotations renamed to FILE.K: FILE.K-1
    /// (FILE itself for K = 1). When it is gone (rotated past max-file while it was read), the oldest file left.
    /// Null when FILE is between its rename and its creation: it is opened once it is there.
    /// </summary>
    private static LineReader? Successor(string path, int maxFiles, ulong previous)
    {
        string Name(int index) => index == 0 ? path : $"{path}.{index}";
        while (true)
        {
            int at = Enumerable.Range(1, maxFiles - 1).FirstOrDefault(i => JsonLines.InodeOf(Name(i)) == previous);
            if (at == 0)
                return Enumerable.Range(0, maxFiles).Reverse().Select(i => LineReader.Open(Name(i))).FirstOrDefault(file => file is not null);
            var next = LineReader.Open(Name(at - 1));
            if (JsonLines.InodeOf(Name(at)) == previous)
                return next;
            // Another rotation moved the files between the two looks: look again.
            next?.Dispose();
        }
    }

    /// <summary>
    /// Positions the readers where the last <paramref name="tail"/> selected entries start, reading the files backwards
    /// from their ends (the newest first) only that far; returns the index of the file to read first.
    /// </summary>
    private static int SeekTail(List<LineReader> files, List<long> ends, int tail, LogsRequest request)
    {
        if (files.Count == 0)
            return -1;
        if (tail == 0)
        {
            // Nothing old: a follower goes on from the newest file's last complete line.
            files[0].Seek(JsonLines.CompleteLength(files[0].File.SafeFileHandle, ends[0]));
            return 0;
        }
        int found = 0;
        for (int i = 0; i < files.Count; i++)
            foreach (var line in JsonLines.Backward(files[i].File.SafeFileHandle, ends[i]))
                if (JsonLines.TryParse(line.Bytes, ParseEntry) is { } entry && Wanted(entry, request) && ++found == tail)
                {
                    files[i].Seek(line.Start);
                    return i;
                }
        return files.Count - 1;
    }

    private static bool Wanted(LogEntry entry, LogsRequest request)
        => (request.Since is not { } since || entry.Time >= since) && (request.Until is not { } until || entry.Time <= until);

    private static LogEntry ParseEntry(ReadOnlyMemory<byte> line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        return new LogEntry(root.GetProperty("stream").GetString() ?? "stdout", root.GetProperty("log").GetString() ?? "",
            DateTimeOffset.Parse(root.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
