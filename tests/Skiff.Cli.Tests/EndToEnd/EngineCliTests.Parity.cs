namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Where skiff must behave as docker does for a docker user (issue 12): --privileged on a host whose bounding set
/// is short, State.OOMKilled, Config.Env and volume inspect's shape.
/// </summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task PrivilegedAndCapAddAllGrantTheHostsBoundingSet()
    {
        string hostBounding = StatusField(File.ReadAllText("/proc/self/status"), "CapBnd");

        foreach (var flags in new[] { new[] { "--privileged" }, new[] { "--cap-add", "ALL" } })
        {
            string status = (await Ok(["run", "--rm", .. flags, Image, "cat", "/proc/self/status"])).Stdout;
            Assert.Equal(hostBounding, StatusField(status, "CapBnd"));
            Assert.Equal(hostBounding, StatusField(status, "CapEff"));
        }

        // CAP_SYS_RESOURCE is bit 24; these machines lack it, and naming it must say why instead of failing in capset.
        if ((Convert.ToUInt64(hostBounding, 16) & (1UL << 24)) == 0)
        {
            var refused = await Skiff.RunAsync(Root, "run", "--rm", "--cap-add", "SYS_RESOURCE", Image, "true");
            Assert.Equal(125, refused.ExitCode);
            Assert.Equal("skiff: capability CAP_SYS_RESOURCE: this host's bounding set lacks it, so no container here can have it; do not add it\n", refused.Stderr);
        }
    }

    [Fact]
    public async Task OomKillIsRecordedInStateAndClearedOnTheNextStart()
    {
        // The first run doubles a string until the 32 MiB limit kills it; the second finds its mark and exits.
        const string program = "if [ -e /tmp/ran ]; then exit 0; fi; echo > /tmp/ran; x=a; while true; do x=$x$x; done";
        var killed = await Skiff.RunAsync(Root, "run", "--name", "oomer", "-m", "32m", Image, "sh", "-c", program);
        Assert.Equal(137, killed.ExitCode);
        Assert.Equal("true 137\n", (await Ok("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "oomer")).Stdout);

        await Ok("start", "oomer");
        Assert.Equal("0\n", (await Ok("wait", "oomer")).Stdout);
        Assert.Equal("false 0\n", (await Ok("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "oomer")).Stdout);
    }

    [Fact]
    public async Task ConfigEnvIsTheUsersVariablesThenTheImages()
    {
        await Ok("import", "-c", "ENV PATH=/bin", "-c", "ENV LANG=C.UTF-8", "-c", "CMD [\"sh\"]", RootfsTarball, "local/envimage:test");
        string envFile = Path.Combine(_temp.Path, "env");
        File.WriteAllText(envFile, "FROM_FILE=1\n");

        await Ok("create", "--name", "envs", "--env-file", envFile, "-e", "LANG=en_GB", "-e", "ONE=1", "local/envimage:test");
        Assert.Equal("[\"FROM_FILE=1\",\"LANG=en_GB\",\"ONE=1\",\"PATH=/bin\"]\n", (await Ok("inspect", "-f", "{{json .Config.Env}}", "envs")).Stdout);

        // The process still gets what docker adds at run time.
        string environment = (await Ok("run", "--rm", "--hostname", "box", "-e", "ONE=1", "local/envimage:test", "sh", "-c", "echo $PATH $HOSTNAME $HOME $LANG $ONE")).Stdout;
        Assert.Equal("/bin box /root C.UTF-8 1\n", environment);
    }

    [Fact]
    public async Task VolumeInspectHasDockersShape()
    {
        await Ok("volume", "create", "--label", "tier=db", "shaped");
        using var document = System.Text.Json.JsonDocument.Parse((await Ok("volume", "inspect", "shaped")).Stdout);
        var volume = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal(["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"], volume.EnumerateObject().Select(p => p.Name));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", volume.GetProperty("CreatedAt").GetString());
        Assert.Equal("local", volume.GetProperty("Driver").GetString());
        Assert.Equal("{\"tier\":\"db\"}", volume.GetProperty("Labels").GetRawText().Replace(" ", "").Replace("\n", ""));
        Assert.Equal(Path.Combine(Root, "volumes", "shaped", "_data"), volume.GetProperty("Mountpoint").GetString());
        Assert.True(Directory.Exists(volume.GetProperty("Mountpoint").GetString()));
        Assert.Equal("shaped", volume.GetProperty("Name").GetString());
        Assert.Empty(volume.GetProperty("Options").EnumerateObject());
        Assert.Equal("local", volume.GetProperty("Scope").GetString());

        Assert.Equal("shaped local local db\n", (await Ok("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels.tier}}", "shaped")).Stdout);
    }

    private static string StatusField(string status, string field)
        => status.Split('\n').Single(line => line.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim();

    [Fact]
    public async Task ATerminalSessionWithInputThatIsNotATerminalIsRefusedAsDocker()
    {
        // The test's stdin is a pipe: docker's client says so and exits 1 before it makes anything.
        var run = await Skiff.RunAsync(Root, "run", "-it", "--rm", "--name", "notty", Image, "sh");
        Assert.Equal((1, "skiff: the input device is not a TTY\n"), (run.ExitCode, run.Stderr));
        Assert.Empty((await Ok("ps", "-aq")).Stdout);

        await Ok("run", "-d", "--name", "notty-exec", Image, "sleep", "600");
        var exec = await Skiff.RunAsync(Root, "exec", "-it", "notty-exec", "sh");
        Assert.Equal((1, "skiff: the input device is not a TTY\n"), (exec.ExitCode, exec.Stderr));

        await Ok("create", "-t", "--name", "notty-start", Image, "sh");
        var start = await Skiff.RunAsync(Root, "start", "-ai", "notty-start");
        Assert.Equal((1, "skiff: the input device is not a TTY\n"), (start.ExitCode, start.Stderr));
        Assert.Contains("Created", (await Ok("ps", "-a", "--filter", "name=notty-start", "--format", "{{.Status}}")).Stdout);

        // Without -i, or detached, a terminal needs no input of ours.
        Assert.Equal(0, (await Skiff.RunAsync(Root, "exec", "-t", "notty-exec", "echo")).ExitCode);
    }
}
