using System.Globalization;
using System.Text.Json;
using Skiff.Runtime;

namespace Skiff.Cli.Runtime;

public static partial class Commands
{
    private static Flag[] EventsFlags =>
    [
        new("stats", Help: "print one stats event and exit"),
        new("interval", TakesValue: true, Help: "time between stats events, a Go duration such as 5s or 500ms (default 5s)"),
        Help,
    ];

    /// <summary>events: one JSON object per line, as runc prints them, flushed as they happen.</summary>
    private static int Events(Context context, ParsedArguments args)
    {
        var interval = args.Value("interval") is { } text ? Duration("interval", text) : TimeSpan.FromSeconds(5);
        if (interval <= TimeSpan.Zero)
            throw new UsageException("events: --interval must be positive");
        var output = Console.Out;
        context.Runtime.Events(args.Positionals[0], interval, args.Bool("stats"), e =>
        {
            output.WriteLine(JsonSerializer.Serialize(e, ContainerEventJsonContext.Default.ContainerEvent));
            output.Flush();
        });
        return 0;
    }

    /// <summary>Go's time.ParseDuration: a sequence of numbers with units ns, us (µs), ms, s, m, h ("1m30s", "1.5s").</summary>
    internal static TimeSpan Duration(string flag, string text)
    {
        var total = 0.0;
        var rest = text.AsSpan();
        if (rest.IsEmpty)
            throw DurationError(flag, text);
        while (!rest.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < rest.Length && (char.IsAsciiDigit(rest[numberLength]) || rest[numberLength] == '.'))
                numberLength++;
            var unitLength = 0;
            while (numberLength + unitLength < rest.Length && !char.IsAsciiDigit(rest[numberLength + unitLength]) && rest[numberLength + unitLength] != '.')
                unitLength++;
            if (numberLength == 0 || !double.TryParse(rest[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
                throw DurationError(flag, text);
            double nanoseconds = rest.Slice(numberLength, unitLength) switch
            {
                "ns" => 1,
                "us" or "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => throw DurationError(flag, text),
            };
            total += value * nanoseconds;
            rest = rest[(numberLength + unitLength)..];
        }
        return TimeSpan.FromTicks((long)(total / 100));
    }

    private static UsageException DurationError(string flag, string text)
        => new($"--{flag} must be a duration such as 5s, 500ms or 1m30s, not \"{text}\"");
}
