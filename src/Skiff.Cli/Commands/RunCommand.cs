using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;

namespace Skiff.Cli.Commands;

/// <summary>`skiff run` and `skiff create`: a container from an image and docker's flags.</summary>
internal static class RunCommand
{
    private static readonly Flag Detach = new("detach", 'd', Help: "run in the background and print the container ID");
    private static readonly Flag DetachKeysFlag = new("detach-keys", TakesValue: true, Help: "key sequence that detaches (default ctrl-p,ctrl-q)");
    private static readonly Flag SigProxy = new("sig-proxy", TakesValue: true, Help: "forward signals to the container (default true)");

    public static readonly CliCommand Run = new(
        "run", "IMAGE [COMMAND [ARG...]]", "Create and start a container, and attach to it unless -d.",
        [Detach, DetachKeysFlag, SigProxy, .. RunFlags.Create],
        Execute, MinPositionals: 1, MaxPositionals: -1, Aliases: ["container run"], StopAtFirstPositional: true, Statuses: ExitStatuses.Run);

    public static readonly CliCommand Create = new(
        "create", "IMAGE [COMMAND [ARG...]]", "Create a container without starting it.",
        RunFlags.Create,
        CreateOnly, MinPositionals: 1, MaxPositionals: -1, Aliases: ["container create"], StopAtFirstPositional: true, Statuses: ExitStatuses.Create);

    private static int CreateOnly(CliContext context, ParsedArguments args)
    {
        var (_, container) = RunFlags.CreateContainer(context, args, "create");
        context.Out.WriteLine(container.Id);
        return 0;
    }

    private static int Execute(CliContext context, ParsedArguments args)
    {
        // docker's client refuses these before it asks the daemon anything, with status 1 (a stream it does not know: 125).
        AttachStreamNames.Parse(args.Values("attach"), interactive: false);
        if (args.Bool("detach") && args.Has("attach"))
            throw new CliFailure(ErrorKind.InvalidArgument, "Conflicting options: -a and -d");
        var sigProxy = args.Value("sig-proxy") switch
        {
            null or "true" => true,
            "false" => false,
            var other => throw new UsageException($"run: flag --sig-proxy takes true or false, not \"{other}\"", badFlag: true),
        };
        RawTerminal.RequireForInput((args.Bool("interactive") || args.Values("attach").Any(a => a.Equals("stdin", StringComparison.OrdinalIgnoreCase))) && !args.Bool("detach"), args.Bool("tty"));
        var containers = context.Containers;
        // Its process start-up runs while the image is resolved and the container created.
        using var monitor = context.Engine.ContainerCreation.SpawnMonitor();
        var (request, container) = RunFlags.CreateContainer(context, args, "run");
        if (args.Bool("detach"))
        {
            containers.Start(container.Id, monitor: monitor);
            context.Out.WriteLine(container.Id);
            return 0;
        }
        bool tty = request.Options.Tty;
        var size = tty ? RawTerminal.WindowSize() : null;
        int status;
        using (var session = containers.Start(container.Id, attach: true, terminalSize: size, monitor: monitor, streams: request.Options.Attach)!)
            status = Attached.Follow(context, container.Id, session, request.Interactive, args.Value("detach-keys"), sigProxy);
        if (request.AutoRemove)
            containers.AwaitAutoRemoval(container.Id);
        return status;
    }
}

/// <summary>What `run` without -d, `start -a` and `attach` do once connected to the monitor.</summary>
internal static class Attached
{
    public static int Follow(CliContext context, string id, AttachSession session, bool interactive, string? detachKeys, bool signalProxy)
    {
        bool tty = context.Engine.ContainerQueries.Get(id).Config.Options.Tty;
        using var raw = tty && interactive ? RawTerminal.Enter() : null;
        using var resize = tty ? RawTerminal.OnResize(session.Resize) : null;
        // A container started before (attach, start -ai of a stopped one) has the size of an earlier terminal, or none.
        if (tty && RawTerminal.WindowSize() is var (rows, columns))
            session.Resize(rows, columns);
        if (interactive)
            session.ForwardStdin(RawTerminal.OpenStandard(0), DetachKeys.Parse(detachKeys ?? DetachKeys.Default));
        // docker's --sig-proxy applies only without a terminal: with one, ^C is a byte for the container's pty.
        using var registrations = signalProxy && !tty ? ForwardSignals(context, id) : null;
        using var stdout = RawTerminal.OpenStandard(1);
        using var stderr = RawTerminal.OpenStandard(2);
        int? exit = session.CopyOutput(stdout, stderr);
        return exit ?? (session.Detached ? 0 : context.Containers.WaitAsync(id).GetAwaiter().GetResult());
    }

    /// <summary>docker's --sig-proxy: SIGINT and SIGTERM sent to skiff go to the container instead.</summary>
    private static Registrations ForwardSignals(CliContext context, string id)
    {
        var registrations = new Registrations();
        var containers = context.Containers;
        foreach (var signal in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM })
        {
            registrations.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, signalContext =>
            {
                signalContext.Cancel = true;
                try
                {
                    containers.Kill(id, signalContext.Signal == System.Runtime.InteropServices.PosixSignal.SIGINT ? "INT" : "TERM");
                }
                catch (Exception error) when (ErrorKinds.IsExpected(error))
                {
                    // gone or stopped meanwhile: the wait that follows reports how it ended
                }
            }));
        }
        return registrations;
    }

    private sealed class Registrations : List<IDisposable>, IDisposable
    {
        public void Dispose() => ForEach(registration => registration.Dispose());
    }
}
