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
        var interval = args.Duration("interval") ?? TimeSpan.FromSeconds(5);
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
}
