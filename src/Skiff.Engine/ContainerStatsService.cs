using System.Runtime.CompilerServices;

namespace Skiff.Engine;

/// <summary>Which containers' statistics to read, and how often.</summary>
public sealed record ContainerStatsRequest
{
    /// <summary>Containers by ID or name, followed even once they stop; none: every running container (every container with <see cref="All"/>), listed anew each round.</summary>
    public IReadOnlyList<string> Containers { get; init; } = [];
    public bool All { get; init; }
    /// <summary>Keep reading every <see cref="Interval"/>; false: one round, then the stream ends.</summary>
    public bool Stream { get; init; } = true;
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>One container's statistics over one interval, as docker stats shows them; a container that is not running reads as zeros.</summary>
public sealed record ContainerStats(
    string Id,
    string Name,
    double CpuPercent,
    ulong MemoryUsage,
    ulong MemoryLimit,
    double MemoryPercent,
    ulong NetworkReceived,
    ulong NetworkSent,
    ulong BlockRead,
    ulong BlockWritten,
    ulong Pids);

/// <summary>
/// docker stats (<c>host.ContainerStats</c>): rounds of statistics of containers, an interval apart. CPU % compares
/// two readings, so even the first round reads twice, an interval apart, as docker does. Safe for concurrent
/// streams: each keeps its own previous readings.
/// </summary>
public sealed class ContainerStatsService(ContainerQueries containers)
{
    /// <summary>A round per interval, the containers in the order <see cref="ContainerStatsRequest.Containers"/> names them (else as listed).</summary>
    public async IAsyncEnumerable<IReadOnlyList<ContainerStats>> ReadAsync(ContainerStatsRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var named = request.Containers.Select(name => containers.Get(name).Id).ToList();
        var previous = Sample(named, request.All);
        while (true)
        {
            await Task.Delay(request.Interval, cancellationToken).ConfigureAwait(false);
            var current = Sample(named, request.All);
            yield return [.. current.Values.Select(sample => Compute(sample, previous.GetValueOrDefault(sample.Id)))];
            if (!request.Stream)
                yield break;
            previous = current;
        }
    }

    /// <summary>The readings of one round, by container ID in order; a listed container removed meanwhile is left out, a named one is an error.</summary>
    private OrderedDictionary<string, ContainerStatsSample> Sample(List<string> named, bool all)
    {
        var ids = named.Count > 0 ? named : containers.List(all).Select(c => c.Id).ToList();
        var samples = new OrderedDictionary<string, ContainerStatsSample>();
        foreach (var id in ids)
        {
            try
            {
                samples[id] = containers.SampleStats(id);
            }
            catch (SkiffException error) when (named.Count == 0 && error.Kind == ErrorKind.NotFound)
            {
                // removed since it was listed
            }
        }
        return samples;
    }

    internal static ContainerStats Compute(ContainerStatsSample current, ContainerStatsSample? previous) => new(
        current.Id,
        current.Name,
        CpuPercent(current, previous),
        current.MemoryUsage,
        current.MemoryLimit,
        current.MemoryLimit == 0 ? 0 : 100.0 * current.MemoryUsage / current.MemoryLimit,
        current.NetworkReceived,
        current.NetworkSent,
        current.BlockRead,
        current.BlockWritten,
        current.Pids);

    /// <summary>docker's formula: the container's share of all CPU time since <paramref name="previous"/>, times the CPU count; 0 without an earlier reading or when a counter went back (a restart).</summary>
    internal static double CpuPercent(ContainerStatsSample current, ContainerStatsSample? previous)
    {
        if (previous is null || current.CpuNanoseconds < previous.CpuNanoseconds || current.SystemNanoseconds <= previous.SystemNanoseconds)
            return 0;
        return (double)(current.CpuNanoseconds - previous.CpuNanoseconds) / (current.SystemNanoseconds - previous.SystemNanoseconds) * current.OnlineCpus * 100;
    }
}
