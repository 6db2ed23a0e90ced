using Skiff.Images.Archive;

namespace Skiff.Cli.Commands;

internal static class SaveCommand
{
    public static readonly CliCommand Definition = new(
        "save", "IMAGE [IMAGE...]", "Write images to a tar archive (docker-archive, which docker load and podman load read, or oci-archive).",
        [
            new("output", 'o', TakesValue: true, Help: "write to this file instead of standard output"),
            new("format", TakesValue: true, Help: "docker-archive (default) or oci-archive"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: -1, Aliases: ["image save"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var format = args.Value("format") switch
        {
            null or "docker-archive" => ArchiveFormat.DockerArchive,
            "oci-archive" => ArchiveFormat.OciArchive,
            var other => throw new UsageException($"save: --format takes docker-archive or oci-archive, not \"{other}\""),
        };
        var save = context.Images.Save(args.Positionals, format);
        ArchiveOutput.Write("save", args.Value("output"), save.WriteTo);
        return 0;
    }
}
