using System.Text.Json;

namespace Skiff.Engine;

/// <summary>Files of one JSON document per line (container logs, the event journal), read while writers append.</summary>
internal static class JsonLines
{
    /// <summary>
    /// The complete lines of <paramref name="bytes"/>, parsed; <paramref name="complete"/> is how many bytes they
    /// span (a trailing partial line is being written: read it next time). A torn or foreign line is skipped.
    /// </summary>
    public static List<T> Parse<T>(byte[] bytes, Func<ReadOnlyMemory<byte>, T?> parse, out long complete) where T : class
    {
        var items = new List<T>();
        int start = 0;
        while (true)
        {
            int newline = Array.IndexOf(bytes, (byte)'\n', start);
            if (newline < 0)
                break;
            try
            {
                if (parse(bytes.AsMemory(start, newline - start)) is { } item)
                    items.Add(item);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                // A line torn by a crash mid-write: skip it, as docker does.
            }
            start = newline + 1;
        }
        complete = start;
        return items;
    }

    /// <summary>What was appended to <paramref name="file"/> since <paramref name="offset"/>; the offset moves past its complete lines.</summary>
    public static List<T> ReadNew<T>(FileStream file, ref long offset, Func<ReadOnlyMemory<byte>, T?> parse) where T : class
    {
        long length = file.Length;
        if (length <= offset)
            return [];
        file.Position = offset;
        var bytes = new byte[length - offset];
        file.ReadExactly(bytes);
        var items = Parse(bytes, parse, out var complete);
        offset += complete;
        return items;
    }

    public static FileStream? OpenForReading(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
