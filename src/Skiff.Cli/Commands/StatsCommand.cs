using System.Globalization;
using System.Text.Json;
using Skiff.Cli.Templates;
using Skiff.Engine;

namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff stats`: docker's columns from each container's cgroup and network namespace, read every second. CPU %
/// compares two readings, so even --no-stream reads twice, a second apart, as docker does. On a terminal the
/// table is redrawn in place; otherwise a new table is printed each second until interrupted.
/// </summary>
internal static class StatsCommand
{
    private const string DefaultFormat = "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

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
        bool stream = !args.Bool("no-stream");
        bool redraw = stream && context.IsTerminal;
        // Named containers are followed even once stopped; without names, the list is taken anew each time.
        var named = args.Positionals.Select(name => context.Engine.ContainerQueries.Get(name).Id).ToList();
        var previous = new Dictionary<string, ContainerStatsSample>();
        Sample(context, named, args.Bool("all"), previous);
        while (true)
        {
            Thread.Sleep(Interval);
            var current = new Dictionary<string, ContainerStatsSample>();
            var samples = Sample(context, named, args.Bool("all"), current);
            if (redraw)
                context.Out.Write("\x1b[2J\x1b[H");
            Print(context.Out, format, samples, previous, args.Bool("no-trunc"), named.Count > 0 ? args.Positionals : null);
            context.Out.Flush();
            if (!stream)
                return 0;
            previous = current;
        }
    }

    private static List<ContainerStatsSample> Sample(CliContext context, List<string> named, bool all, Dictionary<string, ContainerStatsSample> into)
    {
        var ids = named.Count > 0 ? named : context.Engine.ContainerQueries.List(all).Select(c => c.Id).ToList();
        var samples = new List<ContainerStatsSample>();
        foreach (var id in ids)
        {
            try
            {
                var sample = context.Engine.ContainerQueries.SampleStats(id);
                samples.Add(sample);
                into[id] = sample;
            }
            catch (EngineException) when (named.Count == 0)
            {
                // removed since it was listed
            }
        }
        return samples;
    }

    private static void Print(TextWriter output, ListFormat? format, List<ContainerStatsSample> samples, Dictionary<string, ContainerStatsSample> previous,
        bool noTrunc, IReadOnlyList<string>? givenNames)
    {
        var rows = samples.Select((sample, index) => Row(sample, previous.GetValueOrDefault(sample.Id), noTrunc, givenNames?[index])).ToList();
        if (format is null)
        {
            foreach (var row in rows)
                output.WriteLine(JsonSerializer.Serialize(row, StatsJsonContext.Default.StatsEntry));
            return;
        }
        Output.Rows(output, format, Header, rows.Select(row => row.ToRow()));
    }

    private static StatsEntry Row(ContainerStatsSample sample, ContainerStatsSample? previous, bool noTrunc, string? givenName)
    {
        string Percent(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + "%";
        var id = noTrunc ? sample.Id : sample.Id[..12];
        return new StatsEntry(
            BlockIO: $"{Output.Size(sample.BlockRead)} / {Output.Size(sample.BlockWritten)}",
            CPUPerc: Percent(sample.CpuPercent(previous)),
            Container: givenName ?? id,
            ID: id,
            MemPerc: Percent(sample.MemoryPercent),
            MemUsage: $"{Output.BinarySize(sample.MemoryUsage)} / {Output.BinarySize(sample.MemoryLimit)}",
            Name: sample.Name,
            NetIO: $"{Output.Size(sample.NetworkReceived)} / {Output.Size(sample.NetworkSent)}",
            PIDs: sample.Pids.ToString(CultureInfo.InvariantCulture));
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
