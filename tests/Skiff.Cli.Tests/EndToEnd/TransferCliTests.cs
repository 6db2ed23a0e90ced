using System.Diagnostics;
using System.Text.Json;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>Images in and out of a store through bin/skiff: import, save, load, login, push, logout.</summary>
public sealed class TransferCliTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private string PathOf(string name) => Path.Combine(_temp.Path, name);

    /// <summary>A gzipped rootfs tarball with a few files, made by tar(1) so the importer sees a real one.</summary>
    private string RootfsTarball()
    {
        string rootfs = PathOf("rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.WriteAllText(Path.Combine(rootfs, "etc", "motd"), "hello from an imported image\n");
        File.CreateSymbolicLink(Path.Combine(rootfs, "bin", "sh"), "busybox");
        string tarball = PathOf("rootfs.tar.gz");
        using var tar = Process.Start("tar", ["-C", rootfs, "-czf", tarball, "."])!;
        tar.WaitForExit();
        Assert.Equal(0, tar.ExitCode);
        return tarball;
    }

    private static async Task<Skiff.Result> Ok(string root, params string[] args)
    {
        var result = await Skiff.RunAsync(root, args);
        Assert.True(result.ExitCode == 0, $"skiff {string.Join(' ', args)}: {result.Stderr}");
        return result;
    }

    [Fact]
    public async Task ImportSaveAndLoadKeepTheImage()
    {
        string first = PathOf("first"), second = PathOf("second");
        var import = await Ok(first, "import", "--change", "CMD [\"/bin/sh\", \"-c\", \"cat /etc/motd\"]", "-c", "ENV GREETING=hi", RootfsTarball(), "local/imported:1");
        string id = import.Stdout.Trim();
        Assert.StartsWith("sha256:", id);

        using (var json = JsonDocument.Parse((await Ok(first, "image", "inspect", "local/imported:1")).Stdout))
        {
            var config = json.RootElement[0].GetProperty("Config");
            Assert.Equal(["/bin/sh", "-c", "cat /etc/motd"], config.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("GREETING=hi", config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        }

        foreach (var format in new[] { "docker-archive", "oci-archive" })
        {
            string archive = PathOf($"saved-{format}.tar");
            await Ok(first, "save", "--format", format, "-o", archive, "local/imported:1");
            Assert.True(new FileInfo(archive).Length > 0);
            Assert.Empty(Directory.GetFiles(_temp.Path, ".saved-*"));

            var load = await Ok(second, "load", "-i", archive);
            Assert.Equal("Loaded image: local/imported:1\n", load.Stdout);
            using var service = ImageService.Open(new ImageServiceOptions { Root = second });
            var loaded = service.Resolve("local/imported:1");
            Assert.Equal(id, loaded.Id);
            Assert.Equal("hello from an imported image\n", File.ReadAllText(Path.Combine(service.Snapshotter.LayerPath(loaded.ChainIds[0]), "etc", "motd")));
            await Ok(second, "rmi", "local/imported:1");
        }
    }

    [Fact]
    public async Task BadArchivesAndTarballsLeaveNothing()
    {
        string root = PathOf("root");
        string garbage = PathOf("garbage.tar");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + 13))]);
        foreach (var args in new[] { new[] { "load", "-i", garbage }, ["import", garbage, "x:1"], ["import", "--change", "FROM busybox", RootfsTarball(), "x:1"] })
        {
            var result = await Skiff.RunAsync(root, args);
            Assert.Equal(1, result.ExitCode);
            Assert.Single(result.Stderr.TrimEnd().Split('\n'));
            Assert.StartsWith("skiff: ", result.Stderr);
        }
        using var service = ImageService.Open(new ImageServiceOptions { Root = root });
        Assert.Empty(service.List());
        Assert.Empty(service.Content.List());
        Assert.Empty(service.Snapshotter.Layers());
    }

    [Fact]
    public async Task LoginPushAndLogout()
    {
        using var registry = await RegistryProcess.StartAsync("alice", "wonderland");
        string root = PathOf("root"), authFile = PathOf("auth.json");
        await Ok(root, "import", RootfsTarball(), "local/app:1");
        string target = $"{registry.Host}/team/app:1";

        var refused = await Skiff.RunAsync(root, "push", "--tls-verify=false", "--authfile", authFile, "local/app:1", target);
        Assert.Equal(1, refused.ExitCode);

        var wrong = await Skiff.RunWithInputAsync(root, "not-it\n", "login", "--tls-verify=false", "--authfile", authFile, "-u", "alice", "--password-stdin", registry.Host);
        Assert.Equal(1, wrong.ExitCode);
        Assert.False(File.Exists(authFile));

        var login = await Skiff.RunWithInputAsync(root, "wonderland\n", "login", "--tls-verify=false", "--authfile", authFile, "-u", "alice", "--password-stdin", registry.Host);
        Assert.True(login.ExitCode == 0, login.Stderr);
        Assert.Equal("Login Succeeded!\n", login.Stdout);

        var push = await Ok(root, "push", "--tls-verify=false", "--authfile", authFile, "local/app:1", target);
        Assert.Contains($"digest: sha256:", push.Stdout);

        // What arrived is the same image: a pull into an empty store with the stored login gives the same ID.
        using (var service = ImageService.Open(new ImageServiceOptions { Root = root }))
        {
            string id = service.Resolve("local/app:1").Id;
            var other = PathOf("other");
            var pull = await Skiff.RunAsync(other, "pull", "-q", "--tls-verify=false", target);
            Assert.Equal(1, pull.ExitCode); // this process has no credentials: REGISTRY_AUTH_FILE points nowhere
            using var copy = new StreamReader(File.OpenRead(authFile));
            Assert.Contains(registry.Host, copy.ReadToEnd());
            var pulled = await Skiff.RunWithEnvironmentAsync(other, new() { ["REGISTRY_AUTH_FILE"] = authFile }, "pull", "-q", "--tls-verify=false", target);
            Assert.True(pulled.ExitCode == 0, pulled.Stderr);
            Assert.Equal(id.Split(':')[1] + "\n", pulled.Stdout);
        }

        Assert.Equal($"Removed login credentials for {registry.Host}\n", (await Ok(root, "logout", "--authfile", authFile, registry.Host)).Stdout);
        var again = await Skiff.RunAsync(root, "logout", "--authfile", authFile, registry.Host);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("not logged in", again.Stderr);
    }
}
