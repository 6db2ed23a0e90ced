namespace Skiff.Cli.Commands;

internal static class LoadCommand
{
    public static readonly CliCommand Definition = new(
        "load", "", "Read images from a docker-archive or oci-archive tar (plain, gzip or zstd).",
        [
            new("input", 'i', TakesValue: true, Help: "read from this file instead of standard input"),
            new("quiet", 'q', Help: "print only the loaded names"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 0, MaxPositionals: 0, Aliases: ["image load"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var (input, source) = InputFile.Open(args.Value("input"));
        using (input)
        {
            foreach (var loaded in context.Images.Load(input, source))
            {
                if (loaded.Image.RepoTags.Count == 0)
                    context.Out.WriteLine($"Loaded image ID: {loaded.Image.Id}");
                foreach (var name in loaded.LoadedNames)
                    context.Out.WriteLine($"Loaded image: {name}");
            }
        }
        return 0;
    }
}
