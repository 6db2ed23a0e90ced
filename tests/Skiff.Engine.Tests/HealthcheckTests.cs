using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Oci.Image;

namespace Skiff.Engine.Tests;

/// <summary>docker's health check rules: moby's merge of the container's settings over the image's, their validation, the schedule and the state transitions.</summary>
public sealed class HealthcheckTests
{
    private const long Second = 1_000_000_000;
    private static readonly DateTimeOffset Started = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private static readonly HealthConfig ImageCheck = new()
    {
        Test = ["CMD", "/healthy"], Interval = 10 * Second, Timeout = 2 * Second, StartPeriod = 60 * Second, StartInterval = Second, Retries = 5,
    };

    [Fact]
    public void Without_settings_of_its_own_a_container_takes_the_images_check()
    {
        Assert.Same(ImageCheck, Healthchecks.Merge(new RunOptions(), ImageCheck));
        Assert.Null(Healthchecks.Merge(new RunOptions(), null));
    }

    [Fact]
    public void Each_setting_given_wins_and_each_zero_keeps_the_images()
    {
        var merged = Healthchecks.Merge(new RunOptions { Healthcheck = new HealthConfig { Interval = 3 * Second, Retries = 1 } }, ImageCheck)!;
        Assert.Equal(["CMD", "/healthy"], merged.Test);
        Assert.Equal(3 * Second, merged.Interval);
        Assert.Equal(1, merged.Retries);
        Assert.Equal(2 * Second, merged.Timeout);
        Assert.Equal(60 * Second, merged.StartPeriod);
        Assert.Equal(Second, merged.StartInterval);

        var own = new HealthConfig { Test = ["CMD-SHELL", "exit 0"] };
        Assert.Equal(["CMD-SHELL", "exit 0"], Healthchecks.Merge(new RunOptions { Healthcheck = own }, ImageCheck)!.Test);
        Assert.Same(own, Healthchecks.Merge(new RunOptions { Healthcheck = own }, null));
    }

    [Fact]
    public void Disabling_replaces_the_test_with_NONE_and_keeps_the_images_other_settings()
    {
        var merged = Healthchecks.Merge(new RunOptions { NoHealthcheck = true }, ImageCheck)!;
        Assert.Equal(["NONE"], merged.Test);
        Assert.Equal(10 * Second, merged.Interval);
        Assert.Null(Healthchecks.Command(merged));
        Assert.Equal(["NONE"], Healthchecks.Merge(new RunOptions { NoHealthcheck = true }, null)!.Test);
    }

    [Fact]
    public void The_command_is_CMDs_arguments_or_CMD_SHELLs_through_the_shell()
    {
        Assert.Equal(["/healthy", "-v"], Healthchecks.Command(new HealthConfig { Test = ["CMD", "/healthy", "-v"] }));
        Assert.Equal(["/bin/sh", "-c", "curl -f localhost || exit 1"], Healthchecks.Command(new HealthConfig { Test = ["CMD-SHELL", "curl -f localhost || exit 1"] }));
        // The image's SHELL, as docker's getShell: CMD-SHELL runs through it, CMD does not.
        Assert.Equal(["/bin/bash", "-o", "pipefail", "-c", "true | false"],
            Healthchecks.Command(new HealthConfig { Test = ["CMD-SHELL", "true | false"] }, ["/bin/bash", "-o", "pipefail", "-c"]));
        Assert.Equal(["/healthy"], Healthchecks.Command(new HealthConfig { Test = ["CMD", "/healthy"] }, ["/bin/bash", "-c"]));
        Assert.Equal(["/bin/sh", "-c", "true"], Healthchecks.Command(new HealthConfig { Test = ["CMD-SHELL", "true"] }, []));
        Assert.Null(Healthchecks.Command(new HealthConfig { Test = ["CMD"] }));
        Assert.Null(Healthchecks.Command(new HealthConfig { Test = ["PING", "x"] }));
        Assert.Null(Healthchecks.Command(new HealthConfig { Interval = Second }));
        Assert.Null(Healthchecks.Command(null));
    }

    [Theory]
    [InlineData(-1L, 0L, 0, "invalid health check interval -1ns: it cannot be negative")]
    [InlineData(999_999L, 0L, 0, "invalid health check interval 999.999µs: it must be at least 1ms")]
    [InlineData(0L, -5 * Second, 0, "invalid health check timeout -5s: it cannot be negative")]
    [InlineData(0L, 0L, -1, "invalid health check retry count -1: it cannot be negative")]
    public void Invalid_settings_are_refused(long interval, long timeout, int retries, string message)
    {
        var error = Assert.Throws<EngineException>(() => Healthchecks.Validate(new RunOptions { Healthcheck = new HealthConfig { Interval = interval, Timeout = timeout, Retries = retries } }));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Valid_settings_and_disabling_alone_pass()
    {
        Healthchecks.Validate(new RunOptions { Healthcheck = new HealthConfig { Test = ["CMD-SHELL", "true"], Interval = 1_000_000, StartPeriod = 0, Retries = 0 } });
        Healthchecks.Validate(new RunOptions { NoHealthcheck = true });
        // Zeros are "not given", as docker's CLI sends no settings for them.
        Healthchecks.Validate(new RunOptions { NoHealthcheck = true, Healthcheck = new HealthConfig() });
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => Healthchecks.Validate(
            new RunOptions { NoHealthcheck = true, Healthcheck = new HealthConfig { Retries = 2 } })).Kind);
    }

    [Fact]
    public void The_start_interval_applies_while_starting_within_the_start_period()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), Healthchecks.NextDelay(ImageCheck, TimeSpan.FromSeconds(5), HealthStatus.Starting));
        Assert.Equal(TimeSpan.FromSeconds(10), Healthchecks.NextDelay(ImageCheck, TimeSpan.FromSeconds(5), HealthStatus.Healthy));
        Assert.Equal(TimeSpan.FromSeconds(10), Healthchecks.NextDelay(ImageCheck, TimeSpan.FromSeconds(61), HealthStatus.Starting));
        // docker's defaults: 30 s between checks, no start period, 30 s timeout.
        Assert.Equal(TimeSpan.FromSeconds(30), Healthchecks.NextDelay(new HealthConfig(), TimeSpan.Zero, HealthStatus.Starting));
        Assert.Equal(TimeSpan.FromSeconds(30), Healthchecks.Timeout(new HealthConfig()));
        Assert.Equal(TimeSpan.FromSeconds(5), Healthchecks.NextDelay(new HealthConfig { StartPeriod = 60 * Second }, TimeSpan.Zero, HealthStatus.Starting));
    }

    private static HealthResult Result(int exitCode, double secondsAfterStart = 100)
        => new(Started.AddSeconds(secondsAfterStart), Started.AddSeconds(secondsAfterStart + 0.1), exitCode, $"exit {exitCode}");

    [Fact]
    public void A_success_makes_it_healthy_and_clears_the_streak()
    {
        var health = Healthchecks.Record(new ContainerHealth { Status = HealthStatus.Unhealthy, FailingStreak = 7 }, Result(0), ImageCheck, Started);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(0, health.FailingStreak);
        Assert.Equal("exit 0", Assert.Single(health.Log).Output);
    }

    [Fact]
    public void Failures_become_unhealthy_when_the_streak_reaches_the_retries()
    {
        var config = new HealthConfig { Test = ["CMD", "x"] }; // 3 retries by default
        var health = Healthchecks.Started(null);
        health = Healthchecks.Record(health, Result(1), config, Started);
        health = Healthchecks.Record(health, Result(1), config, Started);
        Assert.Equal((HealthStatus.Starting, 2), (health.Status, health.FailingStreak));
        health = Healthchecks.Record(health, Result(1), config, Started);
        Assert.Equal((HealthStatus.Unhealthy, 3), (health.Status, health.FailingStreak));
        // A healthy container stays healthy until the streak reaches the retries too.
        var healthy = Healthchecks.Record(new ContainerHealth { Status = HealthStatus.Healthy }, Result(2), config, Started);
        Assert.Equal((HealthStatus.Healthy, 1), (healthy.Status, healthy.FailingStreak));
    }

    [Fact]
    public void Failures_in_the_start_period_do_not_count_while_starting()
    {
        var health = Healthchecks.Record(Healthchecks.Started(null), Result(1, secondsAfterStart: 30), ImageCheck with { Retries = 1 }, Started);
        Assert.Equal((HealthStatus.Starting, 0), (health.Status, health.FailingStreak));
        Assert.Single(health.Log);
        // Once healthy, they count even within the start period.
        health = Healthchecks.Record(new ContainerHealth { Status = HealthStatus.Healthy }, Result(1, secondsAfterStart: 30), ImageCheck with { Retries = 1 }, Started);
        Assert.Equal((HealthStatus.Unhealthy, 1), (health.Status, health.FailingStreak));
        // And after it, while starting.
        health = Healthchecks.Record(Healthchecks.Started(null), Result(1, secondsAfterStart: 61), ImageCheck with { Retries = 1 }, Started);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
    }

    [Fact]
    public void The_log_keeps_the_last_five_results_oldest_first()
    {
        var health = Healthchecks.Started(null);
        for (int code = 1; code <= 7; code++)
            health = Healthchecks.Record(health, Result(code), ImageCheck, Started);
        Assert.Equal([3, 4, 5, 6, 7], health.Log.Select(r => r.ExitCode));
    }

    [Fact]
    public void A_restart_is_starting_again_with_the_log_kept()
    {
        var before = new ContainerHealth { Status = HealthStatus.Unhealthy, FailingStreak = 4, Log = [Result(1)] };
        var after = Healthchecks.Started(before);
        Assert.Equal((HealthStatus.Starting, 0), (after.Status, after.FailingStreak));
        Assert.Single(after.Log);
        Assert.Equal("health: starting", after.Describe());
        Assert.Equal("unhealthy", before.Describe());
    }

    [Fact]
    public void The_health_filter_matches_the_status_or_none()
    {
        var filter = ContainerFilter.Parse(["health=unhealthy", "health=none"]);
        ContainerRecord With(ContainerHealth? health) => new()
        {
            Id = new string('a', 64), Name = "c", Image = "i", ImageId = "sha256:x", Created = Started,
            Config = new ContainerConfig { Options = new RunOptions(), Runtime = "runc", RootfsPath = "/r" },
            State = new ContainerState { Health = health },
        };
        Assert.True(filter.Matches(With(null)));
        Assert.True(filter.Matches(With(new ContainerHealth { Status = HealthStatus.Unhealthy })));
        Assert.False(filter.Matches(With(new ContainerHealth { Status = HealthStatus.Healthy })));
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => ContainerFilter.Parse(["health=ok"])).Kind);
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "1ns")]
    [InlineData(1_500L, "1.5µs")]
    [InlineData(300_000_000L, "300ms")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(30 * Second, "30s")]
    [InlineData(90 * Second, "1m30s")]
    [InlineData(3600 * Second, "1h0m0s")]
    [InlineData(-2 * Second, "-2s")]
    public void Durations_print_as_Go_prints_them(long nanoseconds, string text) => Assert.Equal(text, Skiff.Oci.GoDuration.Format(nanoseconds));
}
