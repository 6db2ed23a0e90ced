using System.Text.Json;
using Skiff.Engine.Containers;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

public sealed partial class ContainerManager
{
    /// <summary>
    /// `skiff logs [--tail N] [--since T] [--until T] [-f]`: the json-file entries, rotated files first. With Follow,
    /// keeps yielding new entries (across rotations) until the container stops or <paramref name="cancel"/> fires.
    /// </summary>
    public IEnumerable<LogEntry> Logs(string idOrName, LogsRequest request, CancellationToken cancel = default)
    {
        var container = Require(idOrName);
        var path = Path.Combine(_options.ContainerDirectory(container.Id), LogFileName);
        var entries = new List<LogEntry>();
        for (int i = container.Config.Log.MaxFiles - 1; i >= 1; i--)
            if (File.Exists($"{path}.{i}"))
                entries.AddRange(ReadEntries(File.ReadAllBytes($"{path}.{i}"), out _));
        var current = File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete) : null;
        long offset = 0;
        if (current is not null)
        {
            var bytes = new byte[current.Length];
            current.ReadExactly(bytes);
            entries.AddRange(ReadEntries(bytes, out var complete));
            offset = complete;
        }
        var selected = entries.Where(e => Wanted(e, request));
        if (request.Tail is { } tail)
            selected = selected.TakeLast(Math.Max(0, tail));
        foreach (var entry in selected)
            yield return entry;
        if (!request.Follow)
        {
            current?.Dispose();
            yield break;
        }

        using var disposeCurrent = current;
        while (!cancel.IsCancellationRequested)
        {
            current ??= File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete) : null;
            bool grew = false;
            if (current is not null && current.Length > offset)
            {
                current.Position = offset;
                var bytes = new byte[current.Length - offset];
                current.ReadExactly(bytes);
                var fresh = ReadEntries(bytes, out var complete);
                offset += complete;
                foreach (var entry in fresh.Where(e => Wanted(e, request)))
                    yield return entry;
                grew = true;
            }
            if (current is not null && Rotated(current, path))
            {
                // Everything of the old file was read above: go on with the new one from its start.
                current.Dispose();
                current = null;
                offset = 0;
                continue;
            }
            if (grew)
                continue;
            var state = _store.Get(container.Id) is { } latest ? Reconcile(latest).State : null;
            if (state is null || !(IsActive(state.Status) || (state.Status == ContainerStatus.Created && MonitorAlive(container with { State = state }))))
            {
                if (current is not null && current.Length > offset)
                    continue;
                current?.Dispose();
                yield break;
            }
            cancel.WaitHandle.WaitOne(100);
        }
        current?.Dispose();
    }

    private static bool Wanted(LogEntry entry, LogsRequest request)
        => (request.Since is not { } since || entry.Time >= since) && (request.Until is not { } until || entry.Time <= until);

    /// <summary>A rotation renames our file away: the path then names a different inode, or none.</summary>
    private static bool Rotated(FileStream open, string path)
        => InodeOf(path) != InodeOf($"/proc/self/fd/{open.SafeFileHandle.DangerousGetHandle()}");

    private static ulong InodeOf(string path)
    {
        using var root = FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/");
        return Libc.TryStatAt(root, path, followLastSymlink: true)?.Ino ?? 0;
    }

    /// <summary>The complete lines of a json-file log; <paramref name="complete"/> is how many bytes they span.</summary>
    private static List<LogEntry> ReadEntries(byte[] bytes, out long complete)
    {
        var entries = new List<LogEntry>();
        int start = 0;
        while (true)
        {
            int newline = Array.IndexOf(bytes, (byte)'\n', start);
            if (newline < 0)
                break;
            try
            {
                using var document = JsonDocument.Parse(bytes.AsMemory(start, newline - start));
                var root = document.RootElement;
                entries.Add(new LogEntry(root.GetProperty("stream").GetString() ?? "stdout", root.GetProperty("log").GetString() ?? "",
                    DateTimeOffset.Parse(root.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                // A line torn by a crash mid-write: skip it, as docker does.
            }
            start = newline + 1;
        }
        complete = start;
        return entries;
    }

    /// <summary>A log entry as `logs` prints it: the text, prefixed by its time with -t.</summary>
    public static string Format(LogEntry entry, bool timestamps)
        => timestamps ? $"{Monitor.JsonFileLog.FormatTime(entry.Time)} {entry.Text}" : entry.Text;
}
