using Skiff.Interop;

namespace Skiff.Runtime.State;

/// <summary>Facts about a host process read from /proc.</summary>
public static class ProcessInfo
{
    /// <summary>Start time in clock ticks (field 22 of /proc/PID/stat), or 0 if the process is gone.</summary>
    public static ulong StartTime(int pid) => ReadStat(pid) is { } stat ? stat.StartTime : 0;

    /// <summary>True while the process exists, is not a zombie, and is the same process (same start time).</summary>
    public static bool IsAlive(int pid, ulong startTime)
    {
        if (ReadStat(pid) is not { } stat)
            return false;
        return stat.State != 'Z' && stat.State != 'X' && (startTime == 0 || stat.StartTime == startTime);
    }

    private static (char State, ulong StartTime)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = SmallFile.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        // The command name (field 2) may contain spaces and parentheses: parse from the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0)
            return null;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        if (fields.Length < 20 || !ulong.TryParse(fields[19], out var start))
            return null;
        return (fields[0][0], start);
    }
}
