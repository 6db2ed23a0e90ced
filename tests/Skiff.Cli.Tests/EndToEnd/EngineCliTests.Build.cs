using System.Text.Json;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>`skiff build` through bin/skiff (issue 14): Dockerfiles built FROM the test's busybox image, run, inspected, rebuilt.</summary>
public sealed partial class EngineCliTests
{
    private string BuildContextWith(string dockerfile, params (string Path, string Content)[] files)
    {
        var context = Path.Combine(_temp.Path, "ctx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(context);
        File.WriteAllText(Path.Combine(context, "Dockerfile"), dockerfile);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(context, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        return context;
    }

    [Fact]
    public async Task ADockerfileOfEveryMetadataInstructionCopyAndRunBuildsRunsAndRebuildsFromTheCache()
    {
        var context = BuildContextWith($$"""
            # syntax=docker/dockerfile:1
            ARG BASE={{Image}}
            FROM ${BASE} AS base
            ARG GREETING=hello
            ENV APP=/app NAME="two words"
            WORKDIR $APP
            COPY greet.txt ./
            COPY dir/ sub/
            RUN echo "$GREETING from $NAME" > made.txt && \
                cat greet.txt
            LABEL org.test=yes
            EXPOSE 8080/udp 80
            VOLUME /data
            USER nobody
            STOPSIGNAL SIGINT
            HEALTHCHECK --interval=5s CMD true
            ENTRYPOINT ["sh", "-c"]
            CMD ["cat /app/made.txt; ls /app/sub"]
            """, ("greet.txt", "greetings from the context\n"), ("dir/a.txt", "a\n"), ("dir/b.txt", "b\n"));

        var first = await Ok("build", "-t", "built:1", "--build-arg", "GREETING=hi", context);
        Assert.Contains("greetings from the context", first.Stderr); // the RUN's output, streamed
        Assert.Equal("hi from two words\na.txt\nb.txt\n", (await Ok("run", "--rm", "built:1")).Stdout);
        // The steps' images are intermediate, as docker's: listed only with -a.
        Assert.DoesNotContain("<none>", (await Ok("images")).Stdout);
        Assert.Contains("<none>", (await Ok("images", "-a")).Stdout);

        var config = JsonDocument.Parse((await Ok("image", "inspect", "built:1")).Stdout).RootElement[0].GetProperty("Config");
        Assert.Contains("APP=/app", config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("NAME=two words", config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(config.GetProperty("Env").EnumerateArray(), e => e.GetString()!.StartsWith("GREETING", StringComparison.Ordinal));
        Assert.Equal("/app", config.GetProperty("WorkingDir").GetString());
        Assert.Equal("nobody", config.GetProperty("User").GetString());
        Assert.Equal("SIGINT", config.GetProperty("StopSignal").GetString());
        Assert.Equal("yes", config.GetProperty("Labels").GetProperty("org.test").GetString());
        Assert.Equal(["80/tcp", "8080/udp"], config.GetProperty("ExposedPorts").EnumerateObject().Select(p => p.Name).Order());
        Assert.True(config.GetProperty("Volumes").TryGetProperty("/data", out _));
        Assert.Equal(["sh", "-c"], config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(5_000_000_000, config.GetProperty("Healthcheck").GetProperty("Interval").GetInt64());
        var history = (await Ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "built:1")).Stdout;
        Assert.Contains("COPY greet.txt ./", history);
        Assert.Contains("ENV APP=/app NAME=two words", history);
        Assert.Contains("RUN /bin/sh -c echo \"$GREETING from $NAME\" > made.txt &&", history);
        Assert.Contains("CMD [\"cat /app/made.txt; ls /app/sub\"]", history);

        // Unchanged: every step from the cache, nothing runs, the same image.
        string id = (await Ok("image", "inspect", "-f", "{{.Id}}", "built:1")).Stdout.Trim();
        var again = await Ok("build", "-t", "built:2", "--build-arg", "GREETING=hi", context);
        Assert.DoesNotContain("greetings from the context", again.Stderr);
        Assert.Equal(id, (await Ok("image", "inspect", "-f", "{{.Id}}", "built:2")).Stdout.Trim());

        // One COPY source changed: that step and the ones after it run again, the ones before come from the cache.
        File.WriteAllText(Path.Combine(context, "greet.txt"), "changed\n");
        var changed = await Ok("build", "-t", "built:3", "--build-arg", "GREETING=hi", context);
        Assert.Contains("changed", changed.Stderr);
        Assert.NotEqual(id, (await Ok("image", "inspect", "-f", "{{.Id}}", "built:3")).Stdout.Trim());
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
    }

    [Fact]
    public async Task MultiStageBuildsCopyFromAnEarlierStageAndStopAtTheTarget()
    {
        var context = BuildContextWith($"""
            FROM {Image} AS builder
            RUN mkdir -p /out && echo built-in-builder > /out/artifact
            FROM {Image} AS unused
            RUN exit 7
            FROM scratch AS files
            COPY note.txt /notes/
            FROM {Image}
            COPY --from=builder /out/artifact /artifact
            COPY --from=files /notes/note.txt /note.txt
            CMD ["cat", "/artifact", "/note.txt"]
            """, ("note.txt", "from scratch\n"));
        await Ok("build", "-t", "multi:1", context);
        Assert.Equal("built-in-builder\nfrom scratch\n", (await Ok("run", "--rm", "multi:1")).Stdout);
        await Ok("build", "-t", "multi:files", "--target", "files", context);
        var layers = JsonDocument.Parse((await Ok("image", "inspect", "multi:files")).Stdout).RootElement[0].GetProperty("RootFS").GetProperty("Layers");
        Assert.Equal(1, layers.GetArrayLength()); // FROM scratch: the COPY's layer alone
        Assert.Equal("[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]", (await Ok("image", "inspect", "-f", "{{.Config.Env}}", "multi:files")).Stdout.Trim());

        // --output: the final root filesystem as files or a tar, the image as docker save writes it.
        var local = Path.Combine(_temp.Path, "out-local");
        var tarFile = Path.Combine(_temp.Path, "out.tar");
        var dockerFile = Path.Combine(_temp.Path, "out-docker.tar");
        await Ok("build", "--target", "files", "-o", local, "-o", $"type=tar,dest={tarFile}", "--output", $"type=docker,dest={dockerFile}", "-t", "multi:out", context);
        Assert.Equal("from scratch\n", File.ReadAllText(Path.Combine(local, "notes", "note.txt")));
        var names = new List<string>();
        using (var tar = new System.Formats.Tar.TarReader(File.OpenRead(tarFile)))
            while (tar.GetNextEntry() is { } entry)
                names.Add(entry.Name.TrimStart('.', '/'));
        Assert.Contains("notes/note.txt", names);
        using (var tar = new System.Formats.Tar.TarReader(File.OpenRead(dockerFile)))
        {
            var entries = new List<string>();
            while (tar.GetNextEntry() is { } entry)
                entries.Add(entry.Name);
            Assert.Contains("manifest.json", entries);
        }
        var badOutput = await Skiff.RunAsync(Root, "build", "-o", "type=registry,dest=x", context);
        Assert.Equal(1, badOutput.ExitCode);
        Assert.Contains("type=registry", badOutput.Stderr);
        var filtered = await Ok("build", "-t", "multi:1", "--no-cache-filter", "builder", context);
        // Stages of one wave build at once, so step numbers interleave: each step's end is found by its number.
        string StepNumber(string pattern) => System.Text.RegularExpressions.Regex.Match(filtered.Stderr, @"#(\d+) " + pattern).Groups[1].Value;
        Assert.Contains($"#{StepNumber(@"\[builder \d+/\d+\] RUN")} DONE", filtered.Stderr); // builder's RUN ran again
        Assert.Contains($"#{StepNumber(@"\[files \d+/\d+\] COPY")} CACHED", filtered.Stderr);
        await Ok("build", "-t", "multi:builder", "--target", "builder", context);
        Assert.Equal("built-in-builder\n", (await Ok("run", "--rm", "multi:builder", "cat", "/out/artifact")).Stdout);
    }

    [Fact]
    public async Task AFailingRunOrABadDockerfileFailsWithFileAndLineAndLeavesNoContainerOrTag()
    {
        var failing = BuildContextWith($"""
            FROM {Image}
            RUN echo before
            RUN exit 3
            """);
        var result = await Skiff.RunAsync(Root, "build", "-t", "broken:1", failing);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Dockerfile:3", result.Stderr);
        Assert.Contains("3", result.Stderr);
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "image", "inspect", "broken:1")).ExitCode);

        var unknown = await Skiff.RunAsync(Root, "build", BuildContextWith($"FROM {Image}\nFORM x\n"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("Dockerfile:2", unknown.Stderr);

        var missingSource = await Skiff.RunAsync(Root, "build", BuildContextWith($"FROM {Image}\nCOPY ../outside /x\n"));
        Assert.Equal(1, missingSource.ExitCode);
        Assert.Contains("Dockerfile:2", missingSource.Stderr);

        var missingBase = await Skiff.RunAsync(Root, "build", BuildContextWith("FROM 127.0.0.1:1/no/such:image\n"));
        Assert.Equal(1, missingBase.ExitCode);
        Assert.Contains("Dockerfile:1", missingBase.Stderr);

        string otherArchitecture = global::Skiff.Oci.Image.Platform.Host.Architecture == "s390x" ? "riscv64" : "s390x";
        var otherPlatform = await Skiff.RunAsync(Root, "build", "-t", "broken:1", "--platform", "linux/" + otherArchitecture, BuildContextWith($"FROM {Image}\nRUN true\n"));
        Assert.Equal(1, otherPlatform.ExitCode);
        Assert.Contains($"linux/{otherArchitecture} is not this host's", otherPlatform.Stderr);
        var hostPlatform = await Skiff.RunAsync(Root, "build", "-q", "--platform", global::Skiff.Oci.Image.Platform.Host.ToString(), BuildContextWith($"FROM {Image}\n"));
        Assert.Equal(0, hostPlatform.ExitCode);
    }

    [Fact]
    public async Task ACacheMountKeepsItsContentsBetweenBuildsAndStaysOutOfTheImage()
    {
        var context = BuildContextWith($"""
            FROM {Image}
            RUN --mount=type=cache,target=/cache echo run >> /cache/log && cat /cache/log | busybox wc -l > /count
            """);
        await Ok("build", "-t", "cached:1", context);
        await Ok("build", "--no-cache", "-t", "cached:2", context);
        Assert.Equal("1\n", (await Ok("run", "--rm", "cached:1", "cat", "/count")).Stdout);
        Assert.Equal("2\n", (await Ok("run", "--rm", "cached:2", "cat", "/count")).Stdout);
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "run", "--rm", "cached:2", "cat", "/cache/log")).ExitCode);

        var df = (await Ok("system", "df")).Stdout.Split('\n').Single(line => line.StartsWith("Build Cache", StringComparison.Ordinal));
        Assert.Matches(@"^Build Cache\s+[1-9]\d*\s+0\s+\d", df);

        // A cache mount a build holds (its lock, as a running step takes it) is not pruned.
        var mountDirectory = Directory.GetDirectories(Path.Combine(Root, "build", "cache-mounts")).Single();
        using (new FileStream(Path.Combine(mountDirectory, "lock"), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            Assert.DoesNotContain("cache mount", (await Ok("builder", "prune", "-f")).Stdout);
            Assert.True(File.Exists(Path.Combine(mountDirectory, "data", "log")));
        }

        // builder prune forgets the steps and empties the cache mounts: the next build runs from scratch.
        await Ok("rmi", "cached:2");
        var pruned = await Ok("builder", "prune", "-f");
        Assert.Contains("1 cache mount(s)", pruned.Stdout);
        var rebuilt = await Ok("build", "-t", "cached:3", context);
        Assert.DoesNotContain("CACHED", rebuilt.Stderr);
        Assert.Equal("1\n", (await Ok("run", "--rm", "cached:3", "cat", "/count")).Stdout);
    }

    [Fact]
    public async Task ASecretIsSeenByItsStepAndNeverInALayerHistoryOrTheCacheKey()
    {
        var secretFile = Path.Combine(_temp.Path, "token");
        File.WriteAllText(secretFile, "s3cr3t-value");
        var context = BuildContextWith($"""
            FROM {Image}
            RUN --mount=type=secret,id=token,uid=65534,mode=0400 busybox wc -c /run/secrets/token > /seen && ls -ln /run/secrets/token >> /seen
            RUN --mount=type=secret,id=absent true
            """);
        var built = await Ok("build", "-t", "secret:1", "--secret", $"id=token,src={secretFile}", context);
        Assert.DoesNotContain("s3cr3t", built.Stderr);
        var seen = (await Ok("run", "--rm", "secret:1", "cat", "/seen")).Stdout;
        Assert.Contains("12 /run/secrets/token", seen);
        Assert.Contains("-r-------- ", seen);
        Assert.Contains(" 65534 ", seen);
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "run", "--rm", "secret:1", "ls", "/run/secrets/token")).ExitCode);
        Assert.DoesNotContain("s3cr3t", (await Ok("history", "--no-trunc", "secret:1")).Stdout);
        var saved = Path.Combine(_temp.Path, "secret.tar");
        await Ok("save", "-o", saved, "secret:1");
        Assert.DoesNotContain("s3cr3t-value", await GunzippedText(saved));
        Assert.Empty(Directory.Exists(Path.Combine(Skiff.RunRootOf(Root), "build-secrets")) ? Directory.GetFileSystemEntries(Path.Combine(Skiff.RunRootOf(Root), "build-secrets")) : []);

        // Another value of the secret does not change the cache key: the step is not run again, as docker's.
        File.WriteAllText(secretFile, "other-value!");
        var again = await Ok("build", "-t", "secret:2", "--secret", $"id=token,src={secretFile}", context);
        Assert.Contains("CACHED", again.Stderr);

        var missing = await Skiff.RunAsync(Root, "build", "--secret", "id=token,src=/no/such/file", context);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("/no/such/file", missing.Stderr);
    }

    [Fact]
    public async Task AContextOrADockerfileOnStdinAndAnAddOfAUrlBuild()
    {
        var context = BuildContextWith($"FROM {Image}\nCOPY in-tar.txt /\nCMD [\"cat\", \"/in-tar.txt\"]\n", ("in-tar.txt", "from the tar stream\n"));
        var shell = $"tar -C '{context}' -c . | '{Skiff.Binary}' --root '{Root}' --runroot '{Skiff.RunRootOf(Root)}' build -q -t fromtar:1 -";
        using (var build = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", shell]) { RedirectStandardError = true, RedirectStandardOutput = true })!)
        {
            string stdout = await build.StandardOutput.ReadToEndAsync(), stderr = await build.StandardError.ReadToEndAsync();
            await build.WaitForExitAsync();
            Assert.True(build.ExitCode == 0, stderr);
            Assert.StartsWith("sha256:", stdout.Trim());
        }
        Assert.Equal("from the tar stream\n", (await Ok("run", "--rm", "fromtar:1")).Stdout);

        // The Dockerfile on stdin, the context a directory; ADD of a URL from a server this test runs on loopback.
        using var listener = new System.Net.HttpListener();
        int port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                var request = await listener.GetContextAsync();
                var body = "downloaded\n"u8.ToArray();
                request.Response.StatusCode = request.Request.Url!.AbsolutePath == "/file.txt" ? 200 : 404;
                await request.Response.OutputStream.WriteAsync(body);
                request.Response.Close();
            }
        });
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("downloaded\n"u8.ToArray()));
        var dockerfile = $"FROM {Image}\nADD --checksum=sha256:{sha} http://127.0.0.1:{port}/file.txt /data/\nCMD [\"cat\", \"/data/file.txt\"]\n";
        await Skiff.RunWithInputAsync(Root, dockerfile, "build", "-t", "fromurl:1", "-f", "-", context).ContinueWith(t => Assert.True(t.Result.ExitCode == 0, t.Result.Stderr));
        Assert.Equal("downloaded\n", (await Ok("run", "--rm", "fromurl:1")).Stdout);

        var badSum = await Skiff.RunWithInputAsync(Root, dockerfile.Replace(sha, new string('0', 64)), "build", "-f", "-", context);
        Assert.Equal(1, badSum.ExitCode);
        Assert.Contains("Dockerfile:2", badSum.Stderr);
        var missing = await Skiff.RunWithInputAsync(Root, dockerfile.Replace("file.txt /data", "nothing.txt /data").Replace($"--checksum=sha256:{sha} ", ""), "build", "-f", "-", context);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("404", missing.Stderr);
        listener.Stop();
    }

    /// <summary>Every file of an image archive and, for gzip layers, their contents, as one text to search.</summary>
    private static async Task<string> GunzippedText(string archive)
    {
        var text = new System.Text.StringBuilder();
        using var tar = new System.Formats.Tar.TarReader(File.OpenRead(archive));
        while (await tar.GetNextEntryAsync(copyData: true) is { } entry)
        {
            if (entry.DataStream is null)
                continue;
            var bytes = new MemoryStream();
            await entry.DataStream.CopyToAsync(bytes);
            text.Append(System.Text.Encoding.Latin1.GetString(bytes.ToArray()));
            if (bytes.Length > 2 && bytes.GetBuffer()[0] == 0x1f && bytes.GetBuffer()[1] == 0x8b)
            {
                bytes.Position = 0;
                using var gzip = new System.IO.Compression.GZipStream(bytes, System.IO.Compression.CompressionMode.Decompress);
                var plain = new MemoryStream();
                await gzip.CopyToAsync(plain);
                text.Append(System.Text.Encoding.Latin1.GetString(plain.ToArray()));
            }
        }
        return text.ToString();
    }
}
