namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// docker's --filter on ps, images and the prunes, through bin/skiff, with docker's documented results (docs.docker.com
/// "Filtering" of docker ps, docker images, docker container/image/volume/system prune) and its refusals
/// ("invalid filter 'KEY'", exit 1).
/// </summary>
public sealed partial class EngineCliTests
{
    private async Task<string[]> Listed(params string[] args)
        => (await Ok(args)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private async Task AssertRefused(string stderr, params string[] args)
    {
        var result = await Skiff.RunAsync(Root, args);
        Assert.Equal((1, stderr, ""), (result.ExitCode, result.Stderr, result.Stdout));
    }

    [Fact]
    public async Task PsFiltersAsDockers()
    {
        Assert.Equal(3, (await Skiff.RunAsync(Root, "run", "--name", "fl-exited", "--label", "tier=back", Image, "sh", "-c", "exit 3")).ExitCode);
        await Ok("run", "-d", "--name", "fl-web", "--label", "tier=front", "-v", "flvol:/data", Image, "sleep", "1000");
        await Ok("create", "--name", "fl-new", "--network", "host", Image, "true");
        await Ok("commit", "fl-exited", "local/child:1");
        await Ok("create", "--name", "fl-child", "local/child:1", "true");
        string[] Names(params string[] filters) => Listed(["ps", "-a", "--format", "{{.Names}}", .. filters.SelectMany(f => new[] { "--filter", f })]).GetAwaiter().GetResult();

        Assert.Equal(["fl-web"], Names("name=fl-web"));
        Assert.Equal(["fl-new"], Names("name=^fl-n"));
        // fl-child's image is a commit of fl-exited: it has its labels, and containers get their image's, as docker's.
        Assert.Equal(["fl-child", "fl-web", "fl-exited"], Names("label=tier"));
        Assert.Equal(["fl-child", "fl-exited"], Names("label=tier=back"));
        Assert.Equal(["fl-web"], Names("label=tier=front"));
        Assert.Empty(Names("label=tier=back", "name=fl-web"));
        Assert.Equal(["fl-exited"], Names("exited=3"));
        Assert.Equal(["fl-child", "fl-new"], Names("status=created"));
        // The ancestor filter takes the images made from the image too (local/child:1 is a commit of it).
        Assert.Equal(["fl-child"], Names("ancestor=local/child:1"));
        Assert.Equal(["fl-child", "fl-new", "fl-web", "fl-exited"], Names($"ancestor={Image}"));
        Assert.Empty(Names("ancestor=no/such:image"));
        Assert.Equal(["fl-web"], Names("volume=flvol"));
        Assert.Equal(["fl-web"], Names("volume=/data"));
        Assert.Equal(["fl-new"], Names("network=host"));
        Assert.Equal(["fl-child", "fl-web", "fl-exited"], Names("network=bridge"));
        Assert.Empty(Names("network=none"));
        Assert.Empty(Names("publish=80"));
        Assert.Empty(Names("expose=8000-8080/tcp"));
        Assert.Equal(4, Names("is-task=false").Length);
        Assert.Empty(Names("is-task=true"));

        // Without -a: status, exited, before and since list stopped containers, as docker's.
        Assert.Equal(["fl-web"], await Listed("ps", "--format", "{{.Names}}"));
        Assert.Equal(["fl-exited"], await Listed("ps", "--format", "{{.Names}}", "--filter", "status=exited"));
        Assert.Equal(["fl-web", "fl-exited"], await Listed("ps", "--format", "{{.Names}}", "--filter", "before=fl-new"));
        Assert.Equal(["fl-child", "fl-new"], await Listed("ps", "--format", "{{.Names}}", "--filter", "since=fl-web"));
        Assert.Equal(["fl-new", "fl-web"], await Listed("ps", "--format", "{{.Names}}", "-f", "since=fl-exited", "-f", "before=fl-child"));

        await AssertRefused("skiff: invalid filter 'colour'\n", "ps", "--filter", "colour=red");
        await AssertRefused("skiff: invalid filter 'status=sleeping'\n", "ps", "--filter", "status=sleeping");
        await AssertRefused("skiff: invalid filter 'publish=http'\n", "ps", "--filter", "publish=http");
        await AssertRefused("skiff: no such container: nobody\n", "ps", "--filter", "since=nobody");
        await AssertRefused("skiff: bad format of filter \"nameweb\" (expected name=value)\n", "ps", "--filter", "nameweb");
    }

    [Fact]
    public async Task ImagesFiltersAsDockers()
    {
        await Ok("tag", Image, "local/other:2");
        await Ok("import", "-c", "LABEL team=qa", RootfsTarball, "local/labeled:1");
        await Ok("create", "--name", "fl-source", Image, "true");
        string dangling = (await Ok("commit", "fl-source")).Stdout.Trim();
        string[] Images(params string[] args) => Listed(["images", "--format", "{{.Repository}}:{{.Tag}}", .. args]).GetAwaiter().GetResult();

        Assert.Equal([dangling], await Listed("images", "-q", "--no-trunc", "--filter", "dangling=true"));
        Assert.Equal(["local/busybox:test", "local/labeled:1", "local/other:2"], Images("--filter", "dangling=false").Order());
        Assert.Equal(["local/labeled:1"], Images("--filter", "label=team"));
        Assert.Equal(["local/labeled:1"], Images("--filter", "label=team=qa"));
        Assert.Empty(Images("--filter", "label=team=dev"));
        // docker's reference filter is a glob on NAME:TAG (or NAME); `*` does not cross a `/`.
        Assert.Equal(["local/busybox:test"], Images("--filter", "reference=*/busy*:*"));
        Assert.Equal(["local/other:2"], Images("--filter", "reference=local/*:2"));
        Assert.Equal(["local/busybox:test", "local/labeled:1", "local/other:2"], Images("--filter", "reference=local/*").Order());
        Assert.Empty(Images("--filter", "reference=*"));
        Assert.Equal(["local/busybox:test"], Images("local/busybox"));
        Assert.Equal(["local/busybox:test"], Images("--filter", "reference=local/b*", "local/busybox:test"));
        // since: created after the image (its other names are the same image, not newer).
        Assert.Equal(["<none>:<none>", "local/labeled:1"], Images("--filter", $"since={Image}").Order());
        Assert.Equal(["local/busybox:test", "local/other:2"], Images("--filter", "before=local/labeled:1").Order());

        await AssertRefused("skiff: invalid filter 'dangling=maybe'\n", "images", "--filter", "dangling=maybe");
        await AssertRefused("skiff: invalid filter 'status'\n", "images", "--filter", "status=running");
        await AssertRefused("skiff: invalid filter 'reference=[local'\n", "images", "--filter", "reference=[local");
    }

    [Fact]
    public async Task PruneFiltersAsDockers()
    {
        string yes = (await Ok("create", "--label", "prune=yes", Image, "true")).Stdout.Trim();
        string keep = (await Ok("create", "--label", "keep=1", Image, "true")).Stdout.Trim();
        string plain = (await Ok("create", Image, "true")).Stdout.Trim();

        Assert.Equal("Total reclaimed space: 0B\n", (await Ok("container", "prune", "-f", "--filter", "until=1h")).Stdout);
        Assert.StartsWith($"Deleted Containers:\n{yes}\n\n", (await Ok("container", "prune", "-f", "--filter", "label=prune=yes")).Stdout);
        Assert.StartsWith($"Deleted Containers:\n{plain}\n\n", (await Ok("container", "prune", "-f", "--filter", "label!=keep")).Stdout);
        Assert.Equal([keep], await Listed("ps", "-aq", "--no-trunc"));
        await AssertRefused("skiff: invalid filter 'until=soon'\n", "container", "prune", "-f", "--filter", "until=soon");
        await AssertRefused("skiff: invalid filter 'dangling'\n", "container", "prune", "-f", "--filter", "dangling=true");
        await AssertRefused("skiff: more than one until filter specified\n", "container", "prune", "-f", "--filter", "until=1h", "--filter", "until=2h");

        await Ok("import", "-c", "LABEL team=qa", RootfsTarball, "local/labeled:1");
        await Ok("import", RootfsTarball, "local/plain:1");
        Assert.Equal("Total reclaimed space: 0B\n", (await Ok("image", "prune", "-a", "-f", "--filter", "until=24h")).Stdout);
        var pruned = (await Ok("image", "prune", "-a", "-f", "--filter", "label=team=qa")).Stdout;
        Assert.StartsWith("Deleted Images:\nuntagged: local/labeled:1\ndeleted: sha256:", pruned);
        Assert.Equal(["local/busybox:test", "local/plain:1"], (await Listed("images", "--format", "{{.Repository}}:{{.Tag}}")).Order());
        await AssertRefused("skiff: invalid filter 'name'\n", "image", "prune", "-f", "--filter", "name=x");

        await Ok("volume", "create", "--label", "tmp=1", "fl-tmp");
        await Ok("volume", "create", "fl-named");
        Assert.StartsWith("Deleted Volumes:\nfl-tmp\n\nTotal reclaimed space: ", (await Ok("volume", "prune", "-a", "-f", "--filter", "label=tmp")).Stdout);
        Assert.Equal("Total reclaimed space: 0B\n", (await Ok("volume", "prune", "-f", "--filter", "label!=tmp")).Stdout); // named ones need -a
        Assert.StartsWith("Deleted Volumes:\nfl-named\n\nTotal reclaimed space: ", (await Ok("volume", "prune", "-f", "--filter", "all=true")).Stdout);
        await AssertRefused("skiff: invalid filter 'until'\n", "volume", "prune", "-f", "--filter", "until=1h");

        await Ok("create", "--label", "prune=yes", "--name", "fl-sys", Image, "true");
        var system = await Ok("system", "prune", "-f", "--filter", "label=prune=no");
        Assert.Equal("Total reclaimed space: 0B\n", system.Stdout);
        Assert.Single(await Listed("ps", "-aq", "--filter", "name=fl-sys"));
        await AssertRefused("skiff: the until filter does not apply to volumes: volumes are pruned by label only\n",
            "system", "prune", "-f", "--volumes", "--filter", "until=1h");
        Assert.Single(await Listed("ps", "-aq", "--filter", "name=fl-sys"));
    }
}
