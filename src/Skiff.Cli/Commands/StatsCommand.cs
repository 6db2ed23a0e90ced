using System.Globalization;
using System.Text.Json;
using Skiff.Cli.Templates;
using Skiff.Engine;

namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff stats`: docker's columns, from the engine's rounds of <see cref="ContainerStats"/> a second apart. On a
/// terminal the table is redrawn in place; otherwise a new table is printed each second until interrupted.
/// </summary>
internal static class StatsCommand
{
    private const string DefaultFormat = "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}";

    /// <summary>The --format fields' column titles, as docker names them.</summary>
    private static readonly TemplateRow Header = new("*formatter.statsContext", new Dictionary<string, object?>
    {
        ["Container"] = "CONTAINER", ["ID"] = "CONTAINER ID", ["Name"] = "NAME", ["CPUPerc"] = "CPU %", ["MemUsage"] = "MEM USAGE / LIMIT",
        ["MemPerc"] = "MEM %", ["NetIO"] = "NET I/O", ["BlockIO"] = "BLOCK I/O", ["PIDs"] = "PIDS",
    });

    public static readonly CliCommand Definition = new(
        "stats", "[CONTAINER...]", "Show containers' CPU, memory, network and block I/O use and process counts.",
        [new("all", 'a', Help: "show stopped containers too (as zeros)"), new("no-stream", Help: "print one reading and exit"),
         new("no-trunc", Help: "full container IDs"), new("format", TakesValue: true, Help: "table (default), json, or a template such as \"table {{.Name}}\\t{{.CPUPerc}}\""),
         CliCommand.Help],
        Run, MaxPositionals: -1, Aliases: ["container stats"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        // null: JSON lines
        var format = args.Value("format") is "json" ? null : Output.ParseRows(args.Value("format") ?? "table", DefaultFormat);
        var request = new ContainerStatsRequest { Containers = args.Positionals, All = args.Bool("all"), Stream = !args.Bool("no-stream") };
        bool redraw = request.Stream && context.IsTerminal;
        foreach (var round in context.Engine.ContainerStats.ReadAsync(request).ToBlockingEnumerable())
        {
            if (redraw)
                context.Out.Write("\x1b[2J\x1b[H");
            Print(context.Out, format, round, args.Bool("no-trunc"), request.Containers.Count > 0 ? request.Containers : null);
            context.Out.Flush();
        }
        return 0;
    }

    private static void Print(TextWriter output, ListFormat? format, IReadOnlyList<ContainerStats> round, bool noTrunc, IReadOnlyList<string>? givenNames)
    {
        var rows = round.Select((stats, index) => Row(stats, noTrunc, givenNames?[index])).ToList();
        if (format is null)
        {
            foreach (var row in rows)
                output.WriteLine(JsonSerializer.Serialize(row, StatsJsonContext.Default.StatsEntry));
            return;
        }
        Output.Rows(output, format, Header, rows.Select(row => row.ToRow()));
    }

    private static StatsEntry Row(ContainerStats stats, bool noTrunc, string? givenName)
    {
        string Percent(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + "%";
        var id = noTrunc ? stats.Id : stats.Id[..12];
        return new StatsEntry(
            BlockIO: $"{Output.Size(stats.BlockRead)} / {Output.Size(stats.BlockWritten)}",
            CPUPerc: Percent(stats.CpuPercent),
            Container: givenName ?? id,
            ID: id,
            MemPerc: Percent(stats.MemoryPercent),
            MemUsage: $"{Output.BinarySize(stats.MemoryUsage)} / {Output.BinarySize(stats.MemoryLimit)}",
            Name: stats.Name,
            NetIO: $"{Output.Size(stats.NetworkReceived)} / {Output.Size(stats.NetworkSent)}",
            PIDs: stats.Pids.ToString(CultureInfo.InvariantCulture));
    }
}

/// <summary>One line of `stats --format json`, with docker's field names.</summary>
internal sealed record StatsEntry(string BlockIO, string CPUPerc, string Container, string ID, string MemPerc, string MemUsage, string Name, string NetIO, string PIDs)
{
    public TemplateRow ToRow() => new("*formatter.statsContext", new Dictionary<string, object?>
    {
        ["Container"] = Container, ["ID"] = ID, ["Name"] = Name, ["CPUPerc"] = CPUPerc, ["MemUsage"] = MemUsage,
        ["MemPerc"] = MemPerc, ["NetIO"] = NetIO, ["BlockIO"] = BlockIO, ["PIDs"] = PIDs,
    });
}

[System.Text.Json.Serialization.JsonSerializable(typeof(StatsEntry))]
internal sealed partial class StatsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
