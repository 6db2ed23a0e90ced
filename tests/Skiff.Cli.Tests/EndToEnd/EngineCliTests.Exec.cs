namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>exec failures said once; a host-network container named as the host.</summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task ExecFailureIsReportedOnce()
    {
        await Ok("run", "-d", "--name", "execonce", Image, "sleep", "1000");
        var result = await Skiff.RunAsync(Root, "exec", "execonce", "no-such-program");
        Assert.Equal(127, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("no-such-program", result.Stderr);
    }

    [Fact]
    public async Task HostNetworkContainerHasTheHostsName()
    {
        string hostname = File.ReadAllText("/proc/sys/kernel/hostname").Trim();
        Assert.Equal(hostname + "\n", (await Ok("run", "--rm", "--network", "host", Image, "hostname")).Stdout);
        Assert.Equal(hostname + "\n", (await Ok("run", "--rm", "--network", "host", Image, "cat", "/etc/hostname")).Stdout);
        Assert.Equal("given\n", (await Ok("run", "--rm", "--network", "host", "--hostname", "given", Image, "hostname")).Stdout);
    }
}
