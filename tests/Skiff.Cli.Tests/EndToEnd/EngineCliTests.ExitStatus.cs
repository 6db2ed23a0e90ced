namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// docker's CLI's exit statuses through bin/skiff: 125 only for run's failures before its container ran (126/127 for
/// the container's program) and create's invalid options, 1 for every other command's error, and inspect's
/// "Error: No such object" with `[]` on stdout.
/// </summary>
public sealed partial class EngineCliTests
{
    private async Task<Skiff.Result> Exits(int status, params string[] args)
    {
        var result = await Skiff.RunAsync(Root, args);
        Assert.True(result.ExitCode == status, $"skiff {string.Join(' ', args)}: exit {result.ExitCode}, not {status}: {result.Stderr}");
        return result;
    }

    [Fact]
    public async Task OnlyRunAndCreateExit125()
    {
        await Ok("run", "-d", "--name", "st-web", "-v", "st-vol:/data", Image, "sleep", "1000");
        await Ok("create", "--name", "st-missing", Image, "/no/such/program");

        Assert.StartsWith("skiff: ", (await Exits(125, "run", "--pull", "never", "no/such:image")).Stderr);
        await Exits(127, "run", "--rm", Image, "/no/such/program");
        await Exits(125, "create", "--memory", "lots", Image);
        await Exits(1, "create", "--pull", "never", "no/such:image");
        await Exits(1, "create", "--name", "st-web", Image);
        // start reports its container's failure as docker's start does: 1, not run's 127.
        await Exits(1, "start", "st-missing");
        await Exits(127, "exec", "st-web", "/no/such/program");

        var running = await Exits(1, "rm", "st-web");
        Assert.Matches("^skiff: [^\n]*st-web[^\n]*\n$", running.Stderr);
        var inUse = await Exits(1, "volume", "rm", "st-vol");
        Assert.Equal("skiff: cannot remove volume st-vol: it is in use by container st-web; remove that container first\n", inUse.Stderr);
        Assert.Equal("skiff: no such container: st-nothing\n", (await Exits(1, "stop", "st-nothing")).Stderr);
        await Exits(1, "rmi", "no/such:image");
        await Exits(1, "logs", "st-nothing");
        // A flag that does not parse is 125 whatever the command (docker's FlagErrorFunc), a missing argument 1.
        await Exits(125, "stop", "--bogus", "st-web");
        await Exits(125, "stop", "-t", "soon", "st-web");
        await Exits(1, "stop");
    }

    [Fact]
    public async Task InspectFindsContainersImagesThenVolumesAndSaysNoSuchObject()
    {
        await Ok("create", "--name", "st-box", Image, "true");
        await Ok("volume", "create", "st-data");

        var missing = await Exits(1, "inspect", "st-nothing");
        Assert.Equal(("[]\n", "Error: No such object: st-nothing\n"), (missing.Stdout, missing.Stderr));
        var some = await Exits(1, "inspect", "--format", "{{.Name}}", "st-box", "st-nothing", "st-data", "st-none");
        Assert.Equal("/st-box\nst-data\n", some.Stdout);
        Assert.Equal("Error: No such object: st-nothing\nError: No such object: st-none\n", some.Stderr);
        Assert.Equal("\n", (await Exits(1, "inspect", "-f", "{{.Name}}", "st-nothing")).Stdout);

        Assert.Equal("st-data local\n", (await Ok("inspect", "-f", "{{.Name}} {{.Driver}}", "st-data")).Stdout);
        Assert.Equal("st-data\n", (await Ok("inspect", "--type", "volume", "-f", "{{.Name}}", "st-data")).Stdout);
        Assert.Equal("linux\n", (await Ok("inspect", "-f", "{{.Os}}", Image)).Stdout);
        // A container named as an image is the container: containers come first, as docker's.
        await Ok("create", "--name", "local-busybox-test", Image, "true");
        await Ok("tag", Image, "local-busybox-test");
        Assert.Equal("/local-busybox-test\n", (await Ok("inspect", "-f", "{{.Name}}", "local-busybox-test")).Stdout);
        Assert.Equal("linux\n", (await Ok("inspect", "--type", "image", "-f", "{{.Os}}", "local-busybox-test")).Stdout);

        var typed = await Exits(1, "inspect", "--type", "volume", "st-box");
        Assert.Equal(("[]\n", "skiff: no such volume: st-box\n"), (typed.Stdout, typed.Stderr));
        var container = await Exits(1, "container", "inspect", "st-box", "st-nothing");
        Assert.Equal("st-box", System.Text.Json.JsonDocument.Parse(container.Stdout).RootElement[0].GetProperty("Name").GetString()!.TrimStart('/'));
        Assert.Equal("skiff: no such container: st-nothing\n", container.Stderr);
        var volume = await Exits(1, "volume", "inspect", "st-nothing");
        Assert.Equal(("[]\n", "skiff: no such volume: st-nothing\n"), (volume.Stdout, volume.Stderr));
        Assert.Equal("skiff: unknown type: \"plugin\": must be one of \"container\", \"image\", \"volume\", \"network\"\n",
            (await Exits(1, "inspect", "--type", "plugin", "st-box")).Stderr);
        Assert.StartsWith("skiff: network st-box not found", (await Exits(1, "inspect", "--type", "network", "st-box")).Stderr);
    }
}
