using System.Text.Json;
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
        var filter = EventFilter.Parse(args.Values("filter"));
        var since = args.Value("since") is { } s ? ContainerCommands.ParseTime(s, "--since") : (DateTimeOffset?)null;
        var until = args.Value("until") is { } u ? ContainerCommands.ParseTime(u, "--until") : (DateTimeOffset?)null;
        var format = args.Value("format") is { } f ? Output.ParseTemplate(f == "json" ? "{{json .}}" : f) : null;
        bool follow = until is null || until > DateTimeOffset.UtcNow;
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = follow };
        foreach (var e in context.Events.Read(since, until, follow).Where(filter.Matches))
            output.WriteLine(format is null ? e.ToString() : format.Execute(JsonSerializer.SerializeToElement(e, EventJsonContext.Default.EngineEvent)));
        return 0;
    }
}
