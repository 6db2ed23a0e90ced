using Skiff.Images.Archive;
using Skiff.Images.Service;
using Skiff.Oci.Image;

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
        var images = args.Positionals.Select(name => Select(context.Images, name)).ToList();
        ArchiveOutput.Write("save", args.Value("output"), output => ImageArchiveWriter.Write(context.Images.Content, images, format, output));
        RecordSaved(context, args.Positionals);
        return 0;
    }

    private static void RecordSaved(CliContext context, IEnumerable<string> names)
    {
        foreach (var name in names)
            context.RecordImageEvent("save", context.Images.Resolve(name).Id, name);
    }

    /// <summary>The image and the name it was asked by (an ID or digest saves it without names, as docker does).</summary>
    private static ArchiveImage Select(ImageService images, string name)
    {
        var image = images.Resolve(name);
        var tags = image.RepoTags.Where(tag => IsNamedBy(name, tag)).Take(1).ToList();
        return new ArchiveImage(Digest.Parse(image.ManifestDigest), tags);
    }

    private static bool IsNamedBy(string name, string tag)
    {
        try
        {
            return ImageService.NormalizeName(name) == tag;
        }
        catch (ImageException)
        {
            return false;
        }
    }
}
