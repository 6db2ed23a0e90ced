using Skiff.Engine;
using Skiff.Images.Registry;

namespace Skiff.Cli.Commands;

internal static class LogoutCommand
{
    public static readonly CliCommand Definition = new(
        "logout", "REGISTRY", "Remove the stored credentials of a registry.",
        [
            new("authfile", TakesValue: true, Help: "credentials file to change (default: podman's auth.json)"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: 1);

    private static int Run(CliContext context, ParsedArguments args)
    {
        string registry = args.Positionals[0];
        var store = new CredentialStore(args.Value("authfile"));
        if (!store.Logout(registry))
            throw new EngineException(ErrorKind.NotFound, $"not logged in to {registry}: {store.WritePath} holds no credentials for it");
        context.Out.WriteLine($"Removed login credentials for {registry}");
        return 0;
    }
}
