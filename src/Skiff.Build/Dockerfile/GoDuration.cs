using System.Globalization;

namespace Skiff.Build.Dockerfile;

/// <summary>
/// Go's duration syntax (<c>300ms</c>, <c>1.5h</c>, <c>1m30s</c>, <c>-2s</c>, <c>0</c>), which docker's HEALTHCHECK
/// flags take, so that a Dockerfile written for docker means the same here.
/// </summary>
internal static class GoDuration
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", 0.01), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>The duration written in <paramref name="text"/>, or null when it is not Go's syntax or out of range.</summary>
    public static TimeSpan? Parse(string text)
    {
        int position = 0;
        bool negative = false;
        if (position < text.Length && text[position] is '+' or '-')
            negative = text[position++] == '-';
        if (text[position..] == "0")
            return TimeSpan.Zero;
        if (position == text.Length)
            return null;
        double ticks = 0;
        while (position < text.Length)
        {
            int numberStart = position;
            while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] == '.'))
                position++;
            if (!double.TryParse(text.AsSpan(numberStart, position - numberStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
                return null;
            int unitStart = position;
            while (position < text.Length && !char.IsAsciiDigit(text[position]) && text[position] != '.')
                position++;
            string unit = text[unitStart..position];
            var match = Units.FirstOrDefault(candidate => candidate.Unit == unit);
            if (match.Unit is null)
                return null;
            ticks += number * match.Ticks;
            if (ticks > TimeSpan.MaxValue.Ticks)
                return null;
        }
        return TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
    }
}
