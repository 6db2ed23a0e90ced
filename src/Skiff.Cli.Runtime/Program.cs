using System.Text;
using System.Text.Json;
using Skiff.Cgroups;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime;
using Skiff.Runtime.State;

namespace Skiff.Cli.Runtime;

/// <summary>skiff-runtime: an OCI runtime with runc's command line.</summary>
public static class Program
{
    public const string Version = "0.1.0";

    private static readonly Flag[] GlobalFlags =
    [
        new("root", TakesValue: true, Help: "state directory (default /run/skiff-runtime, or $SKIFF_RUNTIME_ROOT)"),
        new("log", TakesValue: true, Help: "log file (default: stderr only)"),
        new("log-format", TakesValue: true, Help: "text or json"),
        new("debug", Help: "log debug messages"),
        new("systemd-cgroup", Help: "treat cgroupsPath as slice:prefix:name and use systemd"),
        new("rootless", TakesValue: true, Help: "accepted for runc compatibility (auto)"),
        new("criu", TakesValue: true, Help: "accepted for runc compatibility; checkpointing is not supported"),
        new("version", 'v', Help: "print the version"),
        new("help", 'h', Help: "show help"),
    ];

    public static int Main(string[] args)
    {
        StandardStreams.MakeBestEffort();
        int commandIndex = 0;
        while (commandIndex < args.Length && args[commandIndex].StartsWith('-'))
        {
            var flagName = args[commandIndex].TrimStart('-').Split('=')[0];
            var flag = Array.Find(GlobalFlags, f => f.Name == flagName || (flagName.Length == 1 && f.Short == flagName[0]));
            commandIndex += flag is { TakesValue: true } && !args[commandIndex].Contains('=') ? 2 : 1;
        }
        Context context;
        try
        {
            var global = ParsedArguments.Parse("skiff-runtime", GlobalFlags, args.AsSpan(0, Math.Min(commandIndex, args.Length)));
            context = new Context(global);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"skiff-runtime: {e.Message}");
            PrintUsage(Console.Error);
            return 1;
        }
        if (context.Global.Bool("version"))
        {
            PrintVersion();
            return 0;
        }
        if (commandIndex >= args.Length || context.Global.Bool("help"))
        {
            PrintUsage(commandIndex >= args.Length && !context.Global.Bool("help") ? Console.Error : Console.Out);
            return commandIndex >= args.Length && !context.Global.Bool("help") ? 1 : 0;
        }
        var name = args[commandIndex];
        var command = Array.Find(Commands.All, c => c.Name == name);
        if (command is null)
        {
            if (name == "help")
            {
                PrintUsage(Console.Out);
                return 0;
            }
            Console.Error.WriteLine($"skiff-runtime: unknown command \"{name}\"");
            PrintUsage(Console.Error);
            return 1;
        }
        var rest = args.AsSpan(commandIndex + 1);
        if (rest.Length > 0 && rest[0] is "--help" or "-h")
        {
            command.PrintHelp(Console.Out);
            return 0;
        }
        try
        {
            var parsed = ParsedArguments.Parse(command.Name, command.Flags, rest, command.StopAtFirstPositional);
            if (parsed.Bool("help"))
            {
                command.PrintHelp(Console.Out);
                return 0;
            }
            if (parsed.Positionals.Count < command.MinPositionals || (command.MaxPositionals >= 0 && parsed.Positionals.Count > command.MaxPositionals))
                throw new UsageException($"{command.Name}: expected {command.Usage}");
            return command.Run(context, parsed);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"skiff-runtime: {e.Message}");
            command.PrintHelp(Console.Error);
            return 1;
        }
        catch (Exception e) when (e is RuntimeException or SyscallException or OciConfigException or CgroupException)
        {
            context.Error(e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            context.Error(e.Message);
            return 1;
        }
    }

    private static void PrintVersion()
    {
        Console.Out.WriteLine($"skiff-runtime version {Version}");
        Console.Out.WriteLine($"spec: {Commands.OciVersionMax}");
    }

    private static void PrintUsage(TextWriter output)
    {
        var text = new StringBuilder();
        text.AppendLine("usage: skiff-runtime [global options] COMMAND [options] [arguments]");
        text.AppendLine();
        text.AppendLine("An OCI runtime with runc's command line.");
        text.AppendLine();
        text.AppendLine("commands:");
        foreach (var command in Commands.All)
            text.AppendLine($"  {command.Name,-10} {command.Description}");
        text.AppendLine();
        text.AppendLine("global options:");
        foreach (var flag in GlobalFlags)
            text.AppendLine($"  --{flag.Name}{(flag.TakesValue ? " VALUE" : ""),-22} {flag.Help}");
        output.Write(text.ToString());
    }
}

/// <summary>Global options and the services every command needs.</summary>
public sealed class Context
{
    private readonly string? _logFile;
    private readonly bool _jsonLog;

    public Context(ParsedArguments global)
    {
        Global = global;
        _logFile = global.Value("log");
        _jsonLog = global.Value("log-format") == "json";
        if (global.Value("log-format") is { } format && format is not ("text" or "json"))
            throw new UsageException($"--log-format must be text or json, not \"{format}\"");
        var root = global.Value("root") ?? Environment.GetEnvironmentVariable("SKIFF_RUNTIME_ROOT") ?? StateStore.DefaultRoot;
        _debug = global.Bool("debug");
        Runtime = new ContainerRuntime(new StateStore(Path.GetFullPath(root)), global.Bool("systemd-cgroup"), Warn, _debug ? Debug : null);
    }

    public ParsedArguments Global { get; }

    public ContainerRuntime Runtime { get; }

    private readonly bool _debug;

    public void Warn(string message) => Log("warning", message, toStderr: true);

    /// <summary>--debug messages go to --log when there is one (podman passes it), else to stderr.</summary>
    public void Debug(string message) => Log("debug", message, toStderr: _logFile is null);

    /// <summary>One line on stderr, and in --log (as JSON with --log-format json, which podman reads back on failure).</summary>
    public void Error(string message) => Log("error", message, toStderr: true);

    /// <summary>--log first: it is what engines read back, and stderr may be unwritable (the shim's read-only /dev/null).</summary>
    private void Log(string level, string message, bool toStderr)
    {
        if (_logFile is not null)
        {
            try
            {
                var time = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");
                var line = _jsonLog
                    ? $"{{\"level\":\"{level}\",\"msg\":{JsonSerializer.Serialize(message, CliJsonContext.Default.String)},\"time\":\"{time}\"}}\n"
                    : $"time=\"{time}\" level={level} msg=\"{message.Replace("\"", "\\\"")}\"\n";
                File.AppendAllText(_logFile, line);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        if (toStderr)
            Console.Error.WriteLine(level == "error" ? $"skiff-runtime: {message}" : $"skiff-runtime: {level}: {message}");
    }
}
