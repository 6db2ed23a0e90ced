using System.Globalization;
using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

/// <summary>
/// `dotnet exec Skiff.Network.Tests.dll dns-resolver PORT GRACE_MS RUNROOT`: what `skiff dns-resolver` is, without
/// building the CLI, for the tests that start the resolver as a process (<see cref="DnsResolverProcessTests"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["dns-resolver", var port, var graceMs, var runRoot])
        {
            Console.Error.WriteLine("usage: Skiff.Network.Tests dns-resolver PORT GRACE_MS RUNROOT");
            return 125;
        }
        var options = new DnsResolverHostOptions
        {
            Port = int.Parse(port, CultureInfo.InvariantCulture),
            GracePeriod = TimeSpan.FromMilliseconds(int.Parse(graceMs, CultureInfo.InvariantCulture)),
        };
        using var stopping = new CancellationTokenSource();
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });
        return DnsResolverHost.Run(runRoot, options, new ListLogger(echo: true), stopping.Token);
    }
}
