using Skiff.Cli.Templates;

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
        var image = context.Images.Resolve(args.Positionals[0]);
        var config = context.Images.Config(image);
        bool noTrunc = args.Bool("no-trunc");
        // History entries that made a layer take the layers' sizes in order; the others (ENV, CMD...) are 0 bytes.
        var history = config.History ?? [.. image.Layers.Select(_ => new Skiff.Oci.Image.ImageHistory())];
        var rows = new List<Dictionary<string, object?>>();
        int layer = 0;
        var now = DateTimeOffset.UtcNow;
        foreach (var entry in history)
        {
            long size = entry.EmptyLayer == true || layer >= image.Layers.Count ? 0 : image.Layers[layer++].Size;
            string createdBy = entry.CreatedBy ?? "";
            if (!noTrunc && createdBy.Length > 45)
                createdBy = createdBy[..44] + "…";
            rows.Add(new()
            {
                ["ID"] = "<missing>",
                ["CreatedSince"] = entry.Created is { } created ? Output.Ago(created, now) : "",
                ["CreatedAt"] = entry.Created is { } at ? Output.GoTime(at) : "",
                ["CreatedBy"] = createdBy,
                ["Size"] = Output.Size(size),
                ["Comment"] = entry.Comment ?? "",
            });
        }
        rows.Reverse();
        if (rows.Count > 0)
            rows[0]["ID"] = noTrunc ? image.Id : image.ShortId;
        if (args.Bool("quiet"))
        {
            foreach (var row in rows)
                context.Out.WriteLine(row["ID"]);
            return 0;
        }
        Output.Rows(context.Out, format, Header, rows.Select(row => new TemplateRow(RowType, row)));
        return 0;
    }
}
