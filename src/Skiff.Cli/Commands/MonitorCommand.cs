using Skiff.Engine.Logging;
using Skiff.Engine.Monitor;

namespace Skiff.Cli.Commands;

/// <summary>
/// The hidden `skiff monitor` that <see cref="Skiff.Engine.EngineOptions.MonitorCommand"/> names: the engine's
/// <see cref="MonitorEntry"/> behind the CLI's binary, so that one published program serves both.
/// </summary>
internal static class MonitorCommand
{
    /// <summary>The per-container monitor (docs/engine.md): started by the engine, never by hand.</summary>
    public static readonly CliCommand Definition = new(
        "monitor", "", "(internal) the per-container monitor process.",
        [new("root", TakesValue: true), new("run-root", TakesValue: true), new("runtime-root", TakesValue: true), CliCommand.Help],
        (_, args) => MonitorEntry.Run([.. MonitorArguments(args)], new TextWriterLoggerProvider(Console.Error, prefix: "skiff monitor").ToFactory()),
        MinPositionals: 0, MaxPositionals: 1, Hidden: true);

    private static IEnumerable<string> MonitorArguments(ParsedArguments args)
    {
        foreach (var flag in new[] { "root", "run-root", "runtime-root" })
        {
            if (args.Value(flag) is { } value)
            {
                yield return "--" + flag;
                yield return value;
            }
        }
        foreach (var id in args.Positionals)
            yield return id;
    }
}
