using System.Text;

namespace Skiff.Storage.Snapshots;

/// <summary>One line of /proc/self/mountinfo, with the octal escapes (\040 for a space) decoded.</summary>
public sealed record MountInfoEntry(string MountPoint, string FileSystemType, string Source, string SuperOptions);

/// <summary>Reads /proc/self/mountinfo (proc(5)), the kernel's own list of what is mounted where.</summary>
public static class MountInfo
{
    public static IReadOnlyList<MountInfoEntry> Read()
    {
        var entries = new List<MountInfoEntry>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 5)
                continue;
            entries.Add(new MountInfoEntry(
                Unescape(fields[4]),
                separator + 1 < fields.Length ? Unescape(fields[separator + 1]) : "",
                separator + 2 < fields.Length ? Unescape(fields[separator + 2]) : "",
                separator + 3 < fields.Length ? Unescape(fields[separator + 3]) : ""));
        }
        return entries;
    }

    /// <summary>Whether something is mounted exactly at <paramref name="path"/>.</summary>
    public static bool IsMountPoint(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Read().Any(entry => entry.MountPoint == full);
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var bytes = new List<byte>();
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                bytes.Add((byte)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
