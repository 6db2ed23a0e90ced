using System.Text.Json.Serialization;

namespace Skiff.Cgroups;

// runc's events "stats" data (runc/types/events.go), field for field, so tools that parse
// `runc events` read ours. Go's omitempty on a number omits zero: WhenWritingDefault here; on a
// slice or map it omits an empty one: those stay null until something is read.

public sealed class CgroupStats
{
    [JsonPropertyName("cpu")] public CpuStats Cpu { get; set; } = new();
    [JsonPropertyName("cpuset")] public CpusetStats Cpuset { get; set; } = new();
    [JsonPropertyName("memory")] public MemoryStats Memory { get; set; } = new();
    [JsonPropertyName("pids")] public PidsStats Pids { get; set; } = new();
    [JsonPropertyName("blkio")] public BlkioStats Blkio { get; set; } = new();
    /// <summary>Keyed by page size as the kernel names it ("2MB", "1GB").</summary>
    [JsonPropertyName("hugetlb")] public Dictionary<string, HugetlbStats> Hugetlb { get; set; } = new();
    /// <summary>Intel RDT is not managed by skiff-runtime: always the empty object runc prints without it.</summary>
    [JsonPropertyName("intel_rdt")] public IntelRdtStats IntelRdt { get; set; } = new();
    /// <summary>runc fills this only for containers it configured networking for, which an OCI runtime never does.</summary>
    [JsonPropertyName("network_interfaces")] public List<string>? NetworkInterfaces { get; set; }
}

public sealed class IntelRdtStats;

public sealed class CpuStats
{
    [JsonPropertyName("usage")] public CpuUsage Usage { get; set; } = new();
    [JsonPropertyName("throttling")] public CpuThrottling Throttling { get; set; } = new();
}

public sealed class CpuUsage
{
    /// <summary>Nanoseconds, like every field here.</summary>
    [JsonPropertyName("total"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Total { get; set; }
    [JsonPropertyName("percpu")] public List<ulong>? PerCpu { get; set; }
    [JsonPropertyName("percpu_kernel")] public List<ulong>? PerCpuKernel { get; set; }
    [JsonPropertyName("percpu_user")] public List<ulong>? PerCpuUser { get; set; }
    [JsonPropertyName("kernel")] public ulong Kernel { get; set; }
    [JsonPropertyName("user")] public ulong User { get; set; }
}

public sealed class CpuThrottling
{
    [JsonPropertyName("periods"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Periods { get; set; }
    [JsonPropertyName("throttledPeriods"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong ThrottledPeriods { get; set; }
    /// <summary>Nanoseconds.</summary>
    [JsonPropertyName("throttledTime"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong ThrottledTime { get; set; }
}

public sealed class CpusetStats
{
    [JsonPropertyName("cpus")] public List<ushort>? Cpus { get; set; }
    [JsonPropertyName("cpu_exclusive")] public ulong CpuExclusive { get; set; }
    [JsonPropertyName("mems")] public List<ushort>? Mems { get; set; }
    [JsonPropertyName("mem_hardwall")] public ulong MemHardwall { get; set; }
    [JsonPropertyName("mem_exclusive")] public ulong MemExclusive { get; set; }
    [JsonPropertyName("memory_migrate")] public ulong MemoryMigrate { get; set; }
    [JsonPropertyName("memory_spread_page")] public ulong MemorySpreadPage { get; set; }
    [JsonPropertyName("memory_spread_slab")] public ulong MemorySpreadSlab { get; set; }
    [JsonPropertyName("memory_pressure")] public ulong MemoryPressure { get; set; }
    [JsonPropertyName("sched_load_balance")] public ulong SchedLoadBalance { get; set; }
    [JsonPropertyName("sched_relax_domain_level")] public long SchedRelaxDomainLevel { get; set; }
}

public sealed class MemoryStats
{
    [JsonPropertyName("cache"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Cache { get; set; }
    [JsonPropertyName("usage")] public MemoryEntry Usage { get; set; } = new();
    /// <summary>Memory plus swap, as on cgroup v1 (v2 values are added up the same way, as runc does).</summary>
    [JsonPropertyName("swap")] public MemoryEntry Swap { get; set; } = new();
    [JsonPropertyName("kernel")] public MemoryEntry Kernel { get; set; } = new();
    [JsonPropertyName("kernelTCP")] public MemoryEntry KernelTcp { get; set; } = new();
    /// <summary>memory.stat as read.</summary>
    [JsonPropertyName("raw")] public Dictionary<string, ulong>? Raw { get; set; }
}

public sealed class MemoryEntry
{
    /// <summary>ulong.MaxValue when unlimited ("max" on v2), as runc reports it.</summary>
    [JsonPropertyName("limit")] public ulong Limit { get; set; }
    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; set; }
    [JsonPropertyName("max"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Max { get; set; }
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}

public sealed class PidsStats
{
    [JsonPropertyName("current"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Current { get; set; }
    /// <summary>0 when unlimited.</summary>
    [JsonPropertyName("limit"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Limit { get; set; }
}

public sealed class BlkioStats
{
    [JsonPropertyName("ioServiceBytesRecursive")] public List<BlkioEntry>? IoServiceBytesRecursive { get; set; }
    [JsonPropertyName("ioServicedRecursive")] public List<BlkioEntry>? IoServicedRecursive { get; set; }
    [JsonPropertyName("ioQueueRecursive")] public List<BlkioEntry>? IoQueuedRecursive { get; set; }
    [JsonPropertyName("ioServiceTimeRecursive")] public List<BlkioEntry>? IoServiceTimeRecursive { get; set; }
    [JsonPropertyName("ioWaitTimeRecursive")] public List<BlkioEntry>? IoWaitTimeRecursive { get; set; }
    [JsonPropertyName("ioMergedRecursive")] public List<BlkioEntry>? IoMergedRecursive { get; set; }
    [JsonPropertyName("ioTimeRecursive")] public List<BlkioEntry>? IoTimeRecursive { get; set; }
    [JsonPropertyName("sectorsRecursive")] public List<BlkioEntry>? SectorsRecursive { get; set; }
}

public sealed class BlkioEntry
{
    [JsonPropertyName("major"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Major { get; set; }
    [JsonPropertyName("minor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Minor { get; set; }
    [JsonPropertyName("op"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? Op { get; set; }
    [JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Value { get; set; }
}

public sealed class HugetlbStats
{
    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; set; }
    [JsonPropertyName("max"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Max { get; set; }
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}
