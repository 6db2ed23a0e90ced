using System.Text.Json;
using Skiff.Cli.Templates;
using Skiff.Engine;
using Skiff.Images.Service;

namespace Skiff.Cli.Commands;

/// <summary>`skiff volume ...`: named and anonymous volumes.</summary>
internal static class VolumeCommands
{
    public static readonly CliCommand Create = new(
        "volume create", "[NAME]", "Create a named volume (a random name when none is given).",
        [new("label", 'l', TakesValue: true, Repeatable: true, Help: "label KEY=VALUE"), CliCommand.Help],
        (context, args) =>
        {
            var labels = args.Values("label").Select(label => label.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : "");
            context.Out.WriteLine(context.Engine.Volumes.Create(args.Positionals.FirstOrDefault(), labels).Name);
            return 0;
        },
        MinPositionals: 0, MaxPositionals: 1);

    public static readonly CliCommand List = new(
        "volume ls", "", "List volumes.",
        [new("quiet", 'q', Help: "print only names"), new("format", TakesValue: true, Help: "table (default), json, or a Go template such as '{{.Name}}'"),
         new("filter", 'f', TakesValue: true, Repeatable: true, Help: "name=PART, label=KEY[=VALUE], driver=local, dangling=true|false"), CliCommand.Help],
        (context, args) =>
        {
            var format = Output.ParseRows(args.Value("format") ?? "table", "table {{.Driver}}\\t{{.Name}}");
            var volumes = context.Engine.Volumes.List(args.Values("filter"));
            if (args.Bool("quiet"))
                volumes.Select(v => v.Name).ToList().ForEach(context.Out.WriteLine);
            else
                Output.Rows(context.Out, format, VolumeHeader, volumes.Select(v => VolumeRow(v, context.Engine.Volumes.DataPath(v.Name))));
            return 0;
        },
        Aliases: ["volume list"]);

    private const string VolumeRowType = "*formatter.volumeContext";

    /// <summary>The column titles of docker's volume formatter.</summary>
    private static TemplateRow VolumeHeader => new(VolumeRowType, new Dictionary<string, object?>
    {
        ["Name"] = "VOLUME NAME", ["Driver"] = "DRIVER", ["Scope"] = "SCOPE", ["Mountpoint"] = "MOUNTPOINT", ["Labels"] = "LABELS",
        ["Links"] = "LINKS", ["Size"] = "SIZE",
    }, new Dictionary<string, string>());

    /// <summary>A volume as docker's `volume ls` templates see it.</summary>
    private static TemplateRow VolumeRow(Skiff.Engine.Containers.VolumeRecord volume, string mountpoint) => new(VolumeRowType, new Dictionary<string, object?>
    {
        ["Name"] = volume.Name, ["Driver"] = "local", ["Scope"] = "local", ["Mountpoint"] = mountpoint,
        ["Labels"] = string.Join(',', volume.Labels.Select(label => $"{label.Key}={label.Value}")), ["Links"] = "N/A", ["Size"] = "N/A",
    }, volume.Labels);

    public static readonly CliCommand Inspect = new(
        "volume inspect", "NAME [NAME...]", "Show volumes (JSON).",
        [new("format", 'f', TakesValue: true, Help: "json, or a Go template such as '{{.Name}}'"), CliCommand.Help],
        (context, args) => InspectCommand.Print(context, args,
            name => JsonSerializer.SerializeToElement(context.Engine.Volumes.Inspect(name), InspectJsonContext.Default.VolumeInspect)),
        MinPositionals: 1, MaxPositionals: -1);

    public static readonly CliCommand Remove = new(
        "volume rm", "NAME [NAME...]", "Remove volumes no container uses.",
        [new("force", 'f', Help: "accepted for docker compatibility"), CliCommand.Help],
        (context, args) =>
        {
            foreach (var name in args.Positionals)
            {
                context.Engine.Volumes.Remove(name);
                context.Out.WriteLine(name);
            }
            return 0;
        },
        MinPositionals: 1, MaxPositionals: -1);

    public static readonly CliCommand Prune = new(
        "volume prune", "", "Remove volumes no container uses (anonymous ones unless -a).",
        [new("all", 'a', Help: "named volumes too"), new("force", 'f', Help: "do not ask (skiff never asks)"),
         PruneCommand.FilterFlag("label=KEY[=VALUE], label!=KEY[=VALUE], all=true"), CliCommand.Help],
        (context, args) =>
        {
            var report = context.Engine.Volumes.Prune(args.Bool("all"), args.Values("filter"));
            PruneCommand.PrintRemoved(context, "Deleted Volumes", report);
            context.Out.WriteLine($"Total reclaimed space: {Output.Size(report.ReclaimedBytes)}");
            return 0;
        });
}
