using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>Health checks as docker runs them: State.Health, ps STATUS and --filter health=, health_status events, timeouts, the image's HEALTHCHECK.</summary>
public sealed partial class EngineCliTests
{
    /// <summary>The container's inspect document once State.Health.Status is <paramref name="status"/>.</summary>
    private async Task<JsonElement> WaitForHealth(string container, string status)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            using var json = JsonDocument.Parse((await Ok("inspect", container)).Stdout);
            var document = json.RootElement[0].Clone();
            if (document.GetProperty("State").TryGetProperty("Health", out var health) && health.GetProperty("Status").GetString() == status)
                return document;
            Assert.True(DateTime.UtcNow < deadline, $"{container} did not become {status}: {document.GetProperty("State")}");
            await Task.Delay(100);
        }
    }

    private async Task<string> PsNames(params string[] filters)
        => (await Ok(["ps", "--format", "{{.Names}}", .. filters.SelectMany(f => new[] { "--filter", f })])).Stdout;

    private async Task<string> HealthEvents(string container, DateTimeOffset since)
        => (await Ok("events", "--since", since.ToUnixTimeSeconds().ToString(), "--until", DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds().ToString(),
            "--filter", $"container={container}", "--format", "{{.Action}}")).Stdout;

    [Fact]
    public async Task APassingCheckMakesTheContainerHealthy()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Ok("run", "-d", "--name", "fine", "--health-cmd", "echo ok", "--health-interval", "200ms", Image, "sleep", "60");
        await Ok("run", "-d", "--name", "waiting", "--health-cmd", "true", "--health-interval", "1h", Image, "sleep", "60");
        await Ok("run", "-d", "--name", "unchecked", Image, "sleep", "60");

        var inspect = await WaitForHealth("fine", "healthy");
        var health = inspect.GetProperty("State").GetProperty("Health");
        Assert.Equal(0, health.GetProperty("FailingStreak").GetInt32());
        var first = health.GetProperty("Log")[0];
        Assert.Equal(0, first.GetProperty("ExitCode").GetInt32());
        Assert.Equal("ok\n", first.GetProperty("Output").GetString());
        Assert.True(DateTimeOffset.Parse(first.GetProperty("End").GetString()!) >= DateTimeOffset.Parse(first.GetProperty("Start").GetString()!));
        Assert.Equal("healthy 0\n", (await Ok("inspect", "--format", "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "fine")).Stdout);
        // docker's Config.Healthcheck: what was given, zeros left out.
        Assert.Equal("""{"Test":["CMD-SHELL","echo ok"],"Interval":200000000}""", inspect.GetProperty("Config").GetProperty("Healthcheck").Compact());

        var waiting = await WaitForHealth("waiting", "starting");
        Assert.Empty(waiting.GetProperty("State").GetProperty("Health").GetProperty("Log").EnumerateArray());
        using (var plain = JsonDocument.Parse((await Ok("inspect", "unchecked")).Stdout))
        {
            Assert.False(plain.RootElement[0].GetProperty("State").TryGetProperty("Health", out _));
            Assert.False(plain.RootElement[0].GetProperty("Config").TryGetProperty("Healthcheck", out _));
        }

        var table = (await Ok("ps", "--format", "{{.Names}} {{.Status}}")).Stdout;
        Assert.Matches(@"(?m)^fine Up .+ \(healthy\)$", table);
        Assert.Matches(@"(?m)^waiting Up .+ \(health: starting\)$", table);
        Assert.Matches(@"(?m)^unchecked Up [^(]+$", table);
        Assert.Equal("fine\n", await PsNames("health=healthy"));
        Assert.Equal("waiting\n", await PsNames("health=starting"));
        Assert.Equal("unchecked\n", await PsNames("health=none"));
        Assert.Equal("", await PsNames("health=unhealthy"));
        Assert.Equal(["fine", "waiting"], (await PsNames("health=healthy", "health=starting")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        var bad = await Skiff.RunAsync(Root, "ps", "--filter", "health=sick");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("health=sick", bad.Stderr);

        var actions = await HealthEvents("fine", since);
        Assert.Contains("health_status: healthy\n", actions);
        Assert.Contains("exec_start: /bin/sh -c echo ok\n", actions);
        Assert.Contains("exec_die\n", actions);
        Assert.DoesNotContain("health_status", await HealthEvents("waiting", since));
    }

    [Fact]
    public async Task AFailingCheckMakesTheContainerUnhealthyAfterItsRetries()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Ok("run", "-d", "--name", "sick", "--health-cmd", "echo bad >&2; exit 3", "--health-interval", "100ms", "--health-retries", "2", Image, "sleep", "60");
        var health = (await WaitForHealth("sick", "unhealthy")).GetProperty("State").GetProperty("Health");
        Assert.True(health.GetProperty("FailingStreak").GetInt32() >= 2);
        var log = health.GetProperty("Log").EnumerateArray().ToList();
        Assert.InRange(log.Count, 2, 5);
        Assert.All(log, entry =>
        {
            Assert.Equal(3, entry.GetProperty("ExitCode").GetInt32());
            Assert.Equal("bad\n", entry.GetProperty("Output").GetString());
        });
        Assert.Matches(@"(?m)^sick Up .+ \(unhealthy\)$", (await Ok("ps", "--format", "{{.Names}} {{.Status}}")).Stdout);
        Assert.Equal("sick\n", await PsNames("health=unhealthy"));

        // Only the last five results are kept.
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await WaitForHealth("sick", "unhealthy")).GetProperty("State").GetProperty("Health").GetProperty("FailingStreak").GetInt32() < 7)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failing streak did not reach 7");
            await Task.Delay(100);
        }
        Assert.Equal(5, (await WaitForHealth("sick", "unhealthy")).GetProperty("State").GetProperty("Health").GetProperty("Log").GetArrayLength());

        var actions = await HealthEvents("sick", since);
        Assert.Contains("health_status: unhealthy\n", actions);
        Assert.DoesNotContain("health_status: healthy", actions);
        Assert.Contains("exec_die\n", actions);
    }

    [Fact]
    public async Task HealthIsStartingAgainWhenTheContainerStartsAgain()
    {
        await Ok("run", "-d", "--name", "again", "--health-cmd", "exit 1", "--health-interval", "2s", "--health-retries", "1", Image, "sleep", "60");
        await WaitForHealth("again", "unhealthy");
        await Ok("stop", "-t", "0", "again");
        // Stopped, the last health stays (docker keeps it too), and ps's STATUS no longer shows it.
        Assert.Equal("unhealthy\n", (await Ok("inspect", "--format", "{{.State.Health.Status}}", "again")).Stdout);
        Assert.Matches(@"^Exited \(137\) ", (await Ok("ps", "-a", "--format", "{{.Status}}")).Stdout);

        await Ok("start", "again");
        var restarted = (await WaitForHealth("again", "starting")).GetProperty("State").GetProperty("Health");
        Assert.Equal(0, restarted.GetProperty("FailingStreak").GetInt32());
        var kept = restarted.GetProperty("Log").GetArrayLength();
        Assert.True(kept >= 1, "the log of the earlier run is kept");
        var again = (await WaitForHealth("again", "unhealthy")).GetProperty("State").GetProperty("Health");
        Assert.True(again.GetProperty("Log").GetArrayLength() > kept || kept == 5);
    }

    [Fact]
    public async Task ACheckThatOutlivesItsTimeoutIsKilledAndFails()
    {
        await Ok("run", "-d", "--name", "slow", "--health-cmd", "echo begun; sleep 30", "--health-timeout", "300ms", "--health-interval", "100ms", "--health-retries", "1", Image, "sleep", "60");
        var health = (await WaitForHealth("slow", "unhealthy")).GetProperty("State").GetProperty("Health");
        var entry = health.GetProperty("Log")[0];
        Assert.Equal(-1, entry.GetProperty("ExitCode").GetInt32());
        Assert.Equal("Health check exceeded timeout (300ms): begun\n", entry.GetProperty("Output").GetString());
        var took = DateTimeOffset.Parse(entry.GetProperty("End").GetString()!) - DateTimeOffset.Parse(entry.GetProperty("Start").GetString()!);
        // Killed at its timeout, not waited for.
        Assert.InRange(took, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TheImagesHealthcheckIsMergedWithTheFlagsOrDisabled()
    {
        // An image with a HEALTHCHECK: a container's check is committed with it, as docker does.
        await Ok("create", "--name", "template", "--health-cmd", "exit 0", "--health-retries", "4", Image, "true");
        await Ok("commit", "template", "local/checked:1");
        using (var image = JsonDocument.Parse((await Ok("image", "inspect", "local/checked:1")).Stdout))
            Assert.Equal("""{"Test":["CMD-SHELL","exit 0"],"Retries":4}""", image.RootElement[0].GetProperty("Config").GetProperty("Healthcheck").Compact());

        await Ok("run", "-d", "--name", "inherits", "--health-interval", "200ms", "local/checked:1", "sleep", "60");
        var inherited = await WaitForHealth("inherits", "healthy");
        Assert.Equal("""{"Test":["CMD-SHELL","exit 0"],"Interval":200000000,"Retries":4}""", inherited.GetProperty("Config").GetProperty("Healthcheck").Compact());

        await Ok("run", "-d", "--name", "disabled", "--no-healthcheck", "local/checked:1", "sleep", "60");
        using (var disabled = JsonDocument.Parse((await Ok("inspect", "disabled")).Stdout))
        {
            Assert.Equal("""{"Test":["NONE"],"Retries":4}""", disabled.RootElement[0].GetProperty("Config").GetProperty("Healthcheck").Compact());
            Assert.False(disabled.RootElement[0].GetProperty("State").TryGetProperty("Health", out _));
        }
        Assert.Equal("disabled\n", await PsNames("health=none"));
    }

    [Fact]
    public async Task AChecksOutputIsKeptToItsFirst4096Bytes()
    {
        // 100 lines of 50 bytes: 5000 bytes of output.
        await Ok("run", "-d", "--name", "chatty", "--health-cmd", "i=0; while [ $i -lt 100 ]; do echo 0123456789012345678901234567890123456789012345678; i=$((i+1)); done",
            "--health-interval", "200ms", Image, "sleep", "60");
        var output = (await WaitForHealth("chatty", "healthy")).GetProperty("State").GetProperty("Health").GetProperty("Log")[0].GetProperty("Output").GetString()!;
        Assert.Equal(4096 + 3, output.Length);
        Assert.EndsWith("0123456789012345...", output);
    }

    [Theory]
    [InlineData("--health-interval=-1s", "cannot be negative")]
    [InlineData("--health-timeout=500us", "at least 1ms")]
    [InlineData("--health-start-period=-2m", "cannot be negative")]
    [InlineData("--health-retries=-1", "cannot be negative")]
    [InlineData("--health-start-interval=soon", "must be a duration")]
    public async Task InvalidHealthSettingsAreRefusedAndLeaveNothing(string flag, string message)
    {
        var refused = await Skiff.RunAsync(Root, "run", "-d", "--health-cmd", "true", flag, Image, "sleep", "60");
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains(message, refused.Stderr);
        var conflict = await Skiff.RunAsync(Root, "create", "--no-healthcheck", "--health-cmd", "true", Image);
        Assert.Equal(125, conflict.ExitCode);
        Assert.Contains("both disabled and configured", conflict.Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }
}

internal static class JsonElementText
{
    /// <summary>The element as one line of JSON: inspect prints it indented.</summary>
    public static string Compact(this JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            element.WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
