using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// `skiff build` through bin/skiff, issue 14's later pieces: RUN and COPY heredocs in BuildKit's forms, RUN bind mounts
/// from a stage or an image and read-write, secrets as environment variables, ADD of several URLs (from a server the
/// test runs on loopback).
/// </summary>
public sealed partial class EngineCliTests
{
    /// <summary>A build of <paramref name="context"/> fails as docker build's: status 1, the line and the cause named, no container left.</summary>
    private async Task BuildFails(string context, string line, string cause)
    {
        var result = await Skiff.RunAsync(Root, "build", context);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(line, result.Stderr);
        Assert.Contains(cause, result.Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    [Fact]
    public async Task HeredocsInEveryFormBuildRunAndComeFromTheCacheUntilABodyChanges()
    {
        string dockerfile = $$"""
            FROM {{Image}}
            ARG WHO=builder
            RUN <<EOF
            echo "simple $WHO" > /simple
            EOF
            RUN <<EOF sh
            echo "stdin of sh" > /stdin
            EOF
            RUN <<A cat > /a && <<B cat > /b
            first
            A
            second
            B
            RUN <<-EOF
            	echo tabbed > /tabbed
            	EOF
            RUN cat <<'Q' > /quoted
            $WHO stays
            Q
            RUN <<EOF
            #!/bin/sh
            echo "shebang $0" > /shebang
            EOF
            COPY <<EOF /etc/one.conf
            who=${WHO} home=$HOME
            EOF
            COPY --chmod=0755 <<A <<'B' /opt/
            echo a $WHO
            A
            echo b $WHO
            B
            CMD ["cat", "/simple", "/stdin", "/a", "/b", "/tabbed", "/quoted", "/shebang", "/etc/one.conf", "/opt/A", "/opt/B"]
            """;
        var context = BuildContextWith(dockerfile);
        await Ok("build", "-t", "heredocs:1", context);
        Assert.Equal("simple builder\nstdin of sh\nfirst\nsecond\ntabbed\n$WHO stays\nshebang /dev/pipes/EOF\nwho=builder home=$HOME\necho a builder\necho b $WHO\n",
            (await Ok("run", "--rm", "heredocs:1")).Stdout);
        Assert.Equal("755 644\n", (await Ok("run", "--rm", "heredocs:1", "sh", "-c", "echo $(stat -c %a /opt/B) $(stat -c %a /etc/one.conf)")).Stdout);
        Assert.Contains("RUN /bin/sh -c <<A cat > /a && <<B cat > /b", (await Ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "heredocs:1")).Stdout);

        string id = (await Ok("image", "inspect", "-f", "{{.Id}}", "heredocs:1")).Stdout.Trim();
        await Ok("build", "-t", "heredocs:2", context);
        Assert.Equal(id, (await Ok("image", "inspect", "-f", "{{.Id}}", "heredocs:2")).Stdout.Trim());

        // Another body of the #! script and of a COPY heredoc: those steps run again.
        File.WriteAllText(Path.Combine(context, "Dockerfile"), dockerfile.Replace("shebang $0", "script $0").Replace("echo b $WHO", "echo B $WHO"));
        await Ok("build", "-t", "heredocs:3", context);
        var output = (await Ok("run", "--rm", "heredocs:3")).Stdout;
        Assert.Contains("script /dev/pipes/EOF\n", output);
        Assert.EndsWith("echo B $WHO\n", output);

        await BuildFails(BuildContextWith($"FROM {Image}\nRUN echo fine\nCOPY <<EOF /x\nno end\n"), "Dockerfile:3", "<<EOF");
    }

    [Fact]
    public async Task BindMountsFromAStageOrAnImageAndReadWriteOnesLeaveTheContextAndSourcesAsTheyWere()
    {
        string dockerfile = $"""
            FROM {Image} AS tools
            RUN mkdir -p /tools && echo "tool v1" > /tools/version
            FROM {Image}
            # First, so that its parent is the same in both builds: only the bound file's content can run it again.
            RUN --mount=type=bind,source=data,target=/data cat /data/file.txt > /bound
            RUN --mount=type=bind,from=tools,source=/tools,target=/mnt/tools cat /mnt/tools/version > /from-stage
            RUN --mount=type=bind,from={Image},source=/bin,target=/mnt/image ls /mnt/image/busybox > /from-image
            RUN --mount=type=bind,source=data,target=/data,rw echo scribble > /data/new.txt && rm /data/file.txt && ls /data > /rw-seen
            RUN --mount=type=bind,from=tools,target=/t,rw echo changed > /t/tools/version && cat /t/tools/version > /rw-from
            RUN --mount=type=bind,from=tools,target=/t cat /t/tools/version >> /rw-from
            CMD ["cat", "/from-stage", "/from-image", "/rw-seen", "/rw-from", "/bound"]
            """;
        var context = BuildContextWith(dockerfile, ("data/file.txt", "context file\n"));
        await Ok("build", "-t", "binds:1", context);
        Assert.Equal("tool v1\n/mnt/image/busybox\nnew.txt\nchanged\ntool v1\ncontext file\n", (await Ok("run", "--rm", "binds:1")).Stdout);
        Assert.Equal("context file\n", File.ReadAllText(Path.Combine(context, "data", "file.txt")));
        Assert.False(File.Exists(Path.Combine(context, "data", "new.txt")));
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "run", "--rm", "binds:1", "ls", "/mnt/tools/version")).ExitCode);
        Assert.Empty(Directory.Exists(Path.Combine(Root, "build", "rw-mounts")) ? Directory.GetFileSystemEntries(Path.Combine(Root, "build", "rw-mounts")) : []);
        Assert.DoesNotContain(Path.Combine(Root, "build", "rw-mounts"), File.ReadAllText("/proc/self/mountinfo"));

        // The mounted stage changed: the steps that mount it run again (its image ID is in their keys); so does the
        // step whose context bind shows a changed file.
        File.WriteAllText(Path.Combine(context, "Dockerfile"), dockerfile.Replace("tool v1", "tool v2"));
        File.WriteAllText(Path.Combine(context, "data", "file.txt"), "changed in the context\n");
        await Ok("build", "-t", "binds:2", context);
        var rebuilt = (await Ok("run", "--rm", "binds:2")).Stdout;
        Assert.StartsWith("tool v2\n", rebuilt);
        Assert.EndsWith("changed in the context\n", rebuilt);

        await BuildFails(BuildContextWith($"FROM {Image}\nRUN --mount=type=bind,from=127.0.0.1:1/no-such-stage,target=/x true\n"), "Dockerfile:2", "no-such-stage");
    }

    [Fact]
    public async Task ASecretAsAnEnvironmentVariableIsSeenByItsStepAloneAndNeverKept()
    {
        var secretFile = Path.Combine(_temp.Path, "env-token");
        File.WriteAllText(secretFile, "s3cr3t-env-value");
        var context = BuildContextWith($$"""
            FROM {{Image}}
            ENV TOKEN=image-value
            RUN --mount=type=secret,id=token,env=TOKEN,target=/run/tok echo "${#TOKEN} $([ "$TOKEN" = "$(cat /run/tok)" ] && echo same)" > /seen
            RUN echo "$TOKEN" > /after
            RUN --mount=type=secret,id=absent,env=ABSENT echo "${ABSENT:-unset}" > /optional
            """);
        var built = await Ok("build", "-t", "envsecret:1", "--secret", $"id=token,src={secretFile}", context);
        Assert.DoesNotContain("s3cr3t", built.Stderr);
        Assert.Equal("16 same\nimage-value\nunset\n", (await Ok("run", "--rm", "envsecret:1", "cat", "/seen", "/after", "/optional")).Stdout);
        var config = JsonDocument.Parse((await Ok("image", "inspect", "envsecret:1")).Stdout).RootElement[0].GetProperty("Config");
        Assert.Equal(["TOKEN=image-value"], config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()).Where(e => e!.StartsWith("TOKEN", StringComparison.Ordinal)));
        Assert.DoesNotContain("s3cr3t", (await Ok("history", "--no-trunc", "envsecret:1")).Stdout);
        var saved = Path.Combine(_temp.Path, "envsecret.tar");
        await Ok("save", "-o", saved, "envsecret:1");
        Assert.DoesNotContain("s3cr3t-env-value", await GunzippedText(saved));
        Assert.DoesNotContain("s3cr3t-env-value", string.Join('\n', Directory.EnumerateFiles(Path.Combine(Root, "build"), "*", SearchOption.AllDirectories).Select(File.ReadAllText)));

        // Another value: the same key, the step is not run again.
        File.WriteAllText(secretFile, "other-env-value!");
        Assert.Contains("CACHED", (await Ok("build", "-t", "envsecret:2", "--secret", $"id=token,src={secretFile}", context)).Stderr);

        await BuildFails(BuildContextWith($"FROM {Image}\nRUN --mount=type=secret,id=needed,env=NEEDED,required true\n"), "Dockerfile:2", "\"needed\" is required");
    }

    [Fact]
    public async Task AnAddOfSeveralUrlsAndALocalFileFillsADirectoryAndADownloadIsInTheKeyByContent()
    {
        using var listener = new System.Net.HttpListener();
        int port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        string two = "two v1\n";
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext request;
                try
                {
                    request = await listener.GetContextAsync();
                }
                catch (Exception stopped) when (stopped is System.Net.HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                var path = request.Request.Url!.AbsolutePath;
                var body = System.Text.Encoding.UTF8.GetBytes(path == "/one.txt" ? "one\n" : Volatile.Read(ref two));
                request.Response.StatusCode = path is "/one.txt" or "/sub/two.txt" ? 200 : 404;
                await request.Response.OutputStream.WriteAsync(body);
                request.Response.Close();
            }
        });
        var context = BuildContextWith($"""
            FROM {Image}
            ADD http://127.0.0.1:{port}/one.txt local.txt http://127.0.0.1:{port}/sub/two.txt /dest/
            CMD ["sh", "-c", "ls /dest && cat /dest/one.txt /dest/local.txt /dest/two.txt"]
            """, ("local.txt", "local\n"));
        await Ok("build", "-t", "urls:1", context);
        Assert.Equal("local.txt\none.txt\ntwo.txt\none\nlocal\ntwo v1\n", (await Ok("run", "--rm", "urls:1")).Stdout);

        Assert.Contains("CACHED", (await Ok("build", "-t", "urls:2", context)).Stderr);
        Volatile.Write(ref two, "two v2\n");
        await Ok("build", "-t", "urls:3", context);
        Assert.EndsWith("two v2\n", (await Ok("run", "--rm", "urls:3")).Stdout);

        var notDirectory = await Skiff.RunAsync(Root, "build", BuildContextWith($"FROM {Image}\nADD http://127.0.0.1:{port}/one.txt http://127.0.0.1:{port}/sub/two.txt /dest\n"));
        Assert.Equal(1, notDirectory.ExitCode);
        Assert.Contains("Dockerfile:2", notDirectory.Stderr);
        Assert.Contains("ending in /", notDirectory.Stderr);
        Assert.Empty(Directory.Exists(Path.Combine(Root, "build", "downloads")) ? Directory.GetFileSystemEntries(Path.Combine(Root, "build", "downloads")) : []);
        listener.Stop();
        await serving;
    }
}
