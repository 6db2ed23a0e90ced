using System.Globalization;

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
        return GoDuration(text) is { } ago ? now - ago : null;
    }

    /// <summary>Go's time.ParseDuration: a sign, then numbers (with fractions) each followed by ns, us, µs, ms, s, m or h.</summary>
    internal static TimeSpan? GoDuration(string text)
    {
        int i = 0, sign = 1;
        if (i < text.Length && text[i] is '-' or '+')
            sign = text[i++] == '-' ? -1 : 1;
        if (i == text.Length)
            return null;
        double ticks = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
                i++;
            if (!double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
                return null;
            int unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
                i++;
            double? unit = text[unitStart..i] switch
            {
                "ns" => TimeSpan.TicksPerMicrosecond / 1000.0,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => null,
            };
            if (unit is null)
                return null;
            ticks += amount * unit.Value;
        }
        return TimeSpan.FromTicks(sign * (long)ticks);
    }
}
