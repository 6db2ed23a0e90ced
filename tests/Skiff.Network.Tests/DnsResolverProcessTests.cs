using System.Diagnostics;
using System.Net;
using Skiff.Network.Dns;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Network.Tests;

/// <summary>The resolver as a process of its own (this assembly's Program under dotnet), started by EnsureRunning.</summary>
public sealed class DnsResolverProcessTests : IDisposable
{
    private readonly string _runRoot = Directory.CreateTempSubdirectory("skdns-process-").FullName;
    private readonly FakeUpstream _upstream = new();
    private readonly HashSet<int> _started = [];
    private readonly int _port = DnsResolverHostTests.FreePort();

    public void Dispose()
    {
        try
        {
            // Our children, not reaped yet: their pids cannot have been reused.
            foreach (var pid in _started)
            {
                Libc.Kill(pid, 9);
                Libc.WaitChild(pid);
            }
        }
        finally
        {
            _upstream.Dispose();
            Directory.Delete(_runRoot, recursive: true);
        }
    }

    private IReadOnlyList<string> Command(int graceMs)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "/usr/share/dotnet/dotnet";
        return [dotnet, "exec", typeof(Program).Assembly.Location, "dns-resolver", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), graceMs.ToString(System.Globalization.CultureInfo.InvariantCulture)];
    }

    private int Ensure(int graceMs)
    {
        int pid = DnsResolverProcess.EnsureRunning(_runRoot, Command(graceMs));
        _started.Add(pid);
        return pid;
    }

    /// <summary>Waits for the resolver <paramref name="pid"/> (our child) to exit, and reaps it.</summary>
    private async Task<int> ExitOf(int pid, double seconds)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (Libc.TryReapChild(pid) is { } status)
            {
                _started.Remove(pid);
                return status;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(seconds), $"resolver {pid} still runs after {seconds} s:\n{Log()}");
            await Task.Delay(20);
        }
    }

    private string Log() => File.ReadAllText(Path.Combine(DnsRecordsFile.DirectoryIn(_runRoot), "resolver.log"));

    private void WriteRecords(bool withContainer)
    {
        var records = DnsResolverHostTests.Records(_upstream.Endpoint, "10.231.4.2");
        if (!withContainer)
            records = records with { Networks = [records.Networks[0] with { Containers = [] }] };
        DnsRecordsFile.Write(DnsRecordsFile.PathIn(_runRoot), records);
    }

    [Fact]
    public async Task OneResolverPerRunRootThatExitsAfterTheGracePeriodAndStartsAgain()
    {
        WriteRecords(withContainer: true);
        int pid = Ensure(500);
        Assert.Equal(pid, Ensure(500));
        var server = new IPEndPoint(IPAddress.Parse("127.31.4.1"), _port);
        await DnsResolverHostTests.Eventually(async () => Equals(await DnsResolverHostTests.ResolveAsync(server, "web"), IPAddress.Parse("10.231.4.2")), "web answered by the process");
        Assert.Equal(pid, Ensure(500));
        Assert.Equal(pid, DnsResolverProcess.RunningPid(_runRoot));

        // What EnsureRunning costs when the resolver runs: it is on every container start of a user network.
        var samples = new List<double>();
        for (int i = 0; i < 2000; i++)
        {
            var watch = Stopwatch.StartNew();
            DnsResolverProcess.EnsureRunning(_runRoot, Command(500));
            samples.Add(watch.Elapsed.TotalMicroseconds);
        }
        samples.Sort();
        Console.WriteLine($"EnsureRunning, resolver running: median {samples[1000]:F0} us, p99 {samples[1980]:F0} us");
        Assert.True(samples[1000] < 1000, $"EnsureRunning took {samples[1000]} us");

        WriteRecords(withContainer: false);
        Assert.Equal(0, await ExitOf(pid, 10));
        Assert.False(File.Exists(Path.Combine(DnsRecordsFile.DirectoryIn(_runRoot), "resolver.pid")));
        Assert.Null(DnsResolverProcess.RunningPid(_runRoot));
        Assert.Contains("exiting", Log());

        WriteRecords(withContainer: true);
        int again = Ensure(500);
        Assert.NotEqual(pid, again);
        await DnsResolverHostTests.Eventually(async () => Equals(await DnsResolverHostTests.ResolveAsync(server, "web"), IPAddress.Parse("10.231.4.2")), "web answered by the new process");
    }

    /// <summary>
    /// A container's start (records written, then EnsureRunning) racing the resolver's exit at the end of its grace
    /// period, many times: afterwards a resolver always runs, and only one.
    /// </summary>
    [Fact]
    public async Task AStartRacingTheExitNeverLeavesNoResolver()
    {
        const int graceMs = 150;
        var random = new Random(4231);
        int pid = 0;
        for (int round = 0; round < 12; round++)
        {
            WriteRecords(withContainer: true);
            pid = Ensure(graceMs);
            WriteRecords(withContainer: false);
            // Around the moment the resolver decides to exit.
            await Task.Delay(graceMs + random.Next(-40, 120));
            WriteRecords(withContainer: true);
            int now = Ensure(graceMs);
            if (now != pid)
                Assert.Equal(0, await ExitOf(pid, 10));
            await Task.Delay(graceMs * 3);
            Assert.Equal(now, DnsResolverProcess.RunningPid(_runRoot));
            if (Libc.TryReapChild(now) is not null)
            {
                _started.Remove(now);
                Assert.Fail("the resolver exited with a container in the records");
            }
            foreach (var other in _started.Where(p => p != now).ToList())
                Assert.Equal(0, await ExitOf(other, 10));
        }
    }

    /// <summary>
    /// The race made certain: the test holds the lifecycle lock as an EnsureRunning would, while the resolver's grace
    /// period ends (so it waits for that lock to exit), writes a container's records and sees the resolver running,
    /// as that EnsureRunning would, then lets go. The resolver must see the records and stay.
    /// </summary>
    [Fact]
    public async Task AResolverDecidingToExitSeesRecordsWrittenBeforeAnEnsureRunningThatFoundItRunning()
    {
        const int graceMs = 100;
        WriteRecords(withContainer: false);
        int pid = Ensure(graceMs);
        await DnsResolverHostTests.Eventually(() => Task.FromResult(DnsResolverProcess.RunningPid(_runRoot) == pid), "resolver running");
        var paths = new DnsResolverPaths(_runRoot);
        using (Libc.LockFile(paths.LifecycleLock))
        {
            await Task.Delay(graceMs * 5);
            WriteRecords(withContainer: true);
            using var pidFile = Libc.TryLockFile(paths.PidFile);
            Assert.Null(pidFile);
        }
        await Task.Delay(graceMs * 5);
        if (Libc.TryReapChild(pid) is { } status)
        {
            _started.Remove(pid);
            Assert.Fail($"the resolver exited ({status}) although a container's records were written before it looked");
        }
        Assert.Equal(pid, DnsResolverProcess.RunningPid(_runRoot));
    }
}
