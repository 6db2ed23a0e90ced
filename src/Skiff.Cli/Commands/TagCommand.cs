namespace Skiff.Cli.Commands;

internal static class TagCommand
{
    public static readonly CliCommand Definition = new(
        "tag", "SOURCE TARGET", "Give the image SOURCE (name or ID) the name TARGET.",
        [CliCommand.Help], Run, MinPositionals: 2, MaxPositionals: 2, Aliases: ["image tag"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        context.Images.Tag(args.Positionals[0], args.Positionals[1]);
        return 0;
    }
}
