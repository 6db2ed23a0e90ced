using System.Text;
using System.Text.Json;
using Skiff.Engine.Containers;

namespace Skiff.Engine.Monitor;

/// <summary>
/// docker's json-file log driver: one JSON object per line ({"log":"...","stream":"stdout","time":"RFC 3339"}),
/// one entry per line of output (a line longer than 16 KiB is split, as docker does), rotated to FILE.1 ... when
/// max-size is reached, keeping max-file files in all.
/// </summary>
public sealed class JsonFileLog : IDisposable
{
    private const int MaximumLine = 16 * 1024;
    private readonly string _path;
    private readonly LogOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MemoryStream> _partial = new();
    private FileStream _file;

    public JsonFileLog(string path, LogOptions options)
    {
        _path = path;
        _options = options;
        _file = Open(path);
    }

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");

    /// <summary>Appends output of one stream; complete lines are written now, a partial one when it completes or at <see cref="Flush"/>.</summary>
    public void Write(string stream, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (!_partial.TryGetValue(stream, out var pending))
                _partial[stream] = pending = new MemoryStream();
            while (data.Length > 0)
            {
                int newline = data.IndexOf((byte)'\n');
                int take = newline < 0 ? data.Length : newline + 1;
                take = Math.Min(take, MaximumLine - (int)pending.Length);
                pending.Write(data[..take]);
                data = data[take..];
                if ((newline >= 0 && pending.GetBuffer()[pending.Length - 1] == '\n') || pending.Length >= MaximumLine)
                    Emit(stream, pending);
            }
            _file.Flush();
        }
    }

    /// <summary>Writes what is left of unfinished lines (the container exited mid-line).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            foreach (var (stream, pending) in _partial)
                if (pending.Length > 0)
                    Emit(stream, pending);
            _file.Flush();
        }
    }

    private void Emit(string stream, MemoryStream pending)
    {
        var line = new MemoryStream();
        using (var writer = new Utf8JsonWriter(line))
        {
            writer.WriteStartObject();
            writer.WriteString("log", Encoding.UTF8.GetString(pending.GetBuffer(), 0, (int)pending.Length));
            writer.WriteString("stream", stream);
            writer.WriteString("time", FormatTime(DateTimeOffset.UtcNow));
            writer.WriteEndObject();
        }
        line.WriteByte((byte)'\n');
        pending.SetLength(0);
        if (_options.MaxSize is { } maxSize && _file.Length > 0 && _file.Length + line.Length > maxSize)
            Rotate();
        _file.Write(line.GetBuffer(), 0, (int)line.Length);
    }

    private void Rotate()
    {
        _file.Dispose();
        if (_options.MaxFiles <= 1)
        {
            _file = Open(_path, FileMode.Create);
            return;
        }
        File.Delete($"{_path}.{_options.MaxFiles - 1}");
        for (int i = _options.MaxFiles - 2; i >= 1; i--)
            if (File.Exists($"{_path}.{i}"))
                File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
        File.Move(_path, $"{_path}.1");
        _file = Open(_path);
    }

    /// <summary>What a container printed is its owner's business: 0600, not the umask's 0644.</summary>
    private static FileStream Open(string path, FileMode mode = FileMode.Append) => new(path, new FileStreamOptions
    {
        Mode = mode,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite | FileShare.Delete,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });

    public void Dispose()
    {
        Flush();
        _file.Dispose();
    }
}
