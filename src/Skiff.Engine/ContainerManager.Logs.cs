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
                entries.AddRange(JsonLines.Parse(File.ReadAllBytes($"{path}.{i}"), ParseEntry, out _));
        var current = JsonLines.OpenForReading(path);
        long offset = 0;
        if (current is not null)
            entries.AddRange(JsonLines.ReadNew(current, ref offset, ParseEntry));
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
            current ??= JsonLines.OpenForReading(path);
            bool grew = false;
            if (current is not null && current.Length > offset)
            {
                foreach (var entry in JsonLines.ReadNew(current, ref offset, ParseEntry).Where(e => Wanted(e, request)))
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
    internal static bool Rotated(FileStream open, string path)
        => InodeOf(path) != InodeOf($"/proc/self/fd/{open.SafeFileHandle.DangerousGetHandle()}");

    private static ulong InodeOf(string path)
    {
        using var root = FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/");
        return Libc.TryStatAt(root, path, followLastSymlink: true)?.Ino ?? 0;
    }

    private static LogEntry ParseEntry(ReadOnlyMemory<byte> line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        return new LogEntry(root.GetProperty("stream").GetString() ?? "stdout", root.GetProperty("log").GetString() ?? "",
            DateTimeOffset.Parse(root.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A log entry as `logs` prints it: the text, prefixed by its time with -t.</summary>
    public static string Format(LogEntry entry, bool timestamps)
        => timestamps ? $"{Monitor.JsonFileLog.FormatTime(entry.Time)} {entry.Text}" : entry.Text;
}
