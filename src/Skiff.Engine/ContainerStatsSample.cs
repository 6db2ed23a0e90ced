using Skiff.Cgroups;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Interop;

namespace Skiff.Engine;

/// <summary>
/// One reading of a container's counters for `skiff stats`. CPU % needs two readings: the container's CPU time
/// and the host's, both in nanoseconds, compared over the same interval (<see cref="ContainerStatsService"/>). A
/// container that is not running reads as zeros, as in docker.
/// </summary>
public sealed record ContainerStatsSample
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public ulong CpuNanoseconds { get; init; }
    /// <summary>Every CPU's time since boot (/proc/stat), the denominator of CPU %.</summary>
    public ulong SystemNanoseconds { get; init; }
    public int OnlineCpus { get; init; }
    /// <summary>Memory in use without the inactive page cache, as docker counts it.</summary>
    public ulong MemoryUsage { get; init; }
    /// <summary>The container's limit, or the host's memory when it has none.</summary>
    public ulong MemoryLimit { get; init; }
    public ulong NetworkReceived { get; init; }
    public ulong NetworkSent { get; init; }
    public ulong BlockRead { get; init; }
    public ulong BlockWritten { get; init; }
    public ulong Pids { get; init; }

    private const ulong NanosecondsPerTick = 10_000_000; // /proc/stat counts USER_HZ ticks, always 100 per second

    /// <summary>Reads the container's cgroup counters and its network namespace's interfaces.</summary>
    internal static ContainerStatsSample Read(ContainerContext context, ContainerRecord container)
    {
        var sample = new ContainerStatsSample
        {
            Id = container.Id,
            Name = container.Name,
            SystemNanoseconds = SystemCpuTime(),
            OnlineCpus = Environment.ProcessorCount,
        };
        if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused))
            return sample;
        CgroupStats stats;
        try
        {
            stats = CgroupManager.Create(container.Id, context.Options.CgroupsPathOf(container.Id, container.Config.Options.CgroupParent)).GetStats();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CgroupException)
        {
            return sample; // exited while it was read
        }
        var memory = stats.Memory;
        var inactive = memory.Raw?.GetValueOrDefault("total_inactive_file") is > 0 and var v1 ? v1 : memory.Raw?.GetValueOrDefault("inactive_file") ?? 0;
        var (received, sent) = container.Config.Options.Network == NetworkMode.Host ? (0UL, 0UL) : NetworkBytes(container.State.Pid);
        var hostMemory = HostMemory();
        return sample with
        {
            CpuNanoseconds = stats.Cpu.Usage.Total,
            MemoryUsage = inactive < memory.Usage.Usage ? memory.Usage.Usage - inactive : memory.Usage.Usage,
            MemoryLimit = memory.Usage.Limit == 0 || memory.Usage.Limit > hostMemory ? hostMemory : memory.Usage.Limit,
            NetworkReceived = received,
            NetworkSent = sent,
            BlockRead = BlockBytes(stats.Blkio, "read"),
            BlockWritten = BlockBytes(stats.Blkio, "write"),
            Pids = stats.Pids.Current,
        };
    }

    private static ulong BlockBytes(BlkioStats blkio, string operation)
        => (ulong)(blkio.IoServiceBytesRecursive ?? []).Where(e => string.Equals(e.Op, operation, StringComparison.OrdinalIgnoreCase)).Sum(e => (decimal)e.Value);

    /// <summary>Bytes received and sent by every interface of the process's network namespace but loopback, as docker counts them.</summary>
    private static (ulong Received, ulong Sent) NetworkBytes(int pid)
    {
        string text;
        try
        {
            text = SmallFile.ReadAllText($"/proc/{pid}/net/dev");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (0, 0);
        }
        ulong received = 0, sent = 0;
        foreach (var line in text.Split('\n').Skip(2))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() == "lo")
                continue;
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            received += ulong.Parse(fields[0]);
            sent += ulong.Parse(fields[8]);
        }
        return (received, sent);
    }

    private static ulong SystemCpuTime()
    {
        var line = SmallFile.ReadAllText("/proc/stat").Split('\n')[0];
        // user nice system idle iowait irq softirq steal: what docker adds up (guest time is inside user already)
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Aggregate(0UL, (sum, field) => sum + ulong.Parse(field)) * NanosecondsPerTick;
    }

    private static ulong HostMemory()
    {
        var line = SmallFile.ReadAllText("/proc/meminfo").Split('\n').First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return ulong.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
