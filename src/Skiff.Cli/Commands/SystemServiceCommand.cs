namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff system service`: the Docker Engine API, served by skiff-service, a program of its own beside skiff (Kestrel
/// linked into skiff would slow every command's and every monitor's start-up). This command only hands it the store
/// and the arguments, by exec: the service then is this process, with its pid, signals and exit status.
/// </summary>
internal static class SystemServiceCommand
{
    public static readonly CliCommand Definition = new(
        "system service", "[URI]", "Serve the Docker Engine API on a unix socket (default unix:///run/skiff/skiff.sock).",
        [
            new("time", 't', TakesValue: true, Help: "exit after this many idle seconds; 0 serves until stopped (default 5)"),
            new("insecure-tcp", Help: "allow a tcp://127.0.0.1:PORT address, which has no authentication"),
            CliCommand.Help,
        ],
        Run, MaxPositionals: 1);

    private static int Run(CliContext context, ParsedArguments args)
    {
        string self = Environment.ProcessPath ?? throw new CliFailure(ErrorKind.Internal, "cannot find skiff's own path to start skiff-service beside it");
        string service = Path.Combine(Path.GetDirectoryName(self)!, "skiff-service");
        if (!File.Exists(service))
            throw new CliFailure(ErrorKind.NotFound, $"{service} is missing: install skiff-service beside skiff (make build publishes it to bin/)");
        var argv = new List<string> { service, "--root", context.EngineOptions.Root, "--runroot", context.EngineOptions.RunRoot, "--skiff", self };
        if (args.Value("time") is { } time)
            argv.AddRange(["--time", time]);
        if (args.Bool("insecure-tcp"))
            argv.Add("--insecure-tcp");
        argv.AddRange(args.Positionals);
        Console.Out.Flush();
        Skiff.Interop.Interop.Spawn.Exec(service, argv);
        return 0;
    }
}
