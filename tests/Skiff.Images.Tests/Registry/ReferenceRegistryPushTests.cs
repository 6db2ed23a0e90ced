using System.Collections.Concurrent;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>Pushes to the real reference registry (docker-registry) on 127.0.0.1 and pulls back what was pushed.</summary>
public sealed class ReferenceRegistryPushTests
{
    private static RegistryOptions Insecure(string host, ICredentialSource? credentials = null)
        => new() { InsecureRegistries = [host], Credentials = credentials, RetryDelay = TimeSpan.FromMilliseconds(10) };

    private static ContentStore StoreWith(TempDir directory, string name, params TestImage[] images)
    {
        var store = new ContentStore(Path.Combine(directory.Path, name));
        foreach (var image in images)
            image.AddTo(store);
        return store;
    }

    /// <summary>Pulls <paramref name="reference"/> into a fresh store and checks every byte is what <paramref name="image"/> holds.</summary>
    private static async Task AssertPullsBackAsync(RegistryOptions options, string reference, TestImage image, TempDir directory, Platform? platform = null)
    {
        var store = new ContentStore(Path.Combine(directory.Path, "pulled-" + Guid.NewGuid().ToString("N")));
        using var puller = new ImagePuller(options);
        var result = await puller.PullAsync(ImageReference.Parse(reference), platform, store);
        Assert.Equal(image.ManifestDigest, result.ManifestDigest);
        Assert.Equal(image.MediaType, result.ManifestMediaType);
        foreach (byte[] blob in image.Blobs.Append(image.Manifest))
        {
            using var stored = store.Open(Digest.Compute(blob));
            using var copy = new MemoryStream();
            stored.CopyTo(copy);
            Assert.Equal(blob, copy.ToArray());
        }
    }

    private sealed class RecordingProgress : IProgress<BlobProgress>
    {
        public ConcurrentQueue<BlobProgress> Reports { get; } = new();
        public void Report(BlobProgress value) => Reports.Enqueue(value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushesAnonymouslyAndSkipsBlobsTheRepositoryHas(bool docker)
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 3, docker: docker, randomBytes: 50_000);
        var store = StoreWith(directory, "source", image);
        var options = Insecure(registry.Host);
        var progress = new RecordingProgress();

        using (var pusher = new ImagePusher(options))
        {
            var result = await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/skiff/pushed:1"), progress: progress);

            Assert.Equal(image.ManifestDigest, result.ManifestDigest);
            Assert.Equal(image.MediaType, result.ManifestMediaType);
            Assert.Equal(image.Blobs.Select(blob => Digest.Compute(blob)), result.Blobs.Select(blob => blob.Descriptor.Digest));
            Assert.All(result.Blobs, blob => Assert.Equal(BlobPushOutcome.Uploaded, blob.Outcome));
            foreach (byte[] layer in image.Layers)
            {
                var reports = progress.Reports.Where(report => report.Descriptor.Digest == Digest.Compute(layer)).ToList();
                Assert.Equal(new BlobProgress(reports[0].Descriptor, layer.Length, Done: true), reports[^1]);
                Assert.Contains(reports, report => !report.Done && report.Bytes == layer.Length);
            }
        }
        await AssertPullsBackAsync(options, $"{registry.Host}/skiff/pushed:1", image, directory);

        // Everything is there now: a second push (another tag) sends no blob, only the manifest.
        using (var pusher = new ImagePusher(options))
        {
            var again = await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/skiff/pushed:2"));
            Assert.All(again.Blobs, blob => Assert.Equal(BlobPushOutcome.Existed, blob.Outcome));
        }
        await AssertPullsBackAsync(options, $"{registry.Host}/skiff/pushed:2", image, directory);
    }

    [Fact]
    public async Task MountsBlobsFromAnotherRepositoryOfTheRegistry()
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 2, randomBytes: 20_000);
        var store = StoreWith(directory, "source", image);
        var options = Insecure(registry.Host);
        using var pusher = new ImagePusher(options);
        await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/origin/app:1"));

        var mounted = await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/copy/app:1"),
            mountFrom: ImageReference.Parse($"{registry.Host}/origin/app:1"));

        Assert.All(mounted.Blobs, blob => Assert.Equal(BlobPushOutcome.Mounted, blob.Outcome));
        await AssertPullsBackAsync(options, $"{registry.Host}/copy/app:1", image, directory);
        // A source on another registry is not a mount source: the blobs are uploaded.
        var elsewhere = await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/third/app:1"),
            mountFrom: ImageReference.Parse("quay.io/origin/app:1"));
        Assert.All(elsewhere.Blobs, blob => Assert.Equal(BlobPushOutcome.Uploaded, blob.Outcome));
    }

    [Fact]
    public async Task ChunkedUploadOfEveryBlob()
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 2, randomBytes: 250_000);
        var store = StoreWith(directory, "source", image);
        var options = Insecure(registry.Host) with { ChunkedUploadThreshold = 0, UploadChunkSize = 64 * 1024 };
        using (var pusher = new ImagePusher(options))
        {
            var result = await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/chunked:latest"));
            Assert.All(result.Blobs, blob => Assert.Equal(BlobPushOutcome.Uploaded, blob.Outcome));
        }
        await AssertPullsBackAsync(options, $"{registry.Host}/chunked:latest", image, directory);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushesAnIndexWithItsManifestsAndBlobs(bool docker)
    {
        using var registry = await RegistryProcess.StartAsync();
        using var directory = new TempDir();
        var amd64 = TestImage.Create("amd64", layers: 2, docker: docker, randomBytes: 1000);
        var arm64 = TestImage.Create("arm64", layers: 2, docker: docker, randomBytes: 1000);
        byte[] index = TestImage.Index(docker, amd64, arm64);
        var store = StoreWith(directory, "source", amd64, arm64);
        store.Ingest(Digest.Compute(index), index.Length, new MemoryStream(index));
        var options = Insecure(registry.Host);

        using (var pusher = new ImagePusher(options))
        {
            var result = await pusher.PushAsync(store, Digest.Compute(index), ImageReference.Parse($"{registry.Host}/multi:v1"));
            Assert.Equal(docker ? MediaTypes.DockerManifestList : MediaTypes.OciIndex, result.ManifestMediaType);
            Assert.Equal(6, result.Blobs.Count);
        }
        await AssertPullsBackAsync(options, $"{registry.Host}/multi:v1", arm64, directory, Platform.Parse("linux/arm64"));
        await AssertPullsBackAsync(options, $"{registry.Host}/multi:v1", amd64, directory, Platform.Parse("linux/amd64"));
    }

    [Fact]
    public async Task BasicAuthWithHtpasswd()
    {
        using var registry = await RegistryProcess.StartAsync("pusher", "s3cret");
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 2, randomBytes: 5000);
        var store = StoreWith(directory, "source", image);
        var target = ImageReference.Parse($"{registry.Host}/private/app:v1");

        using (var anonymous = new ImagePusher(Insecure(registry.Host)))
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => anonymous.PushAsync(store, image.ManifestDigest, target));
            Assert.Contains("authentication required", error.Message);
        }
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredential> { [registry.Host] = new("pusher", "s3cret") });
        var options = Insecure(registry.Host, credentials);
        using (var pusher = new ImagePusher(options))
            await pusher.PushAsync(store, image.ManifestDigest, target);
        await AssertPullsBackAsync(options, target.ToString(), image, directory);
    }

    [Fact]
    public async Task BearerTokensWithPushScopeAndTheMountSourcesPullScope()
    {
        using var issuer = new TokenIssuer("robot", "token-pw");
        using var registry = await RegistryProcess.StartAsync(authConfig: issuer.AuthConfig);
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 2, randomBytes: 5000);
        var store = StoreWith(directory, "source", image);
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredential> { [registry.Host] = new("robot", "token-pw") });
        var options = Insecure(registry.Host, credentials);
        using var pusher = new ImagePusher(options);

        await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/team/app:1"));
        Assert.Equal("repository:team/app:pull,push", issuer.LastScope);
        Assert.Equal(1, issuer.Issued);

        var mounted = await pusher.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/team/copy:1"),
            mountFrom: ImageReference.Parse($"{registry.Host}/team/app:1"));
        Assert.All(mounted.Blobs, blob => Assert.Equal(BlobPushOutcome.Mounted, blob.Outcome));
        await AssertPullsBackAsync(options, $"{registry.Host}/team/copy:1", image, directory);

        using var anonymous = new ImagePusher(Insecure(registry.Host));
        var error = await Assert.ThrowsAsync<RegistryException>(
            () => anonymous.PushAsync(store, image.ManifestDigest, ImageReference.Parse($"{registry.Host}/team/app:2")));
        Assert.Contains("refused anonymous access to repository:team/app:pull,push", error.Message);
    }
}
