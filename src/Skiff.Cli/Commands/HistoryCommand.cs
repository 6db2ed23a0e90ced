using Skiff.Cli.Templates;
using Skiff.Images.Service;

namespace Skiff.Cli.Commands;

internal static class HistoryCommand
{
    public static readonly CliCommand Definition = new(
        "history", "IMAGE", "Show how an image's layers were made, newest first.",
        [new("no-trunc", Help: "do not shorten IDs and commands"), new("quiet", 'q', Help: "print only image IDs"),
         new("format", TakesValue: true, Help: "table (default) or a Go template such as '{{.ID}} {{.CreatedBy}}'"), CliCommand.Help],
        Run, MinPositionals: 1, MaxPositionals: 1, Aliases: ["image history"]);

    private const string RowType = "*formatter.historyContext";

    /// <summary>The column titles of docker's history formatter.</summary>
    private static readonly TemplateRow Header = new(RowType, new Dictionary<string, object?>
    {
        ["ID"] = "IMAGE", ["CreatedSince"] = "CREATED", ["CreatedAt"] = "CREATED AT", ["CreatedBy"] = "CREATED BY", ["Size"] = "SIZE", ["Comment"] = "COMMENT",
    });

    private static int Run(CliContext context, ParsedArguments args)
    {
        var format = Output.ParseRows(args.Value("format") ?? "table", "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}");
        var history = context.Images.History(args.Positionals[0]);
        bool noTrunc = args.Bool("no-trunc");
        if (args.Bool("quiet"))
        {
            foreach (var entry in history)
                context.Out.WriteLine(Id(entry.Id, noTrunc));
            return 0;
        }
        var now = DateTimeOffset.UtcNow;
        var rows = history.Select(entry => new TemplateRow(RowType, new Dictionary<string, object?>
        {
            ["ID"] = Id(entry.Id, noTrunc),
            ["CreatedSince"] = entry.Created is { } created ? Output.Ago(created, now) : "",
            ["CreatedAt"] = entry.Created is { } at ? Output.GoTime(at) : "",
            ["CreatedBy"] = noTrunc || entry.CreatedBy.Length <= 45 ? entry.CreatedBy : entry.CreatedBy[..44] + "…",
            ["Size"] = Output.Size(entry.Size),
            ["Comment"] = entry.Comment,
        }));
        Output.Rows(context.Out, format, Header, rows);
        return 0;
    }

    private static string Id(string id, bool noTrunc) => noTrunc || id == "<missing>" ? id : ImageInfo.ShortHex(id);
}
