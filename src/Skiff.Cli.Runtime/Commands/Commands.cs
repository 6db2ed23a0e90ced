using System.Text.Json;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime;
using Skiff.Runtime.State;

namespace Skiff.Cli.Runtime;

public static partial class Commands
{
    public const string OciVersionMin = "1.0.0";
    public const string OciVersionMax = "1.2.0";

    private static readonly Flag Help = new("help", 'h', Help: "show help");

    private static readonly Flag[] CreateFlags =
    [
        new("bundle", 'b', TakesValue: true, Help: "bundle directory (default: current directory)"),
        new("console-socket", TakesValue: true, Help: "unix socket that receives the pty master (terminal: true)"),
        new("pid-file", TakesValue: true, Help: "write the container's pid here"),
        new("no-pivot", Help: "use MS_MOVE + chroot instead of pivot_root (ramfs roots)"),
        new("no-new-keyring", Help: "accepted; skiff-runtime never creates a session keyring"),
        new("preserve-fds", TakesValue: true, Help: "pass N more fds (3..3+N-1) to the container"),
        Help,
    ];

    public static readonly Command[] All =
    [
        new("create", "CONTAINER_ID", "Create a container from a bundle; it waits for `start` before running the program.", CreateFlags, Create),
        new("start", "CONTAINER_ID", "Run the program of a created container.", [Help], Start),
        new("run", "CONTAINER_ID", "Create and start a container, and wait for it unless --detach.",
            [.. CreateFlags.Where(f => f.Name != "help"), new("detach", 'd', Help: "do not wait for the container"), new("keep", Help: "do not delete the container after it exits"), Help], Run),
        new("state", "CONTAINER_ID", "Print the state of a container (OCI state JSON).", [Help], State),
        new("list", "", "List containers.", [new("format", 'f', TakesValue: true, Help: "table or json"), new("quiet", 'q', Help: "print only ids"), Help], List, MinPositionals: 0, MaxPositionals: 0),
        new("kill", "CONTAINER_ID [SIGNAL]", "Send a signal (default SIGTERM) to the container's init process.", [new("all", 'a', Help: "signal every process in the container"), Help], Kill, MaxPositionals: 2),
        new("delete", "CONTAINER_ID", "Delete a stopped container (and its cgroups and state).", [new("force", 'f', Help: "kill it first if it still runs"), Help], Delete),
        new("exec", "CONTAINER_ID [COMMAND [ARG...]]", "Run a process inside a running container.", ExecFlags, Exec, MaxPositionals: -1, StopAtFirstPositional: true),
        new("ps", "CONTAINER_ID [ps options]", "List the processes of a container.", [new("format", 'f', TakesValue: true, Help: "table or json"), Help], Ps, MaxPositionals: -1, StopAtFirstPositional: true),
        new("pause", "CONTAINER_ID", "Freeze every process of a running container.", [Help], Pause),
        new("resume", "CONTAINER_ID", "Thaw a paused container.", [Help], Resume),
        new("update", "CONTAINER_ID", "Change the resource limits of a running container.", UpdateFlags, Update),
        new("events", "CONTAINER_ID", "Print resource usage statistics and OOM notifications of a container as JSON lines until it stops.", EventsFlags, Events),
        new("spec", "", "Write a default config.json into the bundle.", [new("bundle", 'b', TakesValue: true, Help: "where to write config.json"), new("rootless", Help: "a spec for an unprivileged user"), Help], WriteSpec, MinPositionals: 0, MaxPositionals: 0),
        new("features", "", "Print what this runtime supports (JSON).", [Help], PrintFeatures, MinPositionals: 0, MaxPositionals: 0),
    ];

    private static int Create(Context context, ParsedArguments args)
    {
        using var created = context.Runtime.Create(args.Positionals[0], CreateOptionsFrom(args));
        return 0;
    }

    private static CreateOptions CreateOptionsFrom(ParsedArguments args) => new()
    {
        Bundle = args.Value("bundle") ?? Directory.GetCurrentDirectory(),
        ConsoleSocket = args.Value("console-socket"),
        PidFile = args.Value("pid-file"),
        NoPivot = args.Bool("no-pivot"),
        PreserveFds = args.Int("preserve-fds", 0),
    };

    private static int Start(Context context, ParsedArguments args)
    {
        context.Runtime.Start(args.Positionals[0]);
        return 0;
    }

    /// <summary>run = create + start (+ wait + delete): the exit status is the container's, 128+signal when killed.</summary>
    private static int Run(Context context, ParsedArguments args)
    {
        var id = args.Positionals[0];
        using var signals = args.Bool("detach") ? null : new SignalForwarding();
        using (var created = context.Runtime.Create(id, CreateOptionsFrom(args)))
        {
            try
            {
                context.Runtime.Start(created);
            }
            catch
            {
                context.Runtime.Delete(id, force: true);
                throw;
            }
            if (args.Bool("detach"))
                return 0;
            int status = signals!.ForwardUntilExit(created.Pidfd);
            if (!args.Bool("keep"))
                context.Runtime.Delete(created);
            return status;
        }
    }

    private static int State(Context context, ParsedArguments args)
    {
        var state = context.Runtime.State(args.Positionals[0]);
        Console.Out.WriteLine(JsonSerializer.Serialize(state, OciJsonContext.Indented.State));
        return 0;
    }

    private static int List(Context context, ParsedArguments args)
    {
        var format = args.Value("format") ?? "table";
        if (format is not ("table" or "json"))
            throw new UsageException($"list: --format must be table or json, not \"{format}\"");
        var containers = context.Runtime.List().OrderBy(c => c.Record.Created).ToList();
        if (args.Bool("quiet"))
        {
            foreach (var c in containers)
                Console.Out.WriteLine(c.Record.Id);
            return 0;
        }
        if (format == "json")
        {
            var states = containers.Select(c => ContainerRuntime.ToState(c.Record, c.Spec, c.Status)).ToList();
            Console.Out.WriteLine(JsonSerializer.Serialize(states, OciJsonContext.Default.ListState));
            return 0;
        }
        var output = new System.Text.StringBuilder();
        output.AppendLine($"{"ID",-20} {"PID",-8} {"STATUS",-10} {"BUNDLE",-40} {"CREATED",-32} OWNER");
        foreach (var (record, _, status) in containers)
        {
            int pid = status is ContainerStatus.Stopped or ContainerStatus.Creating ? 0 : record.Pid;
            output.AppendLine($"{record.Id,-20} {pid,-8} {status.ToSpecString(),-10} {record.Bundle,-40} {record.Created:yyyy-MM-ddTHH:mm:ss.fffffffZ} {record.Owner}");
        }
        Console.Out.Write(output.ToString());
        return 0;
    }

    private static int Kill(Context context, ParsedArguments args)
    {
        var signalText = args.Positionals.Count > 1 ? args.Positionals[1] : "TERM";
        // Signal 0 only checks that the container runs: podman asks so while it waits for a stop.
        var signal = signalText == "0" ? 0 : LinuxNames.ParseSignal(signalText) ?? throw new RuntimeException(ErrorKind.InvalidArgument, $"kill: unknown signal \"{signalText}\" (use a name such as TERM or SIGKILL, or a number)");
        context.Runtime.Kill(args.Positionals[0], signal, args.Bool("all"));
        return 0;
    }

    private static int Delete(Context context, ParsedArguments args)
    {
        context.Runtime.Delete(args.Positionals[0], args.Bool("force"));
        return 0;
    }
}
