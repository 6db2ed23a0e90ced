using System.Text;
using Microsoft.Extensions.Logging;
using Skiff.Cli.Commands;
using Skiff.Engine;
using Skiff.Engine.Logging;
using Skiff.Interop;

namespace Skiff.Cli;

/// <summary>skiff: the engine's command line, with docker's and podman's command names and flags.</summary>
public static class Program
{
    public const string Version = EngineHost.Version;

    /// <summary>
    /// docker's status for a failure of the engine before `run`'s container started, for `create`'s invalid options,
    /// and for a flag that does not parse, whatever the command (cobra's FlagErrorFunc in docker's CLI).
    /// </summary>
    public const int EngineError = 125;

    /// <summary>docker's CLI's status for an inspect or version template that does not parse (their StatusError{StatusCode: 64}).</summary>
    public const int TemplateParseError = 64;

    /// <summary>docker's CLI's status for any other error: of every other command, and of the command line itself (<see cref="CliFailure"/>).</summary>
    public const int Failure = 1;

    private static readonly Flag[] GlobalFlags =
    [
        new("root", TakesValue: true, Help: $"the store (default {EngineOptions.DefaultRoot}, or ${EngineOptions.RootVariable})"),
        new("runroot", TakesValue: true, Help: $"the store's state that a reboot clears, on tmpfs (default {EngineOptions.DefaultRunRoot} for the default store, else {EngineOptions.DefaultRunRoot}/store-HASH; or ${EngineOptions.RunRootVariable})"),
        new("version", 'v', Help: "print the version"),
        new("log-level", 'l', TakesValue: true, Help: "what skiff itself says: debug, info, warn (default), error or fatal"),
        new("debug", 'D', Help: "same as --log-level debug"),
        new("config", TakesValue: true, Help: "docker's client configuration directory: login and pulls use DIR/config.json only"),
        CliCommand.Help,
    ];

    /// <summary>docker's --log-level names (and -D) as the level of skiff's own messages.</summary>
    private static LogLevel LogLevelOf(ParsedArguments global) => global.Bool("debug") ? LogLevel.Debug : global.Value("log-level") switch
    {
        null or "warn" or "warning" => LogLevel.Warning,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "error" => LogLevel.Error,
        "fatal" or "panic" => LogLevel.Critical,
        var other => throw new UsageException($"skiff: unable to parse logging level: {other} (expected debug, info, warn, error or fatal)"),
    };

    public static int Main(string[] args)
    {
        StandardStreams.MakeBestEffort();
        int commandIndex = 0;
        while (commandIndex < args.Length && args[commandIndex].StartsWith('-'))
        {
            string name = args[commandIndex].TrimStart('-').Split('=')[0];
            var flag = Array.Find(GlobalFlags, f => f.Name == name || (name.Length == 1 && f.Short == name[0]));
            commandIndex += flag is { TakesValue: true } && !args[commandIndex].Contains('=') ? 2 : 1;
        }
        ParsedArguments global;
        LogLevel logLevel;
        try
        {
            global = ParsedArguments.Parse("skiff", GlobalFlags, args.AsSpan(0, Math.Min(commandIndex, args.Length)), style: FlagStyle.Docker);
            logLevel = LogLevelOf(global);
        }
        catch (UsageException error)
        {
            // The global options' errors name their command, skiff, as a command's name theirs.
            Console.Error.WriteLine(error.Message);
            PrintUsage(Console.Error);
            return error.BadFlag ? EngineError : Failure;
        }
        if (global.Bool("version"))
        {
            Console.Out.WriteLine($"skiff version {Version}");
            return 0;
        }
        var rest = args.AsSpan(Math.Min(commandIndex, args.Length));
        if (rest.Length == 0 || global.Bool("help") || rest[0] == "help")
        {
            // As docker: the usage, on stderr when not asked for, and no failure either way.
            bool asked = global.Bool("help") || (rest.Length > 0 && rest[0] == "help");
            PrintUsage(asked ? Console.Out : Console.Error);
            return 0;
        }
        var (command, words) = CommandList.Find(rest);
        if (command is null)
        {
            Console.Error.WriteLine($"skiff: unknown command \"{string.Join(' ', rest[..Math.Min(2, rest.Length)].ToArray())}\"; see skiff --help");
            return Failure;
        }
        var commandArgs = rest[words..];
        // What the engine says without failing (an event it could not record) reaches the user as skiff's warnings.
        var logging = new TextWriterLoggerProvider(Console.Error, logLevel).ToFactory();
        // docker's --config names the directory of the client's config.json, the one credentials file it then reads
        // and writes: what REGISTRY_AUTH_FILE means to every credential store of this process (login, logout, pulls, pushes).
        if (global.Value("config") is { } config)
            Environment.SetEnvironmentVariable("REGISTRY_AUTH_FILE", Path.Combine(Path.GetFullPath(config), "config.json"));
        using var context = new CliContext(new EngineHost(EngineOptions.Resolve(global.Value("root"), global.Value("runroot")), logging));
        try
        {
            var parsed = ParsedArguments.Parse(command.Name, command.Flags, commandArgs, command.StopAtFirstPositional, style: FlagStyle.Docker);
            if (parsed.Bool("help"))
            {
                command.PrintHelp(Console.Out);
                return 0;
            }
            if (parsed.Positionals.Count < command.MinPositionals || (command.MaxPositionals >= 0 && parsed.Positionals.Count > command.MaxPositionals))
                throw new UsageException($"{command.Name}: expected {(command.Usage.Length > 0 ? command.Usage : "no arguments")}");
            return command.Run(context, parsed);
        }
        catch (UsageException error)
        {
            Console.Error.WriteLine($"skiff: {error.Message}");
            command.PrintHelp(Console.Error);
            return error.BadFlag ? EngineError : Failure;
        }
        // Failures meant for the user get a line; anything else is a bug and keeps its stack trace.
        catch (Exception error) when (ErrorKinds.IsExpected(error))
        {
            return Report(error, command.Statuses);
        }
    }

    /// <summary>Says <paramref name="error"/> on stderr in one line (unless a runtime said it already) and returns its exit status under the command's <paramref name="statuses"/>.</summary>
    internal static int Report(Exception error, ExitStatuses statuses = ExitStatuses.Plain)
    {
        if (error is not EngineException { AlreadyShown: true })
            Console.Error.WriteLine($"skiff: {Message(error)}");
        return error is CliFailure failure ? failure.Status : ExitCode(ErrorKinds.Of(error), error is EngineException { ContainerCommand: true }, statuses);
    }

    /// <summary>The one line a user reads: the engine's own sentence, or a system exception's message as one.</summary>
    internal static string Message(Exception error) => error is SkiffException ? error.Message.ReplaceLineEndings(" ") : SystemErrors.Sentence(error.Message);

    /// <summary>
    /// The one mapping of errors to exit statuses, docker's CLI's: `run` exits 127 or 126 when the container's program
    /// could not be found or executed and 125 for any other failure before the container ran (run.go's
    /// runStartContainerErr); `exec` exits 127 or 126 for its program likewise (the exec's own status in docker);
    /// `create` exits 125 for options it cannot take (docker parses them before calling the engine); every other
    /// error of every command is 1.
    /// </summary>
    internal static int ExitCode(ErrorKind kind, bool containerCommand, ExitStatuses statuses) => (statuses, kind, containerCommand) switch
    {
        (ExitStatuses.Run or ExitStatuses.Exec, ErrorKind.NotFound, true) => 127,
        (ExitStatuses.Run or ExitStatuses.Exec, ErrorKind.PermissionDenied, true) => 126,
        (ExitStatuses.Run, _, _) => EngineError,
        (ExitStatuses.Create, ErrorKind.InvalidArgument, _) => EngineError,
        _ => Failure,
    };

    private static void PrintUsage(TextWriter output)
    {
        var text = new StringBuilder();
        text.AppendLine("usage: skiff [global options] COMMAND [options] [arguments]");
        text.AppendLine();
        text.AppendLine("A daemonless container engine.");
        text.AppendLine();
        text.AppendLine("commands:");
        foreach (var command in CommandList.All.Where(command => !command.Hidden))
            text.AppendLine($"  {command.Name,-15} {command.Description}");
        text.AppendLine();
        text.AppendLine("global options:");
        output.Write(text.ToString());
        FlagHelp.Write(output, GlobalFlags);
        output.WriteLine();
        output.WriteLine("Run 'skiff COMMAND --help' for a command's options.");
    }
}

/// <summary>Which of docker's CLI's exit status rules a command's errors follow (<see cref="Program.ExitCode"/>).</summary>
public enum ExitStatuses
{
    /// <summary>1 for any error.</summary>
    Plain,
    /// <summary>`run`: 125 for the engine's failures, 126 and 127 for the container's program.</summary>
    Run,
    /// <summary>`create`: 125 for options it cannot take, else 1.</summary>
    Create,
    /// <summary>`exec`: 126 and 127 for the program, else 1.</summary>
    Exec,
}
