using System.Text.Json;
using Skiff.Engine;
using Skiff.Engine.Events;

namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff events`: what the engine's journal recorded (see <see cref="EventJournal"/>). As docker: without --since
/// or --until only new events, followed until interrupted; with --since, the past ones first; with --until,
/// events up to that time (following until then when it is still ahead).
/// </summary>
internal static class EventsCommand
{
    public static readonly CliCommand Definition = new(
        "events", "", "Show engine events (containers, images, volumes) as they happen.",
        [
            new("since", TakesValue: true, Help: "also past events from this time (RFC 3339, unix seconds, or a duration such as 10m)"),
            new("until", TakesValue: true, Help: "stop at this time"),
            new("filter", 'f', TakesValue: true, Repeatable: true, Help: "container=, image=, event=, type=, label=KEY[=VALUE], volume="),
            new("format", TakesValue: true, Help: "json, or a template such as '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'"),
            CliCommand.Help,
        ],
        Run, Aliases: ["system events"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var query = new EventQuery
        {
            Since = args.Value("since") is { } since ? ContainerCommands.ParseTime(since, "--since") : null,
            Until = args.Value("until") is { } until ? ContainerCommands.ParseTime(until, "--until") : null,
            Filters = args.Values("filter"),
        };
        var format = args.Value("format") is { } f ? Output.ParseTemplate(f == "json" ? "{{json .}}" : f) : null;
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = query.Follow };
        var events = context.Engine.Events.ReadAsync(query).GetAsyncEnumerator();
        try
        {
            while (events.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                var e = events.Current;
                output.WriteLine(format is null ? e.ToString() : format.Execute(JsonSerializer.SerializeToElement(e, EventJsonContext.Default.EngineEvent)));
            }
        }
        finally
        {
            events.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return 0;
    }
}
