using Skiff.Images.Archive;
using Skiff.Images.Service;

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
        using var input = args.Value("input") is { } path ? File.OpenRead(path) : Console.OpenStandardInput();
        // Held from before the first blob is stored until the images are recorded: garbage collection deletes
        // blobs no image names, and these have no image yet.
        using var shared = context.Images.LockShared();
        foreach (var loaded in ImageArchiveReader.Read(context.Images.Content, input))
        {
            var image = context.Images.Register(loaded, loaded.Tags);
            context.RecordImageEvent("load", image.Id, image.RepoTags.Count > 0 ? Output.Familiar(image.RepoTags[0]) : image.Id);
            if (image.RepoTags.Count == 0)
                context.Out.WriteLine($"Loaded image ID: {image.Id}");
            foreach (var tag in image.RepoTags.Where(tag => loaded.Tags.Any(name => ImageService.NormalizeName(name) == tag)))
                context.Out.WriteLine($"Loaded image: {Output.Familiar(tag)}");
        }
        return 0;
    }
}
