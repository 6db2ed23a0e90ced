using System.Globalization;
using Skiff.Oci;

namespace Skiff.Engine;

/// <summary>
/// docker's timestamps (`logs --since`, `events --until`, the `until` filter): an RFC 3339 time (a time without a zone
/// is UTC), unix seconds with an optional fraction, or a Go duration (`10m`, `1h30m`, `1.5h`, `300ms`) counted back
/// from now.
/// </summary>
public static class DockerTime
{
    /// <summary>The time <paramref name="text"/> names, or null when it is none of docker's forms.</summary>
    public static DateTimeOffset? TryParse(string text, DateTimeOffset now)
    {
        if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var unixSeconds))
            return DateTimeOffset.UnixEpoch.AddTicks((long)(unixSeconds * TimeSpan.TicksPerSecond));
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return time;
        return GoDuration.Parse(text) is { } ago ? now - ago : null;
    }
}
