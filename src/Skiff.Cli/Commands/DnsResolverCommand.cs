using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Skiff.Engine.Logging;
using Skiff.Network.Dns;

namespace Skiff.Cli.Commands;

/// <summary>
/// The hidden `skiff dns-resolver RUNROOT` that <see cref="DnsResolverProcess.EnsureRunning"/> starts: the network
/// library's <see cref="DnsResolverHost"/> behind the CLI's binary, so that one published program serves both.
/// </summary>
internal static class DnsResolverCommand
{
    /// <summary>The resolver of a run root's user networks (docs/networking.md, "DNS"): started by the engine, never by hand.</summary>
    public static readonly CliCommand Definition = new(
        "dns-resolver", "RUNROOT", "(internal) the DNS resolver of user networks.",
        [new("port", TakesValue: true), new("grace-period", TakesValue: true), CliCommand.Help],
        (_, args) => Run(args),
        MinPositionals: 1, MaxPositionals: 1, Hidden: true);

    private static int Run(ParsedArguments args)
    {
        var options = new DnsResolverHostOptions();
        if (args.Value("port") is { } port)
            options = options with { Port = Whole(port, "port") };
        if (args.Value("grace-period") is { } grace)
            options = options with { GracePeriod = TimeSpan.FromSeconds(Whole(grace, "grace-period")) };
        using var stopping = new CancellationTokenSource();
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        var logger = new TextWriterLoggerProvider(Console.Error, LogLevel.Information, prefix: "skiff dns-resolver").CreateLogger("dns");
        return DnsResolverHost.Run(args.Positionals[0], options, logger, stopping.Token);

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }
    }

    private static int Whole(string text, string flag)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new UsageException($"invalid argument \"{text}\" for --{flag}: expected a whole number", badFlag: true);
}
