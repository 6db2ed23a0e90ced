using Skiff.Engine.Containers;

namespace Skiff.Engine;

/// <summary>docker's words for a container's state and for ages, as `ps` shows them and the API's Status field carries them.</summary>
public static class ContainerDisplay
{
    /// <summary>docker's ps STATUS (the API's ContainerSummary.Status): "Up 3 minutes (healthy)", "Exited (1) 2 hours ago", "Created".</summary>
    public static string Status(ContainerRecord container, DateTimeOffset now) => container.State.Status switch
    {
        ContainerStatus.Running => $"Up {HumanDuration(now - (container.State.StartedAt ?? container.Created))}{(container.State.Health is { } health ? $" ({health.Describe()})" : "")}",
        ContainerStatus.Paused => $"Up {HumanDuration(now - (container.State.StartedAt ?? container.Created))} (Paused)",
        ContainerStatus.Exited => $"Exited ({container.State.ExitCode}) {HumanDuration(now - (container.State.FinishedAt ?? container.Created))} ago",
        ContainerStatus.Restarting => "Restarting",
        _ => "Created",
    };

    /// <summary>docker's units.HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks".</summary>
    public static string HumanDuration(TimeSpan age)
    {
        double seconds = age.TotalSeconds, minutes = age.TotalMinutes, hours = age.TotalHours;
        return seconds < 1 ? "Less than a second"
            : (int)seconds == 1 ? "1 second"
            : seconds < 60 ? $"{(int)seconds} seconds"
            : (int)minutes == 1 ? "About a minute"
            : minutes < 60 ? $"{(int)minutes} minutes"
            : (int)Math.Round(hours) == 1 ? "About an hour"
            : hours < 48 ? $"{(int)Math.Round(hours)} hours"
            : hours < 24 * 7 * 2 ? $"{(int)(hours / 24)} days"
            : hours < 24 * 30 * 2 ? $"{(int)(hours / 24 / 7)} weeks"
            : hours < 24 * 365 * 2 ? $"{(int)(hours / 24 / 30)} months"
            : $"{(int)(hours / 24 / 365)} years";
    }
}
