using System.Globalization;

namespace Skiff.Oci;

/// <summary>
/// Go's time.Duration as docker and runc take and print it: parsed as time.ParseDuration ("1m30s", "1.5s", "500ms",
/// "-2h", "0"), formatted as Duration.String() ("1.5s", "500ms", "1m30s", "1h0m0s").
/// </summary>
public static class GoDuration
{
    /// <summary>The duration, or null when <paramref name="text"/> is not one.</summary>
    public static TimeSpan? Parse(string text)
    {
        var rest = text.AsSpan();
        var negative = rest.StartsWith("-");
        if (negative || rest.StartsWith("+"))
            rest = rest[1..];
        if (rest is "0")
            return TimeSpan.Zero;
        if (rest.IsEmpty)
            return null;
        var total = 0.0;
        while (!rest.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < rest.Length && (char.IsAsciiDigit(rest[numberLength]) || rest[numberLength] == '.'))
                numberLength++;
            var unitLength = 0;
            while (numberLength + unitLength < rest.Length && !char.IsAsciiDigit(rest[numberLength + unitLength]) && rest[numberLength + unitLength] != '.')
                unitLength++;
            if (numberLength == 0 || !double.TryParse(rest[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
                return null;
            double? nanoseconds = rest.Slice(numberLength, unitLength) switch
            {
                "ns" => 1,
                "us" or "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => null,
            };
            if (nanoseconds is null)
                return null;
            total += value * nanoseconds.Value;
            rest = rest[(numberLength + unitLength)..];
        }
        var ticks = (long)(total / 100);
        return TimeSpan.FromTicks(negative ? -ticks : ticks);
    }

    /// <summary>How Go prints <paramref name="nanoseconds"/>.</summary>
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
