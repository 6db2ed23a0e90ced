using Skiff.Engine.Specs;
using Skiff.Oci;
using Skiff.Oci.Image;

namespace Skiff.Engine.Containers;

/// <summary>docker's health states; the names (lower case) are what inspect, ps and the events print.</summary>
public enum HealthStatus
{
    Starting,
    Healthy,
    Unhealthy,
}

/// <summary>One run of a health check (docker's HealthcheckResult): -1 for a check that could not run or ran out of time.</summary>
public sealed record HealthResult(DateTimeOffset Start, DateTimeOffset End, int ExitCode, string Output);

/// <summary>docker's State.Health of a container whose health is checked; kept in the container's row.</summary>
public sealed record ContainerHealth
{
    public HealthStatus Status { get; init; } = HealthStatus.Starting;
    /// <summary>Failed checks in a row that counted (those of the start period do not).</summary>
    public int FailingStreak { get; init; }
    /// <summary>The last <see cref="Healthchecks.MaximumLogEntries"/> results, oldest first.</summary>
    public IReadOnlyList<HealthResult> Log { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public string StatusName => Healthchecks.Name(Status);

    /// <summary>docker's Health.String(), which ps adds to "Up 3 seconds": "health: starting", "healthy", "unhealthy".</summary>
    public string Describe() => Status == HealthStatus.Starting ? "health: starting" : StatusName;
}

/// <summary>
/// docker's health check rules (moby's daemon/health.go): the container's settings merged over the image's, their
/// validation, the command a check runs, when the next one runs and what a result does to the container's health.
/// </summary>
public static class Healthchecks
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultStartInterval = TimeSpan.FromSeconds(5);
    public const int DefaultRetries = 3;
    public const int MaximumLogEntries = 5;
    /// <summary>The output a result keeps (docker's maxOutputLen); more is cut and marked with "...".</summary>
    public const int MaximumOutput = 4096;
    /// <summary>The shortest duration docker takes for a setting that is given (0 means "the default").</summary>
    private const long MinimumNanoseconds = 1_000_000;

    public static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>The value a `health=` filter compares: the status, or "none" for a container whose health is not checked.</summary>
    public static string FilterName(ContainerHealth? health) => health is null ? "none" : health.StatusName;

    /// <summary>Checks the health settings a container is created with (not the image's, which docker takes as they are).</summary>
    /// <exception cref="EngineException">InvalidArgument: a negative or too short duration, a negative retry count, settings with the check disabled.</exception>
    public static void Validate(RunOptions options)
    {
        if (options.Healthcheck is not { } settings)
            return;
        if (options.NoHealthcheck && HasSettings(settings))
            throw new EngineException(ErrorKind.InvalidArgument, "a container's health check cannot be both disabled and configured: drop one or the other");
        CheckDuration("interval", settings.Interval);
        CheckDuration("timeout", settings.Timeout);
        CheckDuration("start period", settings.StartPeriod);
        CheckDuration("start interval", settings.StartInterval);
        if (settings.Retries < 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid health check retry count {settings.Retries}: it cannot be negative");
    }

    private static bool HasSettings(HealthConfig settings)
        => settings.Test is { Count: > 0 } || settings.Interval != 0 || settings.Timeout != 0 || settings.StartPeriod != 0 || settings.StartInterval != 0 || settings.Retries != 0;

    private static void CheckDuration(string name, long nanoseconds)
    {
        if (nanoseconds < 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid health check {name} {GoDuration.Format(nanoseconds)}: it cannot be negative");
        if (nanoseconds is > 0 and < MinimumNanoseconds)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid health check {name} {GoDuration.Format(nanoseconds)}: it must be at least {GoDuration.Format(MinimumNanoseconds)}");
    }

    /// <summary>
    /// The health check a container gets (moby's merge): disabled ["NONE"], else each setting given for the container
    /// wins over the image's, a zero one keeps the image's. Null: neither has one.
    /// </summary>
    public static HealthConfig? Merge(RunOptions options, HealthConfig? image)
    {
        var own = options.NoHealthcheck ? new HealthConfig { Test = ["NONE"] } : options.Healthcheck;
        if (own is null || image is null)
            return own ?? image;
        return new HealthConfig
        {
            Test = own.Test is { Count: > 0 } ? own.Test : image.Test,
            Interval = own.Interval != 0 ? own.Interval : image.Interval,
            Timeout = own.Timeout != 0 ? own.Timeout : image.Timeout,
            StartPeriod = own.StartPeriod != 0 ? own.StartPeriod : image.StartPeriod,
            StartInterval = own.StartInterval != 0 ? own.StartInterval : image.StartInterval,
            Retries = own.Retries != 0 ? own.Retries : image.Retries,
        };
    }

    /// <summary>
    /// What a check runs in the container: CMD's arguments, or CMD-SHELL's command through the image's
    /// <paramref name="shell"/> (its SHELL), /bin/sh -c without one, as moby's getShell. Null when the container's
    /// health is not checked (no test, NONE, or a type docker does not know, which it ignores too).
    /// </summary>
    public static IReadOnlyList<string>? Command(HealthConfig? config, IReadOnlyList<string>? shell = null) => config?.Test switch
    {
        ["CMD", .. var arguments] when arguments.Count > 0 => arguments,
        ["CMD-SHELL", .. var command] => [.. shell is { Count: > 0 } ? shell : ["/bin/sh", "-c"], .. command],
        _ => null,
    };

    public static TimeSpan Interval(HealthConfig config) => OrDefault(config.Interval, DefaultInterval);

    public static TimeSpan Timeout(HealthConfig config) => OrDefault(config.Timeout, DefaultTimeout);

    private static TimeSpan StartPeriod(HealthConfig config) => OrDefault(config.StartPeriod, TimeSpan.Zero);

    private static TimeSpan OrDefault(long nanoseconds, TimeSpan fallback) => nanoseconds == 0 ? fallback : TimeSpan.FromTicks(nanoseconds / 100);

    /// <summary>A container's health as it (re)starts: starting, no failures counted; the log of earlier runs stays, as docker keeps it.</summary>
    public static ContainerHealth Started(ContainerHealth? previous) => (previous ?? new ContainerHealth()) with { Status = HealthStatus.Starting, FailingStreak = 0 };

    /// <summary>
    /// The wait before the next check: the start interval while the container is in its start period and not yet
    /// healthy, else the interval (docker's first check also waits this long).
    /// </summary>
    public static TimeSpan NextDelay(HealthConfig config, TimeSpan sinceStart, HealthStatus status)
        => sinceStart < StartPeriod(config) && status == HealthStatus.Starting
            ? OrDefault(config.StartInterval, DefaultStartInterval)
            : Interval(config);

    /// <summary>
    /// The health after a check (docker's handleProbeResult): the result joins the log (the last five kept); a success
    /// makes it healthy and clears the streak; a failure adds to the streak unless the container is starting and the
    /// check began within the start period, and the streak reaching the retries makes it unhealthy.
    /// </summary>
    public static ContainerHealth Record(ContainerHealth health, HealthResult result, HealthConfig config, DateTimeOffset startedAt)
    {
        var log = health.Log.Skip(Math.Max(0, health.Log.Count + 1 - MaximumLogEntries)).Append(result).ToList();
        if (result.ExitCode == 0)
            return health with { Status = HealthStatus.Healthy, FailingStreak = 0, Log = log };
        if (health.Status == HealthStatus.Starting && result.Start - startedAt < StartPeriod(config))
            return health with { Log = log };
        var streak = health.FailingStreak + 1;
        var retries = config.Retries > 0 ? config.Retries : DefaultRetries;
        return health with { FailingStreak = streak, Status = streak >= retries ? HealthStatus.Unhealthy : health.Status, Log = log };
    }
}
