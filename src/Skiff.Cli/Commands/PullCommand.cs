using Skiff.Engine;
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

    private static int Run(CliContext context, ParsedArguments args)
    {
        var request = new PullRequest
        {
            Reference = args.Positionals[0],
            Platform = CliCommand.Platform(args, "pull"),
            TlsVerify = CliCommand.TlsVerify(args, "pull"),
        };
        bool quiet = args.Bool("quiet");
        using var view = quiet ? null : new PullProgressView(context.Out, context.IsTerminal);
        var pulled = context.Images.PullAsync(request, view).GetAwaiter().GetResult();
        view?.Finish();
        if (!quiet)
        {
            context.Out.WriteLine($"Digest: {pulled.Digest}");
            context.Out.WriteLine(pulled.Downloaded ? $"Status: Downloaded newer image for {pulled.Name}" : $"Status: Image is up to date for {pulled.Name}");
        }
        context.Out.WriteLine(pulled.Image.Id.Split(':')[1]);
        return 0;
    }
}
