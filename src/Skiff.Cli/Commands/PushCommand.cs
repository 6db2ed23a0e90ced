using Skiff.Engine;
using Skiff.Images.Registry;
using Skiff.Images.Service;

namespace Skiff.Cli.Commands;

internal static class PushCommand
{
    public static readonly CliCommand Definition = new(
        "push", "NAME[:TAG] [DESTINATION]", "Upload a local image to a registry.",
        [
            new("quiet", 'q', Help: "print nothing but errors"),
            new("tls-verify", TakesValue: true, Help: "false: reach the registry over plain HTTP"),
            new("authfile", TakesValue: true, Help: "credentials file (default: podman's auth.json, then docker's config.json)"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: 2, Aliases: ["image push"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var options = new PushOptions { TlsVerify = CliCommand.TlsVerify(args, "push"), AuthFile = args.Value("authfile") };
        bool quiet = args.Bool("quiet");
        var view = quiet ? null : new PushProgressView(context.Out);
        var result = context.Images.PushAsync(args.Positionals[0], args.Positionals.ElementAtOrDefault(1), options, view).GetAwaiter().GetResult();
        if (!quiet)
        {
            foreach (var blob in result.Blobs)
                context.Out.WriteLine($"{ImageInfo.ShortHex(blob.Descriptor.Digest.ToString())}: {Describe(blob.Outcome)}");
            context.Out.WriteLine($"{ImageNames.Familiar(result.Reference)}: digest: {result.ManifestDigest}");
        }
        return 0;
    }

    private static string Describe(BlobPushOutcome outcome) => outcome switch
    {
        BlobPushOutcome.Existed => "Layer already exists",
        BlobPushOutcome.Mounted => "Mounted from another repository",
        _ => "Pushed",
    };

    /// <summary>A line when each blob starts and when it is done: pushes are mostly of blobs the registry has.</summary>
    private sealed class PushProgressView(TextWriter output) : IProgress<BlobProgress>
    {
        private readonly HashSet<string> _started = [];
        private readonly Lock _lock = new();

        public void Report(BlobProgress value)
        {
            string id = ImageInfo.ShortHex(value.Descriptor.Digest.ToString());
            lock (_lock)
            {
                if (_started.Add(id) && !value.Done)
                    output.WriteLine($"{id}: Pushing {Output.Size(value.Descriptor.Size)}");
            }
        }
    }
}
