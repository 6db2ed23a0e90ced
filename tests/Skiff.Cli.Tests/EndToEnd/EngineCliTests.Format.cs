namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// --format with Go templates, as docker takes it: inspect (-f) over the inspect documents, ps/images/volume ls/history
/// over docker's row fields, "table" with docker's column titles and alignment, and a bad template as one line, exit 1
/// (64 for inspect's template that does not parse, as docker's).
/// </summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task InspectFormatTakesGoTemplates()
    {
        Assert.Equal(3, (await Skiff.RunAsync(Root, "run", "--name", "fmtexit", "--label", "com.example.team=red", Image, "sh", "-c", "exit 3")).ExitCode);
        await Ok("volume", "create", "--label", "tier=db", "fmtvol");

        Assert.Equal("3\n", (await Ok("inspect", "--format", "{{.State.ExitCode}}", "fmtexit")).Stdout);
        Assert.Equal("false\n", (await Ok("inspect", "-f", "{{.State.Running}}", "fmtexit")).Stdout);
        Assert.Equal("{\"com.example.team\":\"red\"}\n", (await Ok("inspect", "-f", "{{json .Config.Labels}}", "fmtexit")).Stdout);
        Assert.Equal("red exited\n", (await Ok("container", "inspect", "-f", "{{index .Config.Labels \"com.example.team\"}} {{.State.Status}}", "fmtexit")).Stdout);
        string name = (await Ok("inspect", "-f", "{{.Name}}", "fmtexit")).Stdout;
        Assert.EndsWith("fmtexit\n", name);
        Assert.Equal(name + "[sh]\n", (await Ok("inspect", "-f", "{{if .State}}{{.Name}}{{else}}{{.Config.Cmd}}{{end}}", "fmtexit", Image)).Stdout);
        Assert.Equal("linux [sh]\n", (await Ok("image", "inspect", "-f", "{{.Os}} {{.Config.Cmd}}", Image)).Stdout);
        Assert.Equal("fmtvol db\n", (await Ok("volume", "inspect", "-f", "{{.Name}} {{.Labels.tier}}", "fmtvol")).Stdout);

        var bad = await Skiff.RunAsync(Root, "inspect", "-f", "{{.State.ExitCode}", "fmtexit");
        Assert.Equal(64, bad.ExitCode);
        Assert.Equal("skiff: template parsing error: template: :1: unexpected \"}\" in operand\n", bad.Stderr);
        Assert.Empty(bad.Stdout);
        var failing = await Skiff.RunAsync(Root, "inspect", "-f", "{{.State.Pid.Value}}", "fmtexit");
        Assert.Equal(1, failing.ExitCode);
        Assert.Equal("skiff: template: :1:8: executing \"\" at <.State.Pid.Value>: can't evaluate field Value in type int\n", failing.Stderr);
    }

    [Fact]
    public async Task ListFormatsTakeDockersRowFields()
    {
        await Ok("run", "-d", "--name", "fmtweb", "--label", "team=red", Image, "sleep", "1000");
        await Ok("volume", "create", "fmtvol");

        Assert.Equal("fmtweb\n", (await Ok("ps", "--format", "{{.Names}}")).Stdout);
        Assert.Equal("fmtweb red running team=red\n", (await Ok("ps", "--format", "{{.Names}} {{.Label \"team\"}} {{.State}} {{.Labels}}")).Stdout);
        var table = (await Ok("ps", "--format", "table {{.ID}}\\t{{.Image}}")).Stdout.Split('\n');
        Assert.Equal("CONTAINER ID   IMAGE", table[0]);
        Assert.Matches("^[0-9a-f]{12}   local/busybox:test$", table[1]);
        Assert.Equal("", table[2]);
        Assert.Equal(1, (await Skiff.RunAsync(Root, "ps", "--format", "{{.Nope}}")).ExitCode);

        Assert.Equal("local/busybox:test\n", (await Ok("images", "--format", "{{.Repository}}:{{.Tag}}")).Stdout);
        Assert.Equal("REPOSITORY      TAG\nlocal/busybox   test\n", (await Ok("images", "--format", "table {{.Repository}}\\t{{.Tag}}")).Stdout);
        Assert.Equal("local fmtvol\n", (await Ok("volume", "ls", "--format", "{{.Driver}} {{.Name}}")).Stdout);
        Assert.Equal("VOLUME NAME\nfmtvol\n", (await Ok("volume", "ls", "--format", "table {{.Name}}")).Stdout);
        Assert.Matches(@"^\d+(\.\d+)?[kMG]?B\n$", (await Ok("history", "--format", "{{.Size}}", Image)).Stdout);
    }
}
