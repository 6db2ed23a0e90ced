using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>`skiff build --squash`, `--cache-from` and the tty progress view, through bin/skiff.</summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task SquashKeepsTheBaseLayersAndMakesTheBuildsLayersOneWithoutWhatALaterStepDeleted()
    {
        var context = BuildContextWith($"""
            FROM {Image}
            RUN echo one > /one && echo temporary > /temp && mkdir /scratch && echo x > /scratch/file && rm /bin/cat
            COPY a.txt /a.txt
            RUN rm -r /temp /scratch && echo two > /two
            ENV SQUASHED=yes
            CMD ["sh", "-c", "cat /one /two /a.txt"]
            """, ("a.txt", "from the context\n"));
        await Ok("build", "-t", "unsquashed:1", context);
        var squash = await Ok("build", "--squash", "-t", "squashed:1", context);
        Assert.Equal(5, CountOf(squash.Stderr, "CACHED")); // the steps came from the first build's cache: only the final image is squashed

        var baseLayers = LayerIds(await Ok("image", "inspect", Image));
        var unsquashed = LayerIds(await Ok("image", "inspect", "unsquashed:1"));
        var squashed = LayerIds(await Ok("image", "inspect", "squashed:1"));
        Assert.Equal(baseLayers.Count + 3, unsquashed.Count);
        Assert.Equal(baseLayers.Count + 1, squashed.Count);
        Assert.Equal(baseLayers, squashed[..baseLayers.Count]);

        Assert.Equal("one\ntwo\nfrom the context\n", (await Ok("run", "--rm", "squashed:1")).Stdout);
        Assert.Equal("yes\n", (await Ok("run", "--rm", "squashed:1", "sh", "-c", "echo $SQUASHED")).Stdout);
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "run", "--rm", "squashed:1", "ls", "/temp", "/scratch", "/bin/cat")).ExitCode);

        var archive = Path.Combine(_temp.Path, "squashed.tar");
        await Ok("save", "-o", archive, "squashed:1");
        var (config, lastLayer) = ArchiveConfigAndLastLayer(archive);
        Assert.Contains("one", lastLayer);
        Assert.Contains("two", lastLayer);
        Assert.Contains("a.txt", lastLayer);
        Assert.Contains("bin/.wh.cat", lastLayer); // a deletion of the base's file stays a whiteout
        Assert.DoesNotContain(lastLayer, name => name.Contains("temp", StringComparison.Ordinal) || name.Contains("scratch", StringComparison.Ordinal));

        // docker's history: every entry kept, those of the build marked empty, one more for the squashed layer.
        var history = config["history"]!.AsArray();
        int baseHistory = history.Count - 6;
        Assert.All(history.Skip(baseHistory).Take(5), entry => Assert.True(entry!["empty_layer"]?.GetValue<bool>() == true, entry!.ToJsonString()));
        Assert.Contains("RUN /bin/sh -c rm -r /temp /scratch", history[baseHistory + 2]!["created_by"]!.GetValue<string>());
        Assert.Null(history[^1]!["empty_layer"]);
        Assert.StartsWith("merge sha256:", history[^1]!["comment"]!.GetValue<string>());
        Assert.Equal(squashed.Count, history.Count(entry => entry!["empty_layer"] is null));

        // Squashed again from the cache: the same files in the squashed layer.
        var again = await Ok("build", "--squash", "-t", "squashed:2", context);
        Assert.Equal(5, CountOf(again.Stderr, "CACHED"));
        await Ok("save", "-o", archive, "squashed:2");
        Assert.Equal(lastLayer, ArchiveConfigAndLastLayer(archive).LastLayer);
    }

    [Fact]
    public async Task TheTtyProgressViewShowsEveryStepWithItsTimeOnATerminalAndIsRefusedWithoutOne()
    {
        var context = BuildContextWith($"""
            FROM {Image}
            RUN echo tty-step-output && sleep 1
            COPY a.txt /a.txt
            """, ("a.txt", "a\n"));
        using (var terminal = new TerminalSession(_temp.Path, $"{SkiffCommand($"build --progress=tty -t ttyview:1 {context}")}; echo skiff-exit-$?; exec sleep 1000"))
        {
            var screen = terminal.WaitFor("skiff-exit-");
            Assert.Contains("skiff-exit-0", screen);
            Assert.Matches(@"\[\+\] Building \d+\.\ds \(3/3\) FINISHED", screen);
            Assert.Matches(@" => \[1/3\] FROM local/busybox:test +\d+\.\ds", screen);
            Assert.Matches(@" => \[2/3\] RUN echo tty-step-output && sleep 1 +[1-9]\d*\.\ds", screen);
            Assert.Matches(@" => \[3/3\] COPY a\.txt /a\.txt +\d+\.\ds", screen);
            Assert.DoesNotContain("#2 ", screen); // not the plain lines
            Assert.DoesNotContain("\x1b", screen);
        }

        // auto on a terminal is the tty view too: the rebuild's steps are CACHED in it.
        using (var terminal = new TerminalSession(_temp.Path, $"{SkiffCommand($"build -t ttyview:2 {context}")}; echo skiff-exit-$?; exec sleep 1000"))
        {
            var screen = terminal.WaitFor("skiff-exit-");
            Assert.Contains("skiff-exit-0", screen);
            Assert.Matches(@" => CACHED \[2/3\] RUN echo tty-step-output && sleep 1 +0\.0s", screen);
            Assert.Matches(@" => CACHED \[3/3\] COPY a\.txt /a\.txt +0\.0s", screen);
        }

        // Without a terminal: plain lines for auto; tty is an error, as buildx's, and nothing is built.
        var plain = await Ok("build", "-t", "ttyview:3", context);
        Assert.Contains("#2 CACHED", plain.Stderr);
        var refused = await Skiff.RunAsync(Root, "build", "--progress=tty", "-t", "ttyview:4", context);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("needs a terminal", refused.Stderr);
        Assert.NotEqual(0, (await Skiff.RunAsync(Root, "image", "inspect", "ttyview:4")).ExitCode);
    }

    [Fact]
    public async Task CacheFromTakesStepsFromAnImageWithInlineCacheMetadataButNeverAChangedCopy()
    {
        var context = BuildContextWith($"""
            FROM {Image}
            RUN echo first-$((1+1))-ran && echo r > /r
            COPY a.txt /a.txt
            RUN echo second-$((1+1))-ran && cat /a.txt > /copied
            CMD ["cat", "/r", "/copied"]
            """, ("a.txt", "from the context\n"));
        await Ok("build", "--cache-to", "type=inline", "-t", "cachesrc:1", context);
        var archive = Path.Combine(_temp.Path, "cachesrc.tar");
        await Ok("save", "-o", archive, "cachesrc:1");
        var (config, _) = ArchiveConfigAndLastLayer(archive);
        Assert.Equal(4, config["skiff.build.cache.v0"]!["steps"]!.AsArray().Count);
        var sourceLayers = LayerIds(await Ok("image", "inspect", "cachesrc:1"));

        // A store that never built it: the image loaded from its archive, no step image, no cache entry.
        await Ok("rmi", "cachesrc:1");
        await Ok("builder", "prune", "-af");
        await Ok("load", "-i", archive);
        var hit = await Ok("build", "--cache-from", "cachesrc:1", "-t", "cachehit:1", context);
        Assert.Equal(4, CountOf(hit.Stderr, "CACHED"));
        Assert.DoesNotContain("-2-ran", hit.Stderr); // no RUN ran
        Assert.Equal(sourceLayers, LayerIds(await Ok("image", "inspect", "cachehit:1")));
        Assert.Equal("r\nfrom the context\n", (await Ok("run", "--rm", "cachehit:1")).Stdout);
        // The steps taken are in this store's cache now.
        Assert.Equal(4, CountOf((await Ok("build", "-t", "cachehit:2", context)).Stderr, "CACHED"));

        // A changed COPY source is not in the cache image: that step and the ones after it run.
        File.WriteAllText(Path.Combine(context, "a.txt"), "changed\n");
        var changed = await Ok("build", "--cache-from", "cachesrc:1", "-t", "cachemiss:1", context);
        Assert.Equal(1, CountOf(changed.Stderr, "CACHED"));
        Assert.DoesNotContain("first-2-ran", changed.Stderr);
        Assert.Contains("second-2-ran", changed.Stderr);
        var changedLayers = LayerIds(await Ok("image", "inspect", "cachemiss:1"));
        Assert.Equal(sourceLayers[..^2], changedLayers[..^2]);
        Assert.NotEqual(sourceLayers[^2], changedLayers[^2]);
        Assert.Equal("r\nchanged\n", (await Ok("run", "--rm", "cachemiss:1")).Stdout);
    }

    [Fact]
    public async Task CacheFromAnImageWithoutMetadataMatchesItsHistoryForRunButNotForCopy()
    {
        var context = BuildContextWith($"""
            FROM {Image}
            RUN echo first-$((1+1))-ran && echo r > /r
            ENV STAGE=classic
            COPY a.txt /a.txt
            RUN echo second-$((1+1))-ran
            """, ("a.txt", "a\n"));
        await Ok("build", "-t", "classic:1", context);
        var archive = Path.Combine(_temp.Path, "classic.tar");
        await Ok("save", "-o", archive, "classic:1");
        await Ok("rmi", "classic:1");
        await Ok("builder", "prune", "-af");
        await Ok("load", "-i", archive);

        var result = await Ok("build", "--cache-from", "classic:1", "-t", "classic:2", context);
        Assert.Equal(2, CountOf(result.Stderr, "CACHED")); // the RUN and the ENV
        Assert.DoesNotContain("first-2-ran", result.Stderr);
        Assert.Contains("second-2-ran", result.Stderr); // after the COPY, which history cannot vouch for
        var before = LayerIds(await Ok("image", "inspect", "classic:1"));
        var after = LayerIds(await Ok("image", "inspect", "classic:2"));
        Assert.Equal(before[..^2], after[..^2]);
    }

    [Fact]
    public async Task CacheFlagsOfOtherKindsAreRefusedAndAMissingCacheImageIsOnlyAWarning()
    {
        var context = BuildContextWith($"FROM {Image}\nRUN true\n");
        var refused = await Skiff.RunAsync(Root, "build", "--cache-to", "type=registry,ref=x", context);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("type=inline", refused.Stderr);
        var missing = await Ok("build", "--cache-from", "localhost:1/nothing/here:1", "-t", "nocache:1", context);
        Assert.Contains("--cache-from localhost:1/nothing/here:1", missing.Stderr);
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    private static List<string> LayerIds(Skiff.Result inspect)
        => [.. JsonDocument.Parse(inspect.Stdout).RootElement[0].GetProperty("RootFS").GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!)];

    /// <summary>A docker archive's image config, and the entry names of its image's topmost layer.</summary>
    private static (JsonObject Config, List<string> LastLayer) ArchiveConfigAndLastLayer(string archive)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var tar = new TarReader(File.OpenRead(archive)))
            while (tar.GetNextEntry(copyData: true) is { } entry)
                if (entry.DataStream is { } data)
                {
                    var bytes = new MemoryStream();
                    data.CopyTo(bytes);
                    files[entry.Name] = bytes.ToArray();
                }
        var manifest = JsonNode.Parse(files["manifest.json"])!.AsArray()[0]!;
        var config = JsonNode.Parse(files[manifest["Config"]!.GetValue<string>()])!.AsObject();
        var layer = files[manifest["Layers"]!.AsArray()[^1]!.GetValue<string>()];
        Stream stream = new MemoryStream(layer);
        if (layer is [0x1f, 0x8b, ..])
            stream = new GZipStream(stream, CompressionMode.Decompress);
        var names = new List<string>();
        using (var tar = new TarReader(stream))
            while (tar.GetNextEntry() is { } entry)
                names.Add(entry.Name.TrimEnd('/'));
        return (config, names);
    }
}
