namespace Skiff.Cli.Commands;

internal static class HistoryCommand
{
    public static readonly CliCommand Definition = new(
        "history", "IMAGE", "Show how an image's layers were made, newest first.",
        [new("no-trunc", Help: "do not shorten IDs and commands"), new("quiet", 'q', Help: "print only image IDs"), CliCommand.Help],
        Run, MinPositionals: 1, MaxPositionals: 1, Aliases: ["image history"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var image = context.Images.Resolve(args.Positionals[0]);
        var config = context.Images.Config(image);
        bool noTrunc = args.Bool("no-trunc");
        // History entries that made a layer take the layers' sizes in order; the others (ENV, CMD...) are 0 bytes.
        var history = config.History ?? [.. image.Layers.Select(_ => new Skiff.Oci.Image.ImageHistory())];
        var rows = new List<IReadOnlyList<string>>();
        int layer = 0;
        var now = DateTimeOffset.UtcNow;
        foreach (var entry in history)
        {
            long size = entry.EmptyLayer == true || layer >= image.Layers.Count ? 0 : image.Layers[layer++].Size;
            string createdBy = entry.CreatedBy ?? "";
            if (!noTrunc && createdBy.Length > 45)
                createdBy = createdBy[..44] + "…";
            rows.Add([
                "<missing>",
                entry.Created is { } created ? Output.Ago(created, now) : "",
                createdBy,
                Output.Size(size),
                entry.Comment ?? "",
            ]);
        }
        rows.Reverse();
        if (rows.Count > 0)
            rows[0] = [noTrunc ? image.Id : image.ShortId, .. rows[0].Skip(1)];
        if (args.Bool("quiet"))
        {
            foreach (var row in rows)
                context.Out.WriteLine(row[0]);
            return 0;
        }
        Output.Table(context.Out, ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows);
        return 0;
    }
}
