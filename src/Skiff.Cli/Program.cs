using System.Text;
using Skiff.Cli.Commands;
using Skiff.Engine;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Storage.Content;
using Skiff.Storage.Snapshots;

namespace Skiff.Cli;

/// <summary>skiff: the engine's command line, with docker's and podman's command names and flags.</summary>
public static class Program
{
    public const string Version = "0.1.0";

    /// <summary>docker's and podman's status for a failure of the engine itself (as opposed to a container's).</summary>
    public const int EngineError = 125;

    private static readonly Flag[] GlobalFlags =
    [
        new("root", TakesValue: true, Help: $"the store (default {EngineOptions.DefaultRoot}, or ${EngineOptions.RootVariable})"),
        new("runroot", TakesValue: true, Help: $"the store's state that a reboot clears, on tmpfs (default {EngineOptions.DefaultRunRoot} for the default store, else {EngineOptions.DefaultRunRoot}/store-HASH; or ${EngineOptions.RunRootVariable})"),
        new("version", 'v', Help: "print the version"),
        CliCommand.Help,
    ];

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
        try
        {
            global = ParsedArguments.Parse("skiff", GlobalFlags, args.AsSpan(0, Math.Min(commandIndex, args.Length)), style: FlagStyle.Docker);
        }
        catch (UsageException error)
        {
            Console.Error.WriteLine($"skiff: {error.Message}");
            PrintUsage(Console.Error);
            return EngineError;
        }
        if (global.Bool("version"))
        {
            Console.Out.WriteLine($"skiff version {Version}");
            return 0;
        }
        var rest = args.AsSpan(Math.Min(commandIndex, args.Length));
        if (rest.Length == 0 || global.Bool("help") || rest[0] == "help")
        {
            bool asked = global.Bool("help") || (rest.Length > 0 && rest[0] == "help");
            PrintUsage(asked ? Console.Out : Console.Error);
            return asked ? 0 : EngineError;
        }
        var (command, words) = CommandList.Find(rest);
        if (command is null)
        {
            Console.Error.WriteLine($"skiff: unknown command \"{string.Join(' ', rest[..Math.Min(2, rest.Length)].ToArray())}\"; see skiff --help");
            return EngineError;
        }
        var commandArgs = rest[words..];
        using var context = new CliContext(new EngineHost(EngineOptions.Resolve(global.Value("root"), global.Value("runroot"))));
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
            return EngineError;
        }
        catch (Exception error) when (IsEngineError(error))
        {
            if (error is not EngineException { AlreadyShown: true })
                Console.Error.WriteLine($"skiff: {OneLine(error.Message)}");
            // 126/127 when a container's program cannot be run, as docker reports them.
            return error is EngineException engine ? engine.ExitCode : EngineError;
        }
    }

    /// <summary>Failures with a message meant for the user; anything else is a bug and keeps its stack trace.</summary>
    internal static bool IsEngineError(Exception error) => error is EngineException or ImageException or RegistryException or ContentException or SnapshotException
        or LayerException or InvalidReferenceException or SyscallException or IOException or UnauthorizedAccessException
        or ArchiveException or Templates.TemplateException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

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
