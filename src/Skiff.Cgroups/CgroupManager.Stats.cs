using System.Globalization;

namespace Skiff.Cgroups;

public sealed partial class CgroupManager
{
    // USER_HZ: cpuacct.stat counts clock ticks, which the kernel always exports at 100 per second.
    private const ulong NanosecondsPerTick = 10_000_000;

    /// <summary>
    /// The container's usage counters in runc's stats shape, each controller read from the hierarchy that
    /// handles it (<see cref="Target"/>). A controller the host lacks, or a file an older kernel lacks,
    /// leaves its fields empty, as in runc.
    /// </summary>
    public CgroupStats GetStats()
    {
        var stats = new CgroupStats();
        if (Target("cpu") is { } cpu) CpuStats(cpu, stats.Cpu);
        if (V1("cpuacct") is { } cpuacct) CpuacctStats(cpuacct, stats.Cpu.Usage);
        if (Target("cpuset") is { } cpuset) CpusetStats(cpuset, stats.Cpuset);
        if (Target("memory") is { } memory)
        {
            if (memory.IsV2) MemoryStatsV2(memory, stats.Memory);
            else MemoryStatsV1(memory, stats.Memory);
        }
        if (Target("pids") is { } pids)
        {
            stats.Pids.Current = ReadNumber(F(pids, "pids.current")) ?? 0;
            var max = ReadNumber(F(pids, "pids.max")) ?? 0;
            stats.Pids.Limit = max == ulong.MaxValue ? 0 : max;
        }
        if (V1("blkio") is { } blkio) BlkioStatsV1(blkio, stats.Blkio);
        else if (Target("io") is { IsV2: true } io) IoStatsV2(io, stats.Blkio);
        if (Target("hugetlb") is { } hugetlb) HugetlbStats(hugetlb, stats.Hugetlb);
        return stats;
    }

    /// <summary>Starts watching the container's memory cgroup for OOM kills.</summary>
    public OomNotifier WatchOom()
    {
        var n = Target("memory") ?? throw new CgroupException(ErrorKind.FailedPrecondition, "cannot watch for OOM kills: the memory cgroup controller is not available on this host");
        return n.IsV2 ? OomNotifier.OpenV2(_fs, n.Dir) : OomNotifier.OpenV1(_fs, n.Dir);
    }

    private void CpuStats(Node n, CpuStats cpu)
    {
        var stat = ReadKeyValues(F(n, "cpu.stat"));
        cpu.Throttling.Periods = stat.GetValueOrDefault("nr_periods");
        cpu.Throttling.ThrottledPeriods = stat.GetValueOrDefault("nr_throttled");
        if (!n.IsV2)
        {
            cpu.Throttling.ThrottledTime = stat.GetValueOrDefault("throttled_time");
            return;
        }
        // v2 has no cpuacct: cpu.stat carries the usage, in microseconds
        cpu.Throttling.ThrottledTime = stat.GetValueOrDefault("throttled_usec") * 1000;
        cpu.Usage.Total = stat.GetValueOrDefault("usage_usec") * 1000;
        cpu.Usage.User = stat.GetValueOrDefault("user_usec") * 1000;
        cpu.Usage.Kernel = stat.GetValueOrDefault("system_usec") * 1000;
    }

    private void CpuacctStats(Node n, CpuUsage usage)
    {
        usage.Total = ReadNumber(F(n, "cpuacct.usage")) ?? 0;
        usage.PerCpu = ReadNumberList(F(n, "cpuacct.usage_percpu"));
        usage.PerCpuKernel = ReadNumberList(F(n, "cpuacct.usage_percpu_sys"));
        usage.PerCpuUser = ReadNumberList(F(n, "cpuacct.usage_percpu_user"));
        var stat = ReadKeyValues(F(n, "cpuacct.stat"));
        usage.User = stat.GetValueOrDefault("user") * NanosecondsPerTick;
        usage.Kernel = stat.GetValueOrDefault("system") * NanosecondsPerTick;
    }

    private void CpusetStats(Node n, CpusetStats cpuset)
    {
        cpuset.Cpus = ParseCpuList(ReadOptional(F(n, n.IsV2 ? "cpuset.cpus.effective" : "cpuset.cpus")));
        cpuset.Mems = ParseCpuList(ReadOptional(F(n, n.IsV2 ? "cpuset.mems.effective" : "cpuset.mems")));
        if (n.IsV2) return;
        cpuset.CpuExclusive = ReadNumber(F(n, "cpuset.cpu_exclusive")) ?? 0;
        cpuset.MemHardwall = ReadNumber(F(n, "cpuset.mem_hardwall")) ?? 0;
        cpuset.MemExclusive = ReadNumber(F(n, "cpuset.mem_exclusive")) ?? 0;
        cpuset.MemoryMigrate = ReadNumber(F(n, "cpuset.memory_migrate")) ?? 0;
        cpuset.MemorySpreadPage = ReadNumber(F(n, "cpuset.memory_spread_page")) ?? 0;
        cpuset.MemorySpreadSlab = ReadNumber(F(n, "cpuset.memory_spread_slab")) ?? 0;
        cpuset.MemoryPressure = ReadNumber(F(n, "cpuset.memory_pressure")) ?? 0;
        cpuset.SchedLoadBalance = ReadNumber(F(n, "cpuset.sched_load_balance")) ?? 0;
        var relax = ReadOptional(F(n, "cpuset.sched_relax_domain_level"));
        cpuset.SchedRelaxDomainLevel = long.TryParse(relax, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var level) ? level : 0;
    }

    private void MemoryStatsV1(Node n, MemoryStats memory)
    {
        memory.Raw = ReadKeyValues(F(n, "memory.stat"));
        memory.Cache = memory.Raw.GetValueOrDefault("cache");
        memory.Usage = MemoryEntryV1(n, "memory");
        memory.Swap = MemoryEntryV1(n, "memory.memsw");
        memory.Kernel = MemoryEntryV1(n, "memory.kmem");
        memory.KernelTcp = MemoryEntryV1(n, "memory.kmem.tcp");
    }

    private MemoryEntry MemoryEntryV1(Node n, string prefix) => new()
    {
        Usage = ReadNumber(F(n, prefix + ".usage_in_bytes")) ?? 0,
        Max = ReadNumber(F(n, prefix + ".max_usage_in_bytes")) ?? 0,
        Failcnt = ReadNumber(F(n, prefix + ".failcnt")) ?? 0,
        Limit = ReadNumber(F(n, prefix + ".limit_in_bytes")) ?? 0,
    };

    private void MemoryStatsV2(Node n, MemoryStats memory)
    {
        memory.Raw = ReadKeyValues(F(n, "memory.stat"));
        memory.Cache = memory.Raw.GetValueOrDefault("file");
        var events = ReadKeyValues(F(n, "memory.events"));
        memory.Usage = new MemoryEntry
        {
            Usage = ReadNumber(F(n, "memory.current")) ?? 0,
            Max = ReadNumber(F(n, "memory.peak")) ?? 0,
            Limit = ReadNumber(F(n, "memory.max")) ?? ulong.MaxValue,
            Failcnt = events.GetValueOrDefault("max"),
        };
        // runc reports v2 swap as memory+swap, the v1 meaning its users expect
        if (ReadNumber(F(n, "memory.swap.current")) is { } swap)
        {
            var swapMax = ReadNumber(F(n, "memory.swap.max")) ?? ulong.MaxValue;
            memory.Swap = new MemoryEntry
            {
                Usage = swap + memory.Usage.Usage,
                Limit = swapMax == ulong.MaxValue || memory.Usage.Limit == ulong.MaxValue ? ulong.MaxValue : swapMax + memory.Usage.Limit,
            };
        }
    }

    private void BlkioStatsV1(Node n, BlkioStats blkio)
    {
        // CFQ/BFQ files when the I/O scheduler has them, else the throttle layer's counters (runc's order)
        List<BlkioEntry>? First(params string[] files)
        {
            foreach (var file in files)
                if (ReadOptional(F(n, file)) is { Length: > 0 } text) return ParseBlkio(text);
            return null;
        }
        blkio.IoServiceBytesRecursive = First("blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes");
        blkio.IoServicedRecursive = First("blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive", "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced");
        blkio.IoQueuedRecursive = First("blkio.io_queued_recursive");
        blkio.IoServiceTimeRecursive = First("blkio.io_service_time_recursive");
        blkio.IoWaitTimeRecursive = First("blkio.io_wait_time_recursive");
        blkio.IoMergedRecursive = First("blkio.io_merged_recursive");
        blkio.IoTimeRecursive = First("blkio.time_recursive");
        blkio.SectorsRecursive = First("blkio.sectors_recursive");
    }

    /// <summary>"8:0 Read 4096" lines; the "Total" line and unknown shapes are skipped.</summary>
    private static List<BlkioEntry>? ParseBlkio(string text)
    {
        var entries = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !TryParseDevice(fields[0], out var major, out var minor)) continue;
            var op = fields.Length == 3 ? fields[1] : "";
            if (!ulong.TryParse(fields[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var value)) continue;
            entries.Add(new BlkioEntry { Major = major, Minor = minor, Op = op, Value = value });
        }
        return entries.Count == 0 ? null : entries;
    }

    /// <summary>io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." into runc's v1-shaped Read/Write entries.</summary>
    private void IoStatsV2(Node n, BlkioStats blkio)
    {
        var text = ReadOptional(F(n, "io.stat"));
        if (string.IsNullOrEmpty(text)) return;
        var bytes = new List<BlkioEntry>();
        var ios = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !TryParseDevice(fields[0], out var major, out var minor)) continue;
            foreach (var field in fields.Skip(1))
            {
                var eq = field.IndexOf('=');
                if (eq < 0 || !ulong.TryParse(field.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value)) continue;
                var (list, op) = field[..eq] switch
                {
                    "rbytes" => (bytes, "Read"),
                    "wbytes" => (bytes, "Write"),
                    "rios" => (ios, "Read"),
                    "wios" => (ios, "Write"),
                    _ => (null, ""),
                };
                list?.Add(new BlkioEntry { Major = major, Minor = minor, Op = op, Value = value });
            }
        }
        blkio.IoServiceBytesRecursive = bytes.Count == 0 ? null : bytes;
        blkio.IoServicedRecursive = ios.Count == 0 ? null : ios;
    }

    private static bool TryParseDevice(string text, out ulong major, out ulong minor)
    {
        minor = 0;
        var colon = text.IndexOf(':');
        return ulong.TryParse(colon < 0 ? "" : text[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out major)
            && ulong.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out minor);
    }

    private void HugetlbStats(Node n, Dictionary<string, HugetlbStats> hugetlb)
    {
        // page sizes are whatever the kernel made files for: hugetlb.2MB.usage_in_bytes (v1), hugetlb.2MB.current (v2)
        var usageSuffix = n.IsV2 ? ".current" : ".usage_in_bytes";
        IEnumerable<string> files;
        try { files = _fs.GetFileNames(n.Dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var file in files)
        {
            if (!file.StartsWith("hugetlb.", StringComparison.Ordinal) || !file.EndsWith(usageSuffix, StringComparison.Ordinal)) continue;
            var size = file["hugetlb.".Length..^usageSuffix.Length];
            if (size.Contains('.')) continue; // hugetlb.2MB.rsvd.current and friends
            var prefix = "hugetlb." + size;
            hugetlb[size] = n.IsV2
                ? new HugetlbStats
                {
                    Usage = ReadNumber(F(n, prefix + ".current")) ?? 0,
                    Failcnt = ReadKeyValues(F(n, prefix + ".events")).GetValueOrDefault("max"),
                }
                : new HugetlbStats
                {
                    Usage = ReadNumber(F(n, prefix + ".usage_in_bytes")) ?? 0,
                    Max = ReadNumber(F(n, prefix + ".max_usage_in_bytes")) ?? 0,
                    Failcnt = ReadNumber(F(n, prefix + ".failcnt")) ?? 0,
                };
        }
    }

    // ---------------------------------------------------------------- readers that tolerate absence

    /// <summary>The trimmed file, or null when it does not exist (an older kernel, a missing controller).</summary>
    private string? ReadOptional(string path)
    {
        try { return _fs.ReadFile(path).Trim(); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // some v1 files (memory.kmem.* on kernels built without kmem accounting) exist but refuse reads
            if (CgroupFileSystem.Errno(e) is Errnos.EOPNOTSUPP or Errnos.EINVAL) return null;
            throw new CgroupException($"cannot read {path}: {CgroupFileSystem.Describe(e)}", e);
        }
    }

    /// <summary>A single number; "max" is ulong.MaxValue; null when the file is missing or not a number.</summary>
    private ulong? ReadNumber(string path)
    {
        var text = ReadOptional(path);
        if (text is null) return null;
        if (text == "max") return ulong.MaxValue;
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private List<ulong>? ReadNumberList(string path)
    {
        var text = ReadOptional(path);
        if (string.IsNullOrEmpty(text)) return null;
        var list = new List<ulong>();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (ulong.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) list.Add(v);
        return list.Count == 0 ? null : list;
    }

    /// <summary>"key value" lines (memory.stat, cpu.stat, memory.events); empty when the file is missing.</summary>
    private Dictionary<string, ulong> ReadKeyValues(string path)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var text = ReadOptional(path);
        if (text is null) return result;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ');
            if (space <= 0) continue;
            if (ulong.TryParse(line.AsSpan(space + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                result[line[..space]] = v;
        }
        return result;
    }

    /// <summary>"0-3,7" into [0,1,2,3,7].</summary>
    private static List<ushort>? ParseCpuList(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var list = new List<ushort>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
            {
                if (ushort.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var single)) list.Add(single);
                continue;
            }
            if (ushort.TryParse(part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                && ushort.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last))
                for (int cpu = first; cpu <= last; cpu++) list.Add((ushort)cpu);
        }
        return list.Count == 0 ? null : list;
    }
}
