using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Metadata;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>bin/skiff as a user runs it: output shapes, exit codes, and what a killed or failing pull leaves behind.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempDir _temp = new();

    private string Root => Path.Combine(_temp.Path, "root");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task PullListInspectTagHistoryAndRemove()
    {
        using var registry = await RegistryProcess.StartAsync();
        var image = TestImage.Layered();
        using (var pusher = new TestPusher(registry.BaseUri))
            await pusher.PushImageAsync("test/app", "1", image);
        string name = $"{registry.Host}/test/app:1";
        string id = image.ConfigDigest.Encoded;

        var pull = await Skiff.RunAsync(Root, "pull", "--tls-verify=false", name);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        Assert.Equal(3, pull.Stdout.Split('\n').Count(line => line.EndsWith(": Pull complete")));
        Assert.Contains($"Status: Downloaded newer image for {name}", pull.Stdout);
        Assert.Equal(id, pull.Stdout.Trim().Split('\n')[^1]);

        var again = await Skiff.RunAsync(Root, "image", "pull", "-q", "--tls-verify=false", name);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(id + "\n", again.Stdout);
        // The issue's target is 0.1 s on an idle machine; tests share a busy one, so this only catches a re-download.
        Assert.True(again.Elapsed < TimeSpan.FromSeconds(2), $"second pull took {again.Elapsed.TotalMilliseconds:0} ms");

        var table = await Skiff.RunAsync(Root, "images");
        var lines = table.Stdout.TrimEnd().Split('\n');
        Assert.Matches(@"^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$", lines[0]);
        Assert.Matches($@"^{Regex(registry.Host)}/test/app\s+1\s+{id[..12]}\s+\S.* ago\s+\d+(\.\d+)?B$", lines[1]);
        Assert.Equal(id[..12] + "\n", (await Skiff.RunAsync(Root, "images", "-qa")).Stdout);
        Assert.Contains(image.ManifestDigest.ToString(), (await Skiff.RunAsync(Root, "images", "--digests")).Stdout);

        using (var json = JsonDocument.Parse((await Skiff.RunAsync(Root, "image", "ls", "--format", "json")).Stdout))
        {
            var entry = Assert.Single(json.RootElement.EnumerateArray());
            Assert.Equal(id, entry.GetProperty("Id").GetString());
            Assert.Equal([name], entry.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));
            Assert.True(entry.GetProperty("Size").GetInt64() > 0);
        }

        var inspect = await Skiff.RunAsync(Root, "image", "inspect", id[..12]);
        Assert.True(inspect.ExitCode == 0, inspect.Stderr);
        using (var json = JsonDocument.Parse(inspect.Stdout))
        {
            var entry = Assert.Single(json.RootElement.EnumerateArray());
            Assert.Equal(image.ConfigDigest.ToString(), entry.GetProperty("Id").GetString());
            Assert.Equal([name], entry.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal([$"{registry.Host}/test/app@{image.ManifestDigest}"], entry.GetProperty("RepoDigests").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("2024-01-02T03:04:05Z", entry.GetProperty("Created").GetString());
            Assert.Equal("amd64", entry.GetProperty("Architecture").GetString());
            Assert.Equal("linux", entry.GetProperty("Os").GetString());
            Assert.Equal(["/bin/sh"], entry.GetProperty("Config").GetProperty("Cmd").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(JsonValueKind.Null, entry.GetProperty("Config").GetProperty("Entrypoint").ValueKind);
            Assert.Equal("layers", entry.GetProperty("RootFS").GetProperty("Type").GetString());
            Assert.Equal(3, entry.GetProperty("RootFS").GetProperty("Layers").GetArrayLength());
            Assert.True(entry.GetProperty("Size").GetInt64() > 0);
            Assert.Equal("", entry.GetProperty("Parent").GetString());
            Assert.Equal("0001-01-01T00:00:00Z", entry.GetProperty("Metadata").GetProperty("LastTagTime").GetString());
        }

        Assert.Equal(0, (await Skiff.RunAsync(Root, "tag", name, "local/copy:2")).ExitCode);
        using (var json = JsonDocument.Parse((await Skiff.RunAsync(Root, "image", "inspect", name)).Stdout))
            EngineCliTests.AssertRecentTagTime(json.RootElement[0]);
        Assert.Matches($@"\nlocal/copy\s+2\s+{id[..12]}\s", (await Skiff.RunAsync(Root, "images")).Stdout);
        var ambiguous = await Skiff.RunAsync(Root, "rmi", id[..12]);
        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Single(ambiguous.Stderr.TrimEnd().Split('\n'));
        Assert.Equal("Untagged: local/copy:2\n", (await Skiff.RunAsync(Root, "rmi", "local/copy:2")).Stdout);

        var history = await Skiff.RunAsync(Root, "history", name);
        Assert.True(history.ExitCode == 0, history.Stderr);
        Assert.Matches(@"^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT", history.Stdout);
        Assert.StartsWith(id[..12], history.Stdout.Split('\n')[1]);

        Assert.Matches(@"^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+0\s+", (await Skiff.RunAsync(Root, "system", "df")).Stdout);

        var missing = await Skiff.RunAsync(Root, "image", "inspect", "nothing:here");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("skiff: no such image: nothing:here\n", missing.Stderr);

        var removal = await Skiff.RunAsync(Root, "rmi", name);
        Assert.Equal($"Untagged: {name}\nUntagged: {registry.Host}/test/app@{image.ManifestDigest}\nDeleted: {image.ConfigDigest}\n", removal.Stdout);
        AssertStoreEmpty();
    }

    [Fact]
    public async Task CreatePullsPerItsPullPolicy()
    {
        using var registry = await RegistryProcess.StartAsync();
        using (var pusher = new TestPusher(registry.BaseUri))
            await pusher.PushImageAsync("test/run", "1", TestImage.Layered());
        string name = $"{registry.Host}/test/run:1";
        try
        {
            var never = await Skiff.RunAsync(Root, "create", "--pull", "never", name, "true");
            Assert.Equal(1, never.ExitCode);
            Assert.Equal($"skiff: no such image {name} here, and its pull policy forbids pulling it: pull it first\n", never.Stderr);

            // A pull shows on stderr, as docker run's does: stdout is the container's ID.
            var missing = await Skiff.RunAsync(Root, "create", "--tls-verify=false", name, "true");
            Assert.True(missing.ExitCode == 0, missing.Stderr);
            Assert.StartsWith($"Unable to find image '{name}' locally\n", missing.Stderr);
            Assert.Equal(3, missing.Stderr.Split('\n').Count(line => line.EndsWith(": Pull complete")));
            Assert.Matches("^[0-9a-f]{64}\n$", missing.Stdout);

            var present = await Skiff.RunAsync(Root, "create", "--pull", "missing", name, "true");
            Assert.True(present.ExitCode == 0, present.Stderr);
            Assert.Equal("", present.Stderr);

            var always = await Skiff.RunAsync(Root, "create", "--pull", "always", "--tls-verify=false", name, "true");
            Assert.True(always.ExitCode == 0, always.Stderr);
            Assert.Equal(3, always.Stderr.Split('\n').Count(line => line.EndsWith(": Already exists")));
            // docker says an image is not here only when it is not: --pull always pulls without saying so.
            Assert.DoesNotContain("Unable to find image", always.Stderr);

            // -q: the pull shows nothing.
            var quiet = await Skiff.RunAsync(Root, "create", "--pull", "always", "-q", "--tls-verify=false", name, "true");
            Assert.True(quiet.ExitCode == 0, quiet.Stderr);
            Assert.Equal("", quiet.Stderr);
        }
        finally
        {
            foreach (var id in (await Skiff.RunAsync(Root, "ps", "-aq")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await Skiff.RunAsync(Root, "rm", "-f", id);
        }
    }

    [Fact]
    public async Task AKilledPullLeavesNothingVisibleAndTheNextPullSucceeds()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Create(layers: 2, randomBytes: 4_000_000);
        Serve(registry, "test/slow:1", image);
        var stalled = new TaskCompletionSource();
        registry.Intercept = async context =>
        {
            if (!context.Request.Url!.AbsolutePath.Contains("/blobs/") || context.Request.Url.AbsolutePath.Contains(image.ConfigDigest.Encoded))
                return false;
            // Half of each layer, then nothing: the pull hangs mid-download until it is killed.
            byte[] blob = registry.Blobs[context.Request.Url.AbsolutePath.Split('/')[^1]];
            context.Response.ContentLength64 = blob.Length;
            await context.Response.OutputStream.WriteAsync(blob.AsMemory(0, blob.Length / 2));
            await context.Response.OutputStream.FlushAsync();
            stalled.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30));
            context.Response.Abort();
            return true;
        };

        using (var pull = Skiff.Start(Root, "pull", "--tls-verify=false", $"{registry.Host}/test/slow:1"))
        {
            await stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(300);
            pull.Kill();
            await pull.WaitForExitAsync();
        }

        Assert.Equal("", (await Skiff.RunAsync(Root, "images", "-q")).Stdout);
        using (var service = ImageService.Open(new ImageServiceOptions { Root = Root }))
        {
            Assert.Empty(service.List());
            Assert.Empty(service.Metadata.ListBlobs());
            Assert.Empty(service.Snapshotter.Layers());
            Assert.All(image.Layers, layer => Assert.False(service.Content.Exists(Digest.Compute(layer))));
        }

        registry.Intercept = null;
        var retry = await Skiff.RunAsync(Root, "pull", "-q", "--tls-verify=false", $"{registry.Host}/test/slow:1");
        Assert.True(retry.ExitCode == 0, retry.Stderr);
        Assert.Equal(image.ConfigDigest.Encoded + "\n", retry.Stdout);
        // The halves downloaded before the kill were resumed, not fetched again.
        Assert.Contains(registry.Log, line => line.Contains("range=bytes="));
    }

    [Fact]
    public async Task AFullDiskIsAClearErrorLeavesNothingAndABiggerRootWorks()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Create(layers: 3, randomBytes: 1_500_000);
        Serve(registry, "test/big:1", image);
        string small = Path.Combine(_temp.Path, "small");
        Directory.CreateDirectory(small);
        Mount("tmpfs", small, "size=2m");
        try
        {
            var full = await Skiff.RunAsync(small, "pull", "--tls-verify=false", $"{registry.Host}/test/big:1");
            Assert.Equal(1, full.ExitCode);
            Assert.Matches(@"^skiff: pull .*test/big:1: no space left on the device holding .*small.*\n$", full.Stderr);
            using var service = ImageService.Open(new ImageServiceOptions { Root = small });
            Assert.Empty(service.List());
            Assert.Empty(service.Metadata.ListBlobs());
            Assert.Empty(service.Snapshotter.Layers());
        }
        finally
        {
            Assert.Equal(0, Process.Start("umount", small)!.WaitForExitCode());
        }

        var fits = await Skiff.RunAsync(Root, "pull", "-q", "--tls-verify=false", $"{registry.Host}/test/big:1");
        Assert.True(fits.ExitCode == 0, fits.Stderr);
    }

    [Fact]
    public async Task TwoProcessesPullingTheSameImageAtOnceBothSucceed()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Create(layers: 3, randomBytes: 1_000_000);
        Serve(registry, "test/twice:1", image);
        registry.Intercept = async context =>
        {
            if (context.Request.Url!.AbsolutePath.Contains("/blobs/"))
                await Task.Delay(300); // both processes are past the manifest before the first blob arrives
            return false;
        };

        var pulls = await Task.WhenAll(
            Skiff.RunAsync(Root, "pull", "-q", "--tls-verify=false", $"{registry.Host}/test/twice:1"),
            Skiff.RunAsync(Root, "pull", "-q", "--tls-verify=false", $"{registry.Host}/test/twice:1"));

        Assert.All(pulls, pull => Assert.True(pull.ExitCode == 0, pull.Stderr));
        Assert.All(pulls, pull => Assert.Equal(image.ConfigDigest.Encoded + "\n", pull.Stdout));
        Assert.Equal(image.ConfigDigest.Encoded[..12] + "\n", (await Skiff.RunAsync(Root, "images", "-q")).Stdout);
    }

    [Fact]
    public async Task AWrongBlobIsAOneLineErrorAndNothingIsStored()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Create(layers: 1);
        Serve(registry, "test/bad:1", image);
        var corrupted = (byte[])image.Layers[0].Clone();
        corrupted[corrupted.Length / 2] ^= 0xff;
        registry.Blobs[Digest.Compute(image.Layers[0]).ToString()] = corrupted;

        var pull = await Skiff.RunAsync(Root, "pull", "--tls-verify=false", $"{registry.Host}/test/bad:1");

        Assert.Equal(1, pull.ExitCode);
        Assert.Matches($@"^skiff: blob {Regex(registry.Host)}/test/bad@{Digest.Compute(image.Layers[0])}: .*\n$", pull.Stderr);
        AssertStoreEmpty(ignoreGarbage: true);
    }

    [Fact]
    public async Task OnATerminalPullDrawsProgressBarsInPlace()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Create(layers: 2, randomBytes: 3_000_000);
        Serve(registry, "test/tty:1", image);
        registry.Intercept = async context =>
        {
            if (!context.Request.Url!.AbsolutePath.Contains("/blobs/"))
                return false;
            byte[] blob = registry.Blobs[context.Request.Url.AbsolutePath.Split('/')[^1]];
            context.Response.ContentLength64 = blob.Length;
            for (int offset = 0; offset < blob.Length; offset += 256 * 1024) // slow enough for several redraws
            {
                await context.Response.OutputStream.WriteAsync(blob.AsMemory(offset, Math.Min(256 * 1024, blob.Length - offset)));
                await Task.Delay(60);
            }
            context.Response.Close();
            return true;
        };
        string transcript = Path.Combine(_temp.Path, "transcript");

        // script(1) gives skiff a pseudo-terminal as stdout.
        using var script = Process.Start(new ProcessStartInfo("script",
            ["-qec", $"{Skiff.Binary} --root {Root} pull --tls-verify=false {registry.Host}/test/tty:1", transcript])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            Environment = { ["SKIFF_REGISTRIES_CONF"] = "/nonexistent", ["DOCKER_CONFIG"] = "/nonexistent" },
        })!;
        await script.StandardOutput.ReadToEndAsync();
        await script.WaitForExitAsync();

        string output = await File.ReadAllTextAsync(transcript);
        Assert.True(script.ExitCode == 0, output);
        Assert.Contains("\x1b[2A", output); // cursor back up over the two layer lines: redrawn in place
        Assert.Matches(@"Downloading \[=*>? *\] \d+(\.\d+)?[kM]?B/3(\.\d+)?MB \d+(\.\d+)?[kM]?B/s", output);
        Assert.Contains(image.ConfigDigest.Encoded, output);
    }

    [Fact]
    public async Task UsageErrorsAndHelp()
    {
        var unknown = await Skiff.RunAsync(Root, "images", "--bogus");
        Assert.Equal(125, unknown.ExitCode);
        Assert.StartsWith("skiff: images: unknown flag --bogus\nusage: skiff images", unknown.Stderr);
        var global = await Skiff.RunAsync(Root, "--bogus", "images");
        Assert.Equal(125, global.ExitCode);
        Assert.StartsWith("skiff: unknown flag --bogus\nusage: skiff [global options]", global.Stderr);
        // -h is run's and create's --hostname, as docker's: their help is --help alone.
        var runHelp = (await Skiff.RunAsync(Root, "run", "--help")).Stdout;
        Assert.Contains("-h, --hostname", runHelp);
        Assert.DoesNotContain("-h, --help", runHelp);
        // docker's CLI: a flag that does not parse is 125 for every command (cobra's FlagErrorFunc), a missing
        // argument or an unknown command is 1, and docker alone prints its usage without failing.
        Assert.Equal(125, (await Skiff.RunAsync(Root, "rmi", "--force=maybe", "x")).ExitCode);
        var noArgument = await Skiff.RunAsync(Root, "rmi");
        Assert.Equal(1, noArgument.ExitCode);
        Assert.StartsWith("skiff: rmi: expected IMAGE [IMAGE...]\n", noArgument.Stderr);
        Assert.Equal(1, (await Skiff.RunAsync(Root, "frobnicate")).ExitCode);
        var bare = await Skiff.RunAsync(Root);
        Assert.Equal(0, bare.ExitCode);
        Assert.StartsWith("usage: skiff", bare.Stderr);
        string[][] commands = [["pull"], ["images"], ["rmi"], ["tag"], ["image", "inspect"], ["history"], ["image", "prune"], ["system", "df"], ["image", "ls"]];
        foreach (string[] command in commands)
        {
            var help = await Skiff.RunAsync(Root, [.. command, "--help"]);
            Assert.Equal(0, help.ExitCode);
            Assert.StartsWith("usage: skiff ", help.Stdout);
        }
        Assert.False(Directory.Exists(Root)); // --help and usage errors never create a store
    }

    internal static void Serve(FakeRegistry registry, string repositoryAndTag, TestImage image)
    {
        registry.Manifests[repositoryAndTag] = (image.MediaType, image.Manifest);
        foreach (byte[] blob in image.Blobs)
            registry.Blobs[Digest.Compute(blob).ToString()] = blob;
    }

    /// <summary>No image, tag or recorded blob; with <paramref name="ignoreGarbage"/> unrecorded files (for the next collection) are allowed.</summary>
    private void AssertStoreEmpty(bool ignoreGarbage = false)
    {
        using var service = ImageService.Open(new ImageServiceOptions { Root = Root });
        Assert.Empty(service.List());
        Assert.Empty(service.Metadata.ListBlobs());
        Assert.Empty(service.Metadata.ListSnapshots());
        if (ignoreGarbage)
            return;
        Assert.Empty(service.Content.List());
        Assert.Empty(service.Snapshotter.Layers());
    }

    [Theory]
    [InlineData("2</dev/null")]   // read-only, as a shim's null IO hands it out
    [InlineData("2>&-")]          // closed
    [InlineData("2>/dev/full")]   // ENOSPC
    public void AnUnwritableStderrKeepsTheExitStatus(string redirection)
    {
        // The error line cannot be written: skiff still ends with its own status, not an abort (134).
        Assert.Equal(1, Shell($"\"$0\" --root \"$1\" inspect no-such-object >/dev/null {redirection}"));
        Assert.Equal(0, Shell("\"$0\" --root \"$1\" images >/dev/full"));
    }

    private int Shell(string script)
        => Process.Start("/bin/sh", ["-c", script, Skiff.Binary, Root])!.WaitForExitCode();

    internal static void Mount(string type, string target, string options)
    {
        using var mount = Process.Start("mount", ["-t", type, "-o", options, type, target])!;
        mount.WaitForExit();
        Assert.Equal(0, mount.ExitCode);
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}

internal static class ProcessExtensions
{
    public static int WaitForExitCode(this Process process)
    {
        using (process)
        {
            process.WaitForExit();
            return process.ExitCode;
        }
    }
}
