using System.Globalization;

namespace Skiff.Engine;

/// <summary>Go's time.Duration.String(), the way docker prints a duration in a message ("1.5s", "500ms", "1m30s", "1h0m0s").</summary>
public static class GoDuration
{
    public static string Format(long nanoseconds)
    {
        if (nanoseconds == 0)
            return "0s";
        var sign = nanoseconds < 0 ? "-" : "";
        var magnitude = nanoseconds < 0 ? (ulong)-(nanoseconds + 1) + 1 : (ulong)nanoseconds;
        if (magnitude < 1_000)
            return $"{sign}{magnitude}ns";
        if (magnitude < 1_000_000)
            return $"{sign}{Fraction(magnitude, 3)}µs";
        if (magnitude < 1_000_000_000)
            return $"{sign}{Fraction(magnitude, 6)}ms";
        var seconds = Fraction(magnitude % 60_000_000_000, 9) + "s";
        var minutes = magnitude / 60_000_000_000;
        if (minutes == 0)
            return sign + seconds;
        var hours = minutes / 60;
        return hours == 0 ? $"{sign}{minutes}m{seconds}" : $"{sign}{hours}h{minutes % 60}m{seconds}";
    }

    /// <summary><paramref name="value"/> / 10^<paramref name="digits"/> with the fraction's trailing zeros (and a bare point) left out.</summary>
    private static string Fraction(ulong value, int digits)
    {
        ulong scale = 1;
        for (int i = 0; i < digits; i++)
            scale *= 10;
        var whole = (value / scale).ToString(CultureInfo.InvariantCulture);
        var fraction = (value % scale).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
        return fraction.Length == 0 ? whole : $"{whole}.{fraction}";
    }
}
