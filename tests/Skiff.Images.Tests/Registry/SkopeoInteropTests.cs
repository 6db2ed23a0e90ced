using System.Diagnostics;
using System.Text.Json;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>Interop with skopeo through the reference registry: it reads what skiff pushed, skiff pulls what it pushed.</summary>
public sealed class SkopeoInteropTests
{
    private static RegistryOptions Insecure(string host) => new() { InsecureRegistries = [host], RetryDelay = TimeSpan.FromMilliseconds(10) };

    /// <summary>Runs skopeo without any policy file or credentials of the machine in play; fails the test on a non-zero exit.</summary>
    private static async Task<byte[]> SkopeoAsync(TempDir directory, params string[] arguments)
    {
        if (!File.Exists("/usr/bin/skopeo"))
            throw new InvalidOperationException("skopeo is not installed (apt-get install skopeo; `make test` does it)");
        var start = new ProcessStartInfo("/usr/bin/skopeo") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--insecure-policy");
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["REGISTRY_AUTH_FILE"] = Path.Combine(directory.Path, "skopeo-auth.json");
        using var process = Process.Start(start)!;
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        string error = await process.StandardError.ReadToEndAsync();
        await copy;
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"skopeo {string.Join(' ', arguments)}: exit {process.ExitCode}: {error}");
        return output.ToArray();
    }

    [Fact]
    public async Task SkopeoInspectsWhatSkiffPushedWithTheSameDigests()
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 3, randomBytes: 20_000);
        var arm64 = TestImage.Create("arm64", layers: 1, docker: true, randomBytes: 1000);
        var amd64 = TestImage.Create("amd64", layers: 1, docker: true, randomBytes: 1000);
        byte[] index = TestImage.Index(true, amd64, arm64);
        var store = new ContentStore(Path.Combine(directory.Path, "store"));
        foreach (var each in new[] { image, arm64, amd64 })
            each.AddTo(store);
        store.Ingest(Digest.Compute(index), index.Length, new MemoryStream(index));
        using (var pusher = new ImagePusher(Insecure(registry.Host)))
        {
            await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/interop/skiff:1"));
            await pusher.PushAsync(store, Digest.Compute(index), ImageReference.Parse($"{registry.Host}/interop/list:1"));
        }

        string source = $"docker://{registry.Host}/interop/skiff:1";
        using (var inspected = JsonDocument.Parse(await SkopeoAsync(directory, "inspect", "--tls-verify=false", source)))
        {
            Assert.Equal(image.ManifestDigest.ToString(), inspected.RootElement.GetProperty("Digest").GetString());
            Assert.Equal(image.Layers.Select(layer => Digest.Compute(layer).ToString()),
                inspected.RootElement.GetProperty("Layers").EnumerateArray().Select(layer => layer.GetString()));
        }
        byte[] raw = await SkopeoAsync(directory, "inspect", "--raw", "--tls-verify=false", source);
        Assert.Equal(image.ManifestDigest, Digest.Compute(raw));

        byte[] rawIndex = await SkopeoAsync(directory, "inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/interop/list:1");
        Assert.Equal(Digest.Compute(index), Digest.Compute(rawIndex));
        using (var inspected = JsonDocument.Parse(await SkopeoAsync(directory, "--override-arch", "arm64", "inspect", "--tls-verify=false", $"docker://{registry.Host}/interop/list:1")))
            Assert.Equal(Digest.Compute(arm64.Layers[0]).ToString(), inspected.RootElement.GetProperty("Layers")[0].GetString());
    }

    [Fact]
    public async Task SkiffPullsWhatSkopeoCopiedFromAnOciLayout()
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 3, randomBytes: 20_000);
        string layout = Path.Combine(directory.Path, "layout");
        WriteOciLayout(layout, image, "v1");
        string digestFile = Path.Combine(directory.Path, "digest");

        await SkopeoAsync(directory, "copy", "--dest-tls-verify=false", "--digestfile", digestFile, $"oci:{layout}:v1", $"docker://{registry.Host}/interop/skopeo:v1");
        Assert.Equal(image.ManifestDigest.ToString(), File.ReadAllText(digestFile).Trim());

        var store = new ContentStore(Path.Combine(directory.Path, "store"));
        using var puller = new ImagePuller(Insecure(registry.Host));
        var result = await puller.PullAsync(ImageReference.Parse($"{registry.Host}/interop/skopeo:v1"), null, store);
        Assert.Equal(image.ManifestDigest, result.ManifestDigest);
        Assert.Equal(image.ConfigDigest, result.Config.Digest);
        Assert.Equal(image.Layers.Select(layer => Digest.Compute(layer)), result.Layers.Select(layer => layer.Digest));
        foreach (byte[] blob in image.Blobs.Append(image.Manifest))
            Assert.Equal(blob, File.ReadAllBytes(store.BlobPath(Digest.Compute(blob))));
    }

    [Fact]
    public async Task SkopeoUsesTheCredentialsSkiffLoginStored()
    {
        using var registry = await RegistryProcess.StartAsync("shared", "login pw");
        using var directory = new TempDir();
        // The file SkopeoAsync hands skopeo as its REGISTRY_AUTH_FILE.
        var credentials = new CredentialStore(Path.Combine(directory.Path, "skopeo-auth.json"), _ => null);
        var options = Insecure(registry.Host) with { Credentials = credentials };
        await credentials.LoginAsync(registry.Host, new RegistryCredential("shared", "login pw"), options);
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var store = new ContentStore(Path.Combine(directory.Path, "store"));
        image.AddTo(store);
        using (var pusher = new ImagePusher(options))
            await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/private/app:1"));

        byte[] raw = await SkopeoAsync(directory, "inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/private/app:1");
        Assert.Equal(image.Manifest, raw);
    }

    /// <summary>An OCI image layout (image-layout.md) holding <paramref name="image"/> under the ref name <paramref name="tag"/>.</summary>
    private static void WriteOciLayout(string layout, TestImage image, string tag)
    {
        string blobs = Path.Combine(layout, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        foreach (byte[] blob in image.Blobs.Append(image.Manifest))
            File.WriteAllBytes(Path.Combine(blobs, Digest.Compute(blob).Encoded), blob);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var descriptor = TestImage.Describe(image.MediaType, image.Manifest) with
        {
            Annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag },
        };
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = [descriptor] };
        File.WriteAllBytes(Path.Combine(layout, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, ImageJsonContext.Default.ImageIndex));
    }
}
