using Skiff.Images.Service;
using Skiff.Oci.Image;

namespace Skiff.Cli.Commands;

internal static class PullCommand
{
    public static readonly CliCommand Definition = new(
        "pull", "NAME[:TAG|@DIGEST]", "Download an image from a registry and unpack its layers.",
        [
            new("platform", TakesValue: true, Help: "os/arch[/variant] to pull from a multi-platform image (default: this host's)"),
            new("quiet", 'q', Help: "print only the image ID"),
            new("tls-verify", TakesValue: true, Help: "false: reach the registry over plain HTTP"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: 1, Aliases: ["image pull"]);

    private static Platform ParsePlatform(string value)
    {
        try
        {
            return Platform.Parse(value);
        }
        catch (FormatException error)
        {
            throw new UsageException($"pull: {error.Message}");
        }
    }

    private static int Run(CliContext context, ParsedArguments args)
    {
        string name = args.Positionals[0];
        var options = new PullOptions
        {
            Platform = args.Value("platform") is { } platform ? ParsePlatform(platform) : null,
            TlsVerify = CliCommand.TlsVerify(args, "pull"),
        };
        bool quiet = args.Bool("quiet");
        using var view = quiet ? null : new PullProgressView(context.Out, context.IsTerminal);
        var image = context.Images.PullAsync(name, options, view).GetAwaiter().GetResult();
        view?.Finish();
        // docker's pull event names the reference as given, fully tagged: "busybox:latest", name "busybox".
        string pulled = image.RepoTags.Count > 0 ? Output.Familiar(image.RepoTags[0]) : name;
        context.RecordImageEvent("pull", pulled, Output.Split(pulled).Repository);
        if (!quiet)
        {
            context.Out.WriteLine($"Digest: {image.RepoDigests.FirstOrDefault()?.Split('@')[1] ?? image.ManifestDigest}");
            string shown = image.RepoTags.Count > 0 ? Output.Familiar(image.RepoTags[0]) : name;
            context.Out.WriteLine(view!.Downloaded ? $"Status: Downloaded newer image for {shown}" : $"Status: Image is up to date for {shown}");
        }
        context.Out.WriteLine(image.Id.Split(':')[1]);
        return 0;
    }
}
