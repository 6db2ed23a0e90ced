namespace Skiff.Interop;

/// <summary>The capabilities this process holds and the kernel knows, read once from /proc.</summary>
public static class ProcessCapabilities
{
    private static readonly Lazy<ulong> Effective = new(() => ReadMask("CapEff:"));
    private static readonly Lazy<ulong> Bounding = new(() => ReadMask("CapBnd:"));

    /// <summary>The highest capability number of this kernel (cap_last_cap).</summary>
    public static int LastCapability { get; } = ReadLastCapability();

    public static bool Has(int bit) => (Effective.Value & (1UL << bit)) != 0;

    /// <summary>
    /// Whether a child of this process can hold the capability at all: no process can add to its bounding
    /// set, so a capability missing here makes the container's capset fail.
    /// </summary>
    public static bool InBoundingSet(int bit) => (Bounding.Value & (1UL << bit)) != 0;

    private static ulong ReadMask(string field)
    {
        foreach (var line in SmallFile.ReadAllText("/proc/self/status").Split('\n'))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return Convert.ToUInt64(line[field.Length..].Trim(), 16);
        return 0;
    }

    private static int ReadLastCapability()
    {
        try
        {
            return int.Parse(SmallFile.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim());
        }
        catch (IOException)
        {
            return 40;
        }
    }
}
