namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>What the engine decides when it creates a container: the seccomp filter and the security options.</summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task SeccompProfilesComeFromAFileOrAreLeftOut()
    {
        string profile = Path.Combine(_temp.Path, "nomkdir.json");
        File.WriteAllText(profile, """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}""");
        var refused = await Skiff.RunAsync(Root, "run", "--rm", "--security-opt", $"seccomp={profile}", Image, "busybox", "mkdir", "/tmp/made");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Operation not permitted", refused.Stderr);
        await Ok("run", "--rm", "--security-opt", "seccomp=unconfined", Image, "busybox", "mkdir", "/tmp/made");
        await Ok("run", "--rm", Image, "busybox", "mkdir", "/tmp/made");
    }

    [Fact]
    public async Task BadSecurityOptionsAreOneLineNamingWhatIsWrong()
    {
        string broken = Path.Combine(_temp.Path, "broken.json");
        File.WriteAllText(broken, "{not json");
        Assert.StartsWith($"skiff: {broken}: invalid seccomp profile", (await FailsOnOneLine("run", "--security-opt", $"seccomp={broken}", Image, "true")).Stderr);
        string missing = Path.Combine(_temp.Path, "missing.json");
        Assert.Contains(missing, (await FailsOnOneLine("run", "--security-opt", $"seccomp={missing}", Image, "true")).Stderr);
        Assert.StartsWith("skiff: security option systempaths=unconfined is not supported",
            (await FailsOnOneLine("create", "--security-opt", "systempaths=unconfined", Image, "true")).Stderr);
        // docker's create: 125 for options it cannot take, 1 for the engine's failures (run: 125 for both).
        Assert.Contains("no/such:image", (await FailsOnOneLine(1, "create", "--pull", "never", "no/such:image")).Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }
}
