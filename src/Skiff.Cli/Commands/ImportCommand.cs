using Skiff.Engine;

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
        var (input, source) = InputFile.Open(args.Positionals[0]);
        using (input)
        {
            var image = context.Images.Import(input, new ImportRequest
            {
                Source = source,
                Name = args.Positionals.ElementAtOrDefault(1),
                Changes = args.Values("change"),
                Message = args.Value("message"),
            });
            context.Out.WriteLine(image.Id);
        }
        return 0;
    }
}
