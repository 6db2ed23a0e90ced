using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>Pulls from the real reference registry (docker-registry) on 127.0.0.1, anonymous and with htpasswd basic auth.</summary>
public sealed class ReferenceRegistryTests
{
    private static RegistryOptions Insecure(string host, ICredentialSource? credentials = null)
        => new() { InsecureRegistries = [host], Credentials = credentials, RetryDelay = TimeSpan.FromMilliseconds(10) };

    private static void AssertStored(ContentStore store, TestImage image)
    {
        Assert.Equal(image.Manifest, ReadBlob(store, image.ManifestDigest));
        foreach (byte[] blob in image.Blobs)
            Assert.Equal(blob, ReadBlob(store, Digest.Compute(blob)));
        Assert.Empty(store.ListIngests());
    }

    private static byte[] ReadBlob(ContentStore store, Digest digest)
    {
        using var stream = store.Open(digest);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task PullsAMultiLayerImageByTagAndByDigest()
    {
        using var registry = await RegistryProcess.StartAsync();
        var image = TestImage.Create(layers: 4);
        using (var pusher = new TestPusher(registry.BaseUri))
            await pusher.PushImageAsync("skiff/app", "1.0", image);

        using var directory = new TempDir();
        var store = new ContentStore(Path.Combine(directory.Path, "byTag"));
        using var puller = new ImagePuller(Insecure(registry.Host));
        await puller.ClientFor(registry.Host).PingAsync();
        var result = await puller.PullAsync(ImageReference.Parse($"{registry.Host}/skiff/app:1.0"), null, store);

        Assert.Equal(image.ManifestDigest, result.ManifestDigest);
        Assert.Equal(MediaTypes.OciManifest, result.ManifestMediaType);
        Assert.Equal(image.ConfigDigest, result.Config.Digest);
        Assert.Equal(image.Layers.Select(layer => Digest.Compute(layer)), result.Layers.Select(layer => layer.Digest));
        Assert.Null(result.IndexDigest);
        AssertStored(store, image);

        var byDigest = new ContentStore(Path.Combine(directory.Path, "byDigest"));
        var again = await puller.PullAsync(ImageReference.Parse($"{registry.Host}/skiff/app@{image.ManifestDigest}"), null, byDigest);
        Assert.Equal(image.ManifestDigest, again.ManifestDigest);
        AssertStored(byDigest, image);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SelectsThePlatformFromAnIndexOrManifestList(bool docker)
    {
        using var registry = await RegistryProcess.StartAsync();
        var amd64 = TestImage.Create("amd64", layers: 2, docker: docker, randomBytes: 1000);
        var arm64 = TestImage.Create("arm64", layers: 2, docker: docker, randomBytes: 1000);
        byte[] index = TestImage.Index(docker, amd64, arm64);
        string indexType = docker ? MediaTypes.DockerManifestList : MediaTypes.OciIndex;
        using (var pusher = new TestPusher(registry.BaseUri))
        {
            await pusher.PushImageAsync("multi", amd64.ManifestDigest.ToString(), amd64);
            await pusher.PushImageAsync("multi", arm64.ManifestDigest.ToString(), arm64);
            await pusher.PushManifestAsync("multi", "latest", indexType, index);
        }

        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Insecure(registry.Host));
        var reference = ImageReference.Parse($"{registry.Host}/multi");

        var arm = await puller.PullAsync(reference, Platform.Parse("linux/arm64"), store);
        Assert.Equal(arm64.ManifestDigest, arm.ManifestDigest);
        Assert.Equal(Digest.Compute(index), arm.IndexDigest);
        Assert.Equal(docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest, arm.ManifestMediaType);
        AssertStored(store, arm64);
        Assert.True(store.Exists(Digest.Compute(index)));
        Assert.False(store.Exists(amd64.ConfigDigest));

        var host = await puller.PullAsync(reference, Platform.Parse("linux/amd64"), store);
        Assert.Equal(amd64.ManifestDigest, host.ManifestDigest);
        AssertStored(store, amd64);

        var error = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync(reference, Platform.Parse("linux/s390x"), store));
        Assert.Contains("no image for platform linux/s390x", error.Message);
        Assert.Contains("linux/arm64", error.Message);
    }

    [Fact]
    public async Task AnUnknownTagIsAClearError()
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        using var puller = new ImagePuller(Insecure(registry.Host));
        var error = await Assert.ThrowsAsync<RegistryException>(
            () => puller.PullAsync(ImageReference.Parse($"{registry.Host}/nothing/here:1"), null, new ContentStore(directory.Path)));
        Assert.Contains($"manifest {registry.Host}/nothing/here:1", error.Message);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public async Task BasicAuthWithHtpasswdFromDockerConfigAndRefusals()
    {
        using var registry = await RegistryProcess.StartAsync("skiff", "s3cret pass");
        var image = TestImage.Create(layers: 2, randomBytes: 5000);
        using (var pusher = new TestPusher(registry.BaseUri, "skiff", "s3cret pass"))
            await pusher.PushImageAsync("private/app", "v1", image);

        using var directory = new TempDir();
        var reference = ImageReference.Parse($"{registry.Host}/private/app:v1");

        // Credentials from a docker config.json, keyed by URL as `docker login` writes them.
        string config = Path.Combine(directory.Path, "config.json");
        string auth = Convert.ToBase64String("skiff:s3cret pass"u8);
        File.WriteAllText(config, "{\"auths\":{\"http://" + registry.Host + "/v2/\":{\"auth\":\"" + auth + "\"}}}");
        var store = new ContentStore(Path.Combine(directory.Path, "ok"));
        using (var puller = new ImagePuller(Insecure(registry.Host, new DockerConfigCredentials(config))))
        {
            var result = await puller.PullAsync(reference, null, store);
            Assert.Equal(image.ManifestDigest, result.ManifestDigest);
        }
        AssertStored(store, image);

        var empty = new ContentStore(Path.Combine(directory.Path, "refused"));
        using (var anonymous = new ImagePuller(Insecure(registry.Host)))
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => anonymous.PullAsync(reference, null, empty));
            Assert.Contains("authentication required", error.Message);
        }
        var wrong = new StaticCredentials(new Dictionary<string, RegistryCredential> { [registry.Host] = new("skiff", "nope") });
        using (var refused = new ImagePuller(Insecure(registry.Host, wrong)))
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => refused.PullAsync(reference, null, empty));
            Assert.Contains("refused", error.Message);
        }
        Assert.Empty(empty.List());
    }

    [Fact]
    public async Task BearerTokenFlowWithTheRegistrysTokenAuth()
    {
        using var issuer = new TokenIssuer("robot", "token-pw");
        using var registry = await RegistryProcess.StartAsync(authConfig: issuer.AuthConfig);
        var image = TestImage.Create(layers: 3, randomBytes: 5000);
        using (var pusher = new TestPusher(registry.BaseUri))
        {
            pusher.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", issuer.Issue("robot", ["repository:secure/app:pull,push"]));
            await pusher.PushImageAsync("secure/app", "2", image);
        }

        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredential> { [registry.Host] = new("robot", "token-pw") });
        using (var puller = new ImagePuller(Insecure(registry.Host, credentials)))
        {
            var result = await puller.PullAsync(ImageReference.Parse($"{registry.Host}/secure/app:2"), null, store);
            Assert.Equal(image.ManifestDigest, result.ManifestDigest);
        }
        AssertStored(store, image);
        // One token for the repository's pull scope, reused for the manifest and every blob.
        Assert.Equal(1, issuer.Issued);
        Assert.Equal("repository:secure/app:pull", issuer.LastScope);

        using var anonymous = new ImagePuller(Insecure(registry.Host));
        var error = await Assert.ThrowsAsync<RegistryException>(
            () => anonymous.PullAsync(ImageReference.Parse($"{registry.Host}/secure/app:2"), null, new ContentStore(Path.Combine(directory.Path, "anonymous"))));
        Assert.Contains("refused anonymous access to repository:secure/app:pull", error.Message);
    }
}
