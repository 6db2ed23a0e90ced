using System.Globalization;
using System.Text.Json;
using Skiff.Cli.Templates;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Interop;
using Skiff.Network;

namespace Skiff.Cli.Commands;

/// <summary>The container commands that are one engine call each, with docker's names, flags and output.</summary>
internal static class ContainerCommands
{
    private static readonly Flag Time = new("time", 't', TakesValue: true, Help: "seconds to wait before killing (default: the container's stop timeout)");

    public static readonly CliCommand Start = new(
        "start", "CONTAINER [CONTAINER...]", "Start stopped or created containers.",
        [new("attach", 'a', Help: "attach to the container's output"), new("interactive", 'i', Help: "attach its standard input"),
         new("detach-keys", TakesValue: true, Help: "key sequence that detaches (default ctrl-p,ctrl-q)"), CliCommand.Help],
        (context, args) =>
        {
            if (args.Bool("attach") || args.Bool("interactive"))
            {
                if (args.Positionals.Count > 1)
                    throw new CliFailure(ErrorKind.InvalidArgument, "start: you cannot attach to several containers at once");
                var container = context.Engine.ContainerQueries.Get(args.Positionals[0]);
                RawTerminal.RequireForInput(args.Bool("interactive"), container.Config.Options.Tty);
                var size = container.Config.Options.Tty ? RawTerminal.WindowSize() : null;
                using var session = context.Containers.Start(container.Id, attach: true, terminalSize: size)!;
                return Attached.Follow(context, container.Id, session, args.Bool("interactive"), args.Value("detach-keys"), signalProxy: true);
            }
            return ForEach(context, args, name => context.Containers.Start(name));
        },
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container start"]);

    public static readonly CliCommand Stop = new(
        "stop", "CONTAINER [CONTAINER...]", "Stop running containers: their stop signal, then SIGKILL after the timeout.",
        [Time, CliCommand.Help],
        (context, args) => ForEach(context, args, name => context.Containers.Stop(name, Seconds(args))),
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container stop"]);

    public static readonly CliCommand Restart = new(
        "restart", "CONTAINER [CONTAINER...]", "Stop and start containers again.",
        [Time, CliCommand.Help],
        (context, args) => ForEach(context, args, name => context.Containers.Restart(name, Seconds(args))),
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container restart"]);

    public static readonly CliCommand Kill = new(
        "kill", "CONTAINER [CONTAINER...]", "Send a signal (default SIGKILL) to containers.",
        [new("signal", 's', TakesValue: true, Help: "signal name or number"), CliCommand.Help],
        (context, args) => ForEach(context, args, name => context.Containers.Kill(name, args.Value("signal") ?? "KILL")),
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container kill"]);

    public static readonly CliCommand Remove = new(
        "rm", "CONTAINER [CONTAINER...]", "Remove containers (with their rootfs, logs and state).",
        [new("force", 'f', Help: "kill a running container first"), new("volumes", 'v', Help: "remove its anonymous volumes too"), CliCommand.Help],
        (context, args) => ForEach(context, args, name => context.Containers.Remove(name, args.Bool("force"), args.Bool("volumes"))),
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container rm"]);

    public static readonly CliCommand Pause = new(
        "pause", "CONTAINER [CONTAINER...]", "Freeze every process of containers.",
        [CliCommand.Help], (context, args) => ForEach(context, args, name => context.Containers.Pause(name)),
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container pause"]);

    public static readonly CliCommand Unpause = new(
        "unpause", "CONTAINER [CONTAINER...]", "Thaw paused containers.",
        [CliCommand.Help], (context, args) => ForEach(context, args, name => context.Containers.Unpause(name)),
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container unpause"]);

    public static readonly CliCommand Rename = new(
        "rename", "CONTAINER NEW_NAME", "Rename a container.",
        [CliCommand.Help],
        (context, args) =>
        {
            context.Containers.Rename(args.Positionals[0], args.Positionals[1]);
            return 0;
        },
        MinPositionals: 2, MaxPositionals: 2, Aliases: ["container rename"]);

    public static readonly CliCommand Wait = new(
        "wait", "CONTAINER [CONTAINER...]", "Wait until containers stop, then print their exit codes.",
        [CliCommand.Help],
        (context, args) =>
        {
            foreach (var name in args.Positionals)
                context.Out.WriteLine(context.Containers.WaitAsync(name).GetAwaiter().GetResult());
            return 0;
        },
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["container wait"]);

    public static readonly CliCommand Attach = new(
        "attach", "CONTAINER", "Attach to a running container's input and output.",
        [new("no-stdin", Help: "do not attach standard input"), new("detach-keys", TakesValue: true, Help: "key sequence that detaches (default ctrl-p,ctrl-q)"),
         new("sig-proxy", TakesValue: true, Help: "forward signals to the container (default true)"), CliCommand.Help],
        (context, args) =>
        {
            var container = context.Engine.ContainerQueries.Get(args.Positionals[0]);
            using var session = context.Containers.Attach(container.Id);
            return Attached.Follow(context, container.Id, session, container.Config.OpenStdin && !args.Bool("no-stdin"),
                args.Value("detach-keys"), args.Value("sig-proxy") != "false");
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container attach"]);

    public static readonly CliCommand Logs = new(
        "logs", "CONTAINER", "Print a container's output.",
        [new("follow", 'f', Help: "keep printing while it runs"), new("tail", 'n', TakesValue: true, Help: "only the last N lines (or all)"),
         new("since", TakesValue: true, Help: "only lines after this time (RFC 3339, or a duration like 10m)"),
         new("until", TakesValue: true, Help: "only lines before this time"), new("timestamps", 't', Help: "prefix each line with its time"), CliCommand.Help],
        (context, args) =>
        {
            var request = new LogsRequest
            {
                Follow = args.Bool("follow"),
                Tail = args.Value("tail") is { } tail and not "all" ? (int)RunFlags.ParseLong(tail, "--tail") : null,
                Since = args.Value("since") is { } since ? ParseTime(since, "--since") : null,
                Until = args.Value("until") is { } until ? ParseTime(until, "--until") : null,
            };
            using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = request.Follow };
            using var stderr = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true };
            foreach (var entry in context.Engine.ContainerQueries.Logs(args.Positionals[0], request).ToBlockingEnumerable())
                (entry.Stream == "stderr" ? stderr : stdout).Write(entry.Format(args.Bool("timestamps")));
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container logs"]);

    public static readonly CliCommand Exec = new(
        "exec", "CONTAINER COMMAND [ARG...]", "Run a command in a running container.",
        [new("interactive", 'i', Help: "keep standard input open"), new("tty", 't', Help: "allocate a pseudo-terminal"),
         new("detach", 'd', Help: "run in the background"), new("env", 'e', TakesValue: true, Repeatable: true, Help: "set an environment variable"),
         new("user", 'u', TakesValue: true, Help: "user[:group] to run as"), new("workdir", 'w', TakesValue: true, Help: "working directory"), CliCommand.Help],
        (context, args) =>
        {
            var request = new ExecRequest
            {
                Command = args.Positionals.Skip(1).ToList(),
                Interactive = args.Bool("interactive"),
                Tty = args.Bool("tty"),
                Detach = args.Bool("detach"),
                Env = args.Values("env"),
                User = args.Value("user"),
                WorkingDir = args.Value("workdir"),
            };
            RawTerminal.RequireForInput(request.Interactive && !request.Detach, request.Tty);
            // Without -t, ^C at our terminal reaches only us (the exec'd process is in a session of its own): forwarded.
            var stdio = new ExecStdio(new FileDescriptor(0, ownsHandle: false), new FileDescriptor(1, ownsHandle: false), new FileDescriptor(2, ownsHandle: false))
            {
                ForwardSignals = !request.Tty,
            };
            if (request.Tty && RawTerminal.WindowSize() is var (rows, columns))
                stdio.Resize(rows, columns);
            using var raw = request.Tty && request.Interactive && !request.Detach ? RawTerminal.Enter() : null;
            using var resize = request.Tty ? RawTerminal.OnResize(stdio.Resize) : null;
            return context.Engine.ContainerExec.Exec(args.Positionals[0], request, stdio);
        },
        MinPositionals: 2, MaxPositionals: -1, Aliases: ["container exec"], StopAtFirstPositional: true, Statuses: ExitStatuses.Exec);

    public static readonly CliCommand Top = new(
        "top", "CONTAINER", "List a container's processes.",
        [CliCommand.Help],
        (context, args) =>
        {
            Output.Table(context.Out, ["PID", "PPID", "UID", "CMD"],
                context.Engine.ContainerQueries.Top(args.Positionals[0]).Select(p => (IReadOnlyList<string>)[p.Pid.ToString(), p.ParentPid.ToString(), p.Uid.ToString(), p.Command]));
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container top"]);

    public static readonly CliCommand Port = new(
        "port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List a container's published ports, or the host addresses of one.",
        [CliCommand.Help],
        (context, args) =>
        {
            var container = context.Engine.ContainerQueries.Get(args.Positionals[0]);
            var ports = context.Engine.ContainerQueries.PublishedPorts([container]).GetValueOrDefault(container.Id) ?? [];
            static IEnumerable<string> Addresses(PortBinding port) => port.HostIp.Length == 0
                ? [$"0.0.0.0:{port.HostPort}", $"[::]:{port.HostPort}"]
                : [$"{(port.HostIp.Contains(':') ? $"[{port.HostIp}]" : port.HostIp)}:{port.HostPort}"];
            if (args.Positionals.Count == 1)
            {
                foreach (var port in ports)
                    foreach (var address in Addresses(port))
                        context.Out.WriteLine($"{port.Key} -> {address}");
                return 0;
            }
            var key = args.Positionals[1].Contains('/') ? args.Positionals[1] : args.Positionals[1] + "/tcp";
            var matching = ports.Where(p => p.Key == key).ToList();
            if (matching.Count == 0)
                throw new CliFailure(ErrorKind.NotFound, $"No public port '{key}' published for {args.Positionals[0]}");
            foreach (var address in matching.SelectMany(Addresses))
                context.Out.WriteLine(address);
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 2, Aliases: ["container port"]);

    public static readonly CliCommand Inspect = new(
        "container inspect", "CONTAINER [CONTAINER...]", "Show containers as docker inspect does (JSON).",
        [new("format", 'f', TakesValue: true, Help: "json, or a Go template such as '{{.State.ExitCode}}'"), CliCommand.Help],
        (context, args) => InspectCommand.Print(context, args,
            name => JsonSerializer.SerializeToElement(context.Engine.ContainerQueries.Inspect(name), InspectJsonContext.Default.ContainerInspect)),
        MinPositionals: 1, MaxPositionals: -1);

    public static readonly CliCommand Prune = new(
        "container prune", "", "Remove every stopped container.",
        [new("force", 'f', Help: "do not ask (skiff never asks)"), PruneCommand.FilterFlag("until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]"), CliCommand.Help],
        (context, args) =>
        {
            var report = context.Containers.Prune(args.Values("filter"));
            PruneCommand.PrintRemoved(context, "Deleted Containers", report);
            context.Out.WriteLine($"Total reclaimed space: {Output.Size(report.ReclaimedBytes)}");
            return 0;
        });

    public static readonly CliCommand List = new(
        "ps", "", "List containers (running ones unless -a).",
        [new("all", 'a', Help: "show stopped containers too"), new("quiet", 'q', Help: "print only IDs"),
         new("filter", 'f', TakesValue: true, Repeatable: true, Help: "docker's: id, name, label, exited, status, ancestor, before, since, volume, network, publish, expose, is-task, isolation"),
         new("format", TakesValue: true, Help: "table (default), json, or a Go template such as 'table {{.ID}}\\t{{.Names}}'"),
         new("no-trunc", Help: "full IDs and commands"), CliCommand.Help],
        (context, args) =>
        {
            var format = args.Value("format") is "json" ? null : Output.ParseRows(args.Value("format") ?? "table", PsTable);
            var containers = context.Engine.ContainerQueries.List(args.Bool("all"), args.Values("filter"));
            bool full = args.Bool("no-trunc");
            if (args.Bool("quiet"))
            {
                foreach (var container in containers)
                    context.Out.WriteLine(full ? container.Id : container.ShortId);
                return 0;
            }
            if (format is null)
            {
                foreach (var c in containers)
                    context.Out.WriteLine(JsonSerializer.Serialize(new PsEntry(c.Id, c.Name, c.Image, c.ImageId, string.Join(' ', c.Config.Entrypoint.Concat(c.Config.Cmd)), c.Created, c.State.Status.ToString().ToLowerInvariant(), c.State.ExitCode), PsJsonContext.Default.PsEntry));
                return 0;
            }
            var now = DateTimeOffset.UtcNow;
            var ports = context.Engine.ContainerQueries.PublishedPorts(containers);
            Output.Rows(context.Out, format, PsHeader, containers.Select(c => PsRow(c, full, now, ports.GetValueOrDefault(c.Id))));
            return 0;
        },
        Aliases: ["container ls", "container list"]);

    /// <summary>Runs one operation per named container; every failure is reported, the exit status says whether any failed.</summary>
    private static int ForEach(CliContext context, ParsedArguments args, Action<string> operation)
    {
        int status = 0;
        foreach (var name in args.Positionals)
        {
            try
            {
                operation(name);
                context.Out.WriteLine(name);
            }
            catch (Exception error) when (args.Positionals.Count > 1 && ErrorKinds.IsExpected(error))
            {
                status = Program.Report(error);
            }
        }
        return status;
    }

    /// <summary>--time, an integer flag in docker's CLI: a value that is none is a flag that does not parse.</summary>
    private static int? Seconds(ParsedArguments args) => args.Value("time") is not { } time ? null
        : int.TryParse(time, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) ? seconds
        : throw new UsageException($"invalid argument \"{time}\" for --time: expected a whole number of seconds", badFlag: true);

    /// <summary>docker's time arguments (--since, --until, until=): RFC 3339, unix seconds (with a fraction), or a duration ago (10m, 1.5h).</summary>
    internal static DateTimeOffset ParseTime(string text, string flag)
        => DockerTime.TryParse(text, DateTimeOffset.UtcNow)
           ?? throw new EngineException(ErrorKind.InvalidArgument, $"invalid {flag} \"{text}\": expected an RFC 3339 time, unix seconds or a duration such as 10m");

    private const string PsTable = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}";

    /// <summary>The column titles of docker's container formatter.</summary>
    private static TemplateRow PsHeader => new("*formatter.ContainerContext", new Dictionary<string, object?>
    {
        ["ID"] = "CONTAINER ID", ["Image"] = "IMAGE", ["Command"] = "COMMAND", ["CreatedAt"] = "CREATED AT", ["RunningFor"] = "CREATED",
        ["Ports"] = "PORTS", ["State"] = "STATE", ["Status"] = "STATUS", ["Size"] = "SIZE", ["Names"] = "NAMES", ["Labels"] = "LABELS",
        ["Mounts"] = "MOUNTS", ["LocalVolumes"] = "LOCAL VOLUMES", ["Networks"] = "NETWORKS",
    }, new Dictionary<string, string>());

    /// <summary>A container as docker's ps templates see it (the fields of docker's ContainerContext, as strings).</summary>
    private static TemplateRow PsRow(ContainerRecord c, bool full, DateTimeOffset now, IReadOnlyList<PortBinding>? ports) => new("*formatter.ContainerContext", new Dictionary<string, object?>
    {
        ["ID"] = full ? c.Id : c.ShortId,
        ["Image"] = c.Image,
        ["Command"] = Command(c, full),
        ["CreatedAt"] = Output.GoTime(c.Created),
        ["RunningFor"] = Output.Ago(c.Created, now),
        ["Ports"] = ports is null ? "" : DisplayPorts(ports, c.Config.ExposedPorts),
        ["State"] = c.State.Status.ToString().ToLowerInvariant(),
        ["Status"] = ContainerDisplay.Status(c, now),
        ["Size"] = "0B",
        ["Names"] = c.Name,
        ["Labels"] = string.Join(',', c.Config.Labels.Select(label => $"{label.Key}={label.Value}")),
        ["Mounts"] = string.Join(',', c.Config.Mounts.Select(mount => mount.Name ?? mount.Source)),
        ["LocalVolumes"] = c.Config.Mounts.Count(mount => mount.Type == "volume").ToString(CultureInfo.InvariantCulture),
        ["Networks"] = c.Config.Options.Attachments.Count > 0 ? string.Join(',', c.Config.Options.Attachments.Select(a => a.NetworkName)) : ContainerInspect.NetworkModeName(c.Config.Options),
    }, c.Config.Labels);

    /// <summary>docker's PORTS: each published port as HOSTIP:PORT->PORT/PROTO (both families for one published on every address), then the exposed ones not published.</summary>
    internal static string DisplayPorts(IReadOnlyList<PortBinding> ports, IReadOnlyList<string> exposed)
    {
        var shown = new List<string>();
        foreach (var port in ports)
        {
            if (port.HostIp.Length == 0)
            {
                shown.Add($"0.0.0.0:{port.HostPort}->{port.Key}");
                shown.Add($":::{port.HostPort}->{port.Key}");
            }
            else
            {
                shown.Add($"{(port.HostIp.Contains(':') ? $"[{port.HostIp}]" : port.HostIp)}:{port.HostPort}->{port.Key}");
            }
        }
        shown.AddRange(exposed.Where(key => !ports.Any(p => p.Key == key)));
        return string.Join(", ", shown);
    }

    private static string Command(ContainerRecord container, bool full)
    {
        var text = "\"" + string.Join(' ', container.Config.Entrypoint.Concat(container.Config.Cmd)) + "\"";
        return full || text.Length <= 22 ? text : text[..20] + "…\"";
    }
}

/// <summary>One line of `ps --format json`.</summary>
internal sealed record PsEntry(string Id, string Name, string Image, string ImageId, string Command, DateTimeOffset Created, string State, int ExitCode);

[System.Text.Json.Serialization.JsonSerializable(typeof(PsEntry))]
internal sealed partial class PsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
