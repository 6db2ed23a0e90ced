namespace Skiff.Engine.Tests;

public sealed class ContainerStatsServiceTests
{
    private static ContainerStatsSample Reading(ulong cpu, ulong system, int cpus = 4, ulong memory = 0, ulong limit = 0) => new()
    {
        Id = "0123456789abcdef",
        Name = "box",
        CpuNanoseconds = cpu,
        SystemNanoseconds = system,
        OnlineCpus = cpus,
        MemoryUsage = memory,
        MemoryLimit = limit,
    };

    [Fact]
    public void Cpu_percent_is_the_share_of_all_cpu_time_between_readings_times_the_cpus()
    {
        // 1 s of the container's CPU time while the 4 CPUs ran 4 s in all: one whole CPU, 100 %.
        Assert.Equal(100.0, ContainerStatsService.CpuPercent(Reading(3_000_000_000, 12_000_000_000), Reading(2_000_000_000, 8_000_000_000)), 6);
        Assert.Equal(25.0, ContainerStatsService.CpuPercent(Reading(2_250_000_000, 12_000_000_000), Reading(2_000_000_000, 8_000_000_000)), 6);
    }

    [Fact]
    public void Cpu_percent_is_zero_without_a_usable_earlier_reading()
    {
        Assert.Equal(0, ContainerStatsService.CpuPercent(Reading(5, 10), previous: null));
        // the counter went back: the container restarted between the readings
        Assert.Equal(0, ContainerStatsService.CpuPercent(Reading(5, 20), Reading(9, 10)));
        // no host time passed
        Assert.Equal(0, ContainerStatsService.CpuPercent(Reading(9, 10), Reading(5, 10)));
    }

    [Fact]
    public void Memory_percent_is_of_the_limit_and_zero_for_a_stopped_container()
    {
        var stats = ContainerStatsService.Compute(Reading(0, 0, memory: 16 << 20, limit: 64 << 20), previous: null);
        Assert.Equal(25.0, stats.MemoryPercent, 6);
        Assert.Equal((ulong)(64 << 20), stats.MemoryLimit);
        Assert.Equal(0, ContainerStatsService.Compute(Reading(0, 0), previous: null).MemoryPercent);
    }
}
