using Skiff.Interop;

namespace Skiff.Engine;

/// <summary>
/// A process named by pid and start time: a pid alone may have been reused since it was recorded, so "is the
/// container (or its monitor) still there" compares both.
/// </summary>
public static class ProcessIdentity
{
    /// <summary>The start time (clock ticks since boot, /proc/PID/stat field 22) of a live, non-zombie process; null when there is none.</summary>
    public static ulong? StartTime(int pid)
    {
        if (pid <= 0)
            return null;
        string stat;
        try
        {
            stat = SmallFile.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) may contain spaces and parentheses: fields after it follow the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields[0] is "Z" or "X")
            return null;
        return ulong.Parse(fields[19]);
    }

    public static bool IsAlive(int pid, ulong startTime) => startTime != 0 && StartTime(pid) == startTime;
}
