using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>skiff stats on a running container with a memory limit and a stopped one.</summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task StatsShowsTheMemoryLimitAndProcesses()
    {
        await Ok("run", "-d", "--name", "statbox", "--memory", "64m", Image, "sleep", "1000");
        await Ok("create", "--name", "statstopped", Image, "true");
        var table = (await Ok("stats", "--no-stream", "statbox")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$", table[0]);
        Assert.Matches(@"^[0-9a-f]{12} +statbox +\d+\.\d\d% +\S+ / 64MiB +\d+\.\d\d% +\S+ / \S+ +\S+ / \S+ +1$", table[1]);

        var line = (await Ok("stats", "--no-stream", "--format", "json", "statbox")).Stdout.Trim();
        using (var json = JsonDocument.Parse(line))
        {
            Assert.Equal("statbox", json.RootElement.GetProperty("Name").GetString());
            Assert.EndsWith("/ 64MiB", json.RootElement.GetProperty("MemUsage").GetString());
            Assert.Equal("1", json.RootElement.GetProperty("PIDs").GetString());
        }
        var all = (await Ok("stats", "--no-stream", "-a", "--format", "{{.Name}}={{.PIDs}} {{.MemUsage}}")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("statstopped=0 0B / 0B", all);
        Assert.Contains(all, row => row.StartsWith("statbox=1 ", StringComparison.Ordinal));
        Assert.Equal(1, (await Skiff.RunAsync(Root, "stats", "--no-stream", "--format", "{{.Nope}}", "statbox")).ExitCode);
    }
}
