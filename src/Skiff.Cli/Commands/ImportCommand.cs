using Skiff.Images.Archive;

namespace Skiff.Cli.Commands;

internal static class ImportCommand
{
    public static readonly CliCommand Definition = new(
        "import", "FILE|- [REPOSITORY[:TAG]]", "Make a one-layer image from a root filesystem tarball (plain, gzip or zstd).",
        [
            new("change", 'c', TakesValue: true, Repeatable: true, Help: "Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)"),
            new("message", 'm', TakesValue: true, Help: "comment of the image's history entry"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: 2, Aliases: ["image import"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        string source = args.Positionals[0];
        string[] names = args.Positionals.Count > 1 ? [args.Positionals[1]] : [];
        using var input = source == "-" ? Console.OpenStandardInput() : File.OpenRead(source);
        using var shared = context.Images.LockShared();
        var loaded = RootfsImporter.Import(context.Images.Content, input, new ImportOptions
        {
            Changes = args.Values("change"),
            Message = args.Value("message"),
        });
        var image = context.Images.Register(loaded, names, namedHere: true);
        context.RecordImageEvent("import", image.Id, image.Id);
        context.Out.WriteLine(image.Id);
        return 0;
    }
}
