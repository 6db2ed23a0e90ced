using System.Diagnostics;
using System.Net;
using Skiff.Interop.Netlink;
using Xunit.Abstractions;

namespace Skiff.Interop.Tests;

/// <summary>Runs only as root and when SKIFF_NETLINK_BENCH=1: a measurement, not a check, so the ordinary test run leaves it out.</summary>
public sealed class NetlinkBenchFactAttribute : FactAttribute
{
    public NetlinkBenchFactAttribute()
    {
        if (Interop.Libc.GetEuid() != 0)
            Skip = "needs root";
        else if (Environment.GetEnvironmentVariable("SKIFF_NETLINK_BENCH") != "1")
            Skip = "a benchmark: set SKIFF_NETLINK_BENCH=1";
    }
}

/// <summary>
/// Wall time of a container's network set-up and teardown (<see cref="ContainerNetwork"/>) against a bridge that exists
/// already, as the engine meets it: 5 runs to warm up, then the median and 90th percentile of 50, back to back (so each
/// run also meets the kernel's clean-up of the namespace before it).
/// </summary>
[Collection(NetlinkHostCollection.Name)]
public sealed class NetlinkBenchmark(ITestOutputHelper output)
{
    [NetlinkBenchFact]
    public void ContainerSetUpAndTeardown()
    {
        var directory = Directory.CreateTempSubdirectory("sknl-").FullName;
        using var host = RtNetlink.Open();
        try
        {
            host.CreateBridge("sknlbr0");
            host.SetLinkUp("sknlbr0");
            host.AddAddress("sknlbr0", IPAddress.Parse("10.231.1.1"), 24);
            Measure(host, directory, deleteHostEnd: true, pause: TimeSpan.Zero);
            Measure(host, directory, deleteHostEnd: false, pause: TimeSpan.Zero);
            Measure(host, directory, deleteHostEnd: true, pause: TimeSpan.FromMilliseconds(300));
        }
        finally
        {
            ContainerNetwork.RemoveAll(host, "sknl", directory);
            Directory.Delete(directory);
        }
    }

    /// <summary>
    /// One series. Without <paramref name="deleteHostEnd"/> teardown only deletes the namespace and the kernel's
    /// namespace cleanup removes the veth pair afterwards; the time until the host end is gone is measured apart. A
    /// <paramref name="pause"/> between runs lets that cleanup finish, which back-to-back runs otherwise wait for.
    /// </summary>
    private void Measure(RtNetlink host, string directory, bool deleteHostEnd, TimeSpan pause)
    {
        var setUp = new List<double>();
        var tearDown = new List<double>();
        var gone = new List<double>();
        var steps = new Dictionary<string, List<double>>();
        for (int i = 0; i < 55; i++)
        {
            var path = Path.Combine(directory, $"ns{i}");
            var hostEnd = $"sknlv{i}";
            var clock = Stopwatch.StartNew();
            var lap = Stopwatch.StartNew();
            Action<string> step = name =>
            {
                if (i >= 5)
                    (steps.TryGetValue(name, out var list) ? list : steps[name] = []).Add(lap.Elapsed.TotalMilliseconds);
                lap.Restart();
            };
            ContainerNetwork.SetUp(host, path, "sknlbr0", hostEnd, IPAddress.Parse("10.231.1.2"), IPAddress.Parse("10.231.1.1"), step).Dispose();
            var up = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            lap.Restart();
            if (deleteHostEnd)
                ContainerNetwork.TearDown(host, path, hostEnd, step);
            else
                NetworkNamespace.Delete(path);
            var down = clock.Elapsed.TotalMilliseconds;
            while (host.GetLink(hostEnd) is not null && clock.Elapsed < TimeSpan.FromSeconds(5))
                Thread.Sleep(TimeSpan.FromMilliseconds(0.2));
            Assert.Null(host.GetLink(hostEnd));
            if (i >= 5)
            {
                setUp.Add(up);
                tearDown.Add(down);
                gone.Add(clock.Elapsed.TotalMilliseconds);
            }
            Thread.Sleep(pause);
        }
        output.WriteLine($"{(deleteHostEnd ? "deleting the host end, then the namespace" : "deleting the namespace only")}, {pause.TotalMilliseconds} ms between runs: "
            + $"set-up median {Percentile(setUp, 50):F2} ms (p90 {Percentile(setUp, 90):F2}); teardown median {Percentile(tearDown, 50):F2} ms (p90 {Percentile(tearDown, 90):F2}); "
            + $"host end gone after {Percentile(gone, 50):F2} ms (p90 {Percentile(gone, 90):F2}); {setUp.Count} runs");
        output.WriteLine("  medians by step: " + string.Join(", ", steps.Select(s => $"{s.Key} {Percentile(s.Value, 50):F2} ms")));
    }

    private static double Percentile(List<double> values, int percent)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, sorted.Length * percent / 100)];
    }
}
