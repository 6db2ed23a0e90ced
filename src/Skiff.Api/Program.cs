using Skiff.Cli;
using Skiff.Engine;
using Skiff.Engine.Logging;

namespace Skiff.Api;

/// <summary>
/// skiff-service: the Docker Engine API on a socket, over the engine the CLI uses. `skiff system service` execs it
/// with the CLI's store options; containers it starts run under monitors that are the CLI's own (`skiff monitor`),
/// so stopping the service stops no container.
/// </summary>
public static class Program
{
    private static readonly Flag[] Flags =
    [
        new("root", TakesValue: true, Help: "the store (as skiff's --root)"),
        new("runroot", TakesValue: true, Help: "the store's run root (as skiff's --runroot)"),
        new("time", 't', TakesValue: true, Help: "exit after this many idle seconds; 0 serves until stopped (default 5)"),
        new("insecure-tcp", Help: "serve a tcp:// address (loopback only), which has no authentication"),
        new("skiff", TakesValue: true, Help: "the skiff binary whose `monitor` runs each container (default: skiff beside this program)"),
        new("help", 'h', Help: "print this help"),
    ];

    public static int Main(string[] args)
    {
        ParsedArguments parsed;
        try
        {
            parsed = ParsedArguments.Parse("skiff system service", Flags, args, style: FlagStyle.Docker);
            if (parsed.Positionals.Count > 1)
                throw new UsageException("system service: expected at most one address, such as " + ServiceAddress.Default);
        }
        catch (UsageException error)
        {
            Console.Error.WriteLine($"skiff: {error.Message}");
            return 125;
        }
        if (parsed.Bool("help"))
        {
            Console.Out.WriteLine($"usage: skiff system service [--time SECONDS] [--insecure-tcp] [URI]  (default {ServiceAddress.Default})");
            FlagHelp.Write(Console.Out, Flags);
            return 0;
        }
        var logging = new TextWriterLoggerProvider(Console.Error, prefix: "skiff system service");
        try
        {
            var idle = parsed.Value("time") is { } time
                ? (int.TryParse(time, out int seconds) && seconds >= 0 ? seconds : throw new EngineException(ErrorKind.InvalidArgument, $"invalid --time \"{time}\": expected a whole number of seconds, 0 for no limit"))
                : 5;
            var address = ServiceAddress.Parse(parsed.Positionals.FirstOrDefault() ?? ServiceAddress.Default, parsed.Bool("insecure-tcp"));
            string skiff = parsed.Value("skiff") ?? Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/bin", "skiff");
            var options = EngineOptions.Resolve(parsed.Value("root"), parsed.Value("runroot")) with
            {
                MonitorCommand = [skiff, "monitor"],
                DnsResolverCommand = [skiff, "dns-resolver"],
            };
            using var engine = new EngineHost(options, logging.ToFactory());
            return Serve(engine, address, idle == 0 ? null : TimeSpan.FromSeconds(idle), logging).GetAwaiter().GetResult();
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error))
        {
            Console.Error.WriteLine($"skiff: {ApiErrors.Message(error)}");
            return 125;
        }
    }

    /// <summary>Serves until SIGTERM/SIGINT or, with <paramref name="idleLimit"/>, until idle that long.</summary>
    internal static async Task<int> Serve(EngineHost engine, ServiceAddress address, TimeSpan? idleLimit, Microsoft.Extensions.Logging.ILoggerProvider logging)
    {
        address.PrepareSocket();
        var idle = new IdleClock(idleLimit, TimeProvider.System);
        await using var app = ApiServer.Build(engine, address, idle, logging);
        await app.StartAsync();
        try
        {
            address.RestrictSocket();
            var stopping = app.Lifetime.ApplicationStopping;
            await idle.WaitExpiredAsync(stopping);
            await app.StopAsync();
        }
        finally
        {
            if (address.SocketPath is { } path)
                File.Delete(path);
        }
        return 0;
    }
}
