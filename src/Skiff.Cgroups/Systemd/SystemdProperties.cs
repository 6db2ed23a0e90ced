using System.Globalization;
using Skiff.Oci;

namespace Skiff.Cgroups.Systemd;

/// <summary>A unit property as StartTransientUnit and SetUnitProperties take it: a(sv).</summary>
public sealed record SystemdProperty(string Name, DBusVariant Value)
{
    public static SystemdProperty Bool(string name, bool value) => new(name, new DBusVariant("b", value));
    public static SystemdProperty String(string name, string value) => new(name, new DBusVariant("s", value));
    public static SystemdProperty UInt64(string name, ulong value) => new(name, new DBusVariant("t", value));
    public static SystemdProperty Bytes(string name, byte[] value) => new(name, new DBusVariant("ay", value));

    /// <summary>The a(sv) element.</summary>
    public object[] ToWire() => [Name, Value];
}

/// <summary>
/// linux.resources → systemd unit properties, as runc's genV1ResourcesProperties / genV2ResourcesProperties:
/// what systemd knows is handed to it (so it does not reset it on its own), the rest is written by the
/// cgroupfs manager afterwards.
/// </summary>
public static class SystemdProperties
{
    /// <summary>USEC_INFINITY / CGROUP_LIMIT_MAX in systemd.</summary>
    public const ulong Infinity = ulong.MaxValue;

    private const ulong DefaultCpuPeriod = 100_000;

    /// <summary>The properties of a new scope or slice, without resources.</summary>
    public static List<SystemdProperty> ForNewUnit(SystemdUnit unit, int pid, CgroupMode mode)
    {
        var list = new List<SystemdProperty> { SystemdProperty.String("Description", "skiff container " + unit.Name) };
        if (unit.IsSlice)
        {
            list.Add(new SystemdProperty("Wants", new DBusVariant("as", new List<object> { unit.Slice })));
        }
        else
        {
            list.Add(SystemdProperty.String("Slice", unit.Slice));
            // the container manages the cgroups below its scope itself
            list.Add(SystemdProperty.Bool("Delegate", true));
            list.Add(new SystemdProperty("PIDs", new DBusVariant("au", new List<object> { (uint)pid })));
        }
        // accounting everywhere gives the same counters as the cgroupfs driver
        list.Add(SystemdProperty.Bool("MemoryAccounting", true));
        list.Add(SystemdProperty.Bool("CPUAccounting", true));
        list.Add(SystemdProperty.Bool(mode == CgroupMode.V2 ? "IOAccounting" : "BlockIOAccounting", true));
        list.Add(SystemdProperty.Bool("TasksAccounting", true));
        // no ordering against shutdown.target etc.: the container's lifetime is the runtime's business
        list.Add(SystemdProperty.Bool("DefaultDependencies", false));
        return list;
    }

    public static List<SystemdProperty> FromResources(LinuxResources? r, CgroupMode mode)
    {
        var list = new List<SystemdProperty>();
        if (r is null) return list;
        var memory = r.Memory?.Limit ?? 0;
        if (mode == CgroupMode.V2)
        {
            if (memory != 0) list.Add(SystemdProperty.UInt64("MemoryMax", Limit(memory)));
            if (r.Memory?.Reservation is { } low and not 0) list.Add(SystemdProperty.UInt64("MemoryLow", Limit(low)));
            var swap = CgroupConversions.MemorySwapToV2(r.Memory?.Swap ?? 0, memory);
            if (swap != 0) list.Add(SystemdProperty.UInt64("MemorySwapMax", Limit(swap)));
            if (r.CPU?.Shares is { } shares and not 0) list.Add(SystemdProperty.UInt64("CPUWeight", CgroupConversions.CpuSharesToWeight(shares)));
            if (r.BlockIO?.Weight is { } weight and not 0) list.Add(SystemdProperty.UInt64("IOWeight", CgroupConversions.BlkioWeightToIoWeight(weight)));
        }
        else
        {
            if (memory != 0) list.Add(SystemdProperty.UInt64("MemoryLimit", Limit(memory)));
            if (r.CPU?.Shares is { } shares and not 0) list.Add(SystemdProperty.UInt64("CPUShares", shares));
            if (r.BlockIO?.Weight is { } weight and not 0) list.Add(SystemdProperty.UInt64("BlockIOWeight", weight));
        }
        AddCpuQuota(list, r.CPU?.Quota ?? 0, r.CPU?.Period ?? 0);
        if (r.Pids?.Limit is { } pids && (pids > 0 || pids == -1)) list.Add(SystemdProperty.UInt64("TasksMax", Limit(pids)));
        if (r.CPU?.Cpus is { Length: > 0 } cpus) list.Add(SystemdProperty.Bytes("AllowedCPUs", RangeToBits(cpus, "cpus")));
        if (r.CPU?.Mems is { Length: > 0 } mems) list.Add(SystemdProperty.Bytes("AllowedMemoryNodes", RangeToBits(mems, "mems")));
        return list;
    }

    private static ulong Limit(long value) => value == -1 ? Infinity : (ulong)value;

    /// <summary>
    /// runc addCpuQuota: systemd stores the quota as CPUQuotaPerSecUSec (µs of CPU per second) and turns it
    /// into a whole percentage, so a fractional percentage is rounded up to the next 10 ms per second, which
    /// keeps the cfs_quota_us written afterwards below the scope's own.
    /// </summary>
    private static void AddCpuQuota(List<SystemdProperty> list, long quota, ulong period)
    {
        if (period != 0) list.Add(SystemdProperty.UInt64("CPUQuotaPeriodUSec", period));
        if (quota == 0 && period == 0) return;
        var perSecond = Infinity;
        if (quota > 0)
        {
            perSecond = (ulong)quota * 1_000_000 / (period == 0 ? DefaultCpuPeriod : period);
            if (perSecond % 10_000 != 0) perSecond = (perSecond / 10_000 + 1) * 10_000;
        }
        list.Add(SystemdProperty.UInt64("CPUQuotaPerSecUSec", perSecond));
    }

    /// <summary>runc RangeToBits: "0-2,7" → a bit mask, least significant byte first, as systemd parses AllowedCPUs.</summary>
    public static byte[] RangeToBits(string list, string what)
    {
        var bits = new List<byte>();
        foreach (var raw in list.Split(','))
        {
            var range = raw.Trim();
            if (range.Length == 0) continue;
            var dash = range.IndexOf('-');
            if (!uint.TryParse(dash < 0 ? range : range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                || !uint.TryParse(dash < 0 ? range : range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
                || start > end || end >= 1 << 16)
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid cpu resources: {what} \"{list}\": \"{range}\" is not a number or range like 0-3");
            for (var i = start; i <= end; i++)
            {
                while (bits.Count <= i / 8) bits.Add(0);
                bits[(int)(i / 8)] |= (byte)(1 << (int)(i % 8));
            }
        }
        while (bits.Count > 0 && bits[^1] == 0) bits.RemoveAt(bits.Count - 1);
        if (bits.Count == 0) throw new CgroupException(ErrorKind.InvalidArgument, $"invalid cpu resources: {what} \"{list}\" selects nothing");
        return bits.ToArray();
    }
}
