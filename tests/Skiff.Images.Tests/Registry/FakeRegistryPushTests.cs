using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>Pushes to <see cref="FakeRegistry"/>, which records every request: what is sent, in which order, and when not.</summary>
public sealed class FakeRegistryPushTests
{
    private static RegistryOptions Options(FakeRegistry fake, ICredentialSource? credentials = null)
        => new() { InsecureRegistries = [fake.Host], RetryDelay = TimeSpan.FromMilliseconds(10), Credentials = credentials, MaxConcurrentUploads = 1 };

    private static ImageReference Reference(FakeRegistry fake, string rest) => ImageReference.Parse($"{fake.Host}/{rest}");

    private static ContentStore StoreWith(TempDir directory, TestImage image)
    {
        var store = new ContentStore(directory.Path);
        image.AddTo(store);
        return store;
    }

    private static void AssertPushed(FakeRegistry fake, string repository, string tag, TestImage image)
    {
        foreach (byte[] blob in image.Blobs)
            Assert.Equal(blob, fake.Pushed[$"{repository}@{Digest.Compute(blob)}"]);
        var (contentType, manifest) = fake.Manifests[$"{repository}:{tag}"];
        Assert.Equal(image.MediaType, contentType);
        Assert.Equal(image.Manifest, manifest);
    }

    [Fact]
    public async Task ARegistryThatCannotMountGetsTheBlobUploadedInTheSessionItOpened()
    {
        using var fake = new FakeRegistry { MountEnabled = false };
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var store = StoreWith(directory, image);
        using var pusher = new ImagePusher(Options(fake));
        await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "origin:1"));
        fake.Log.Clear();

        var result = await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "copy:1"), mountFrom: Reference(fake, "origin:1"));

        Assert.All(result.Blobs, blob => Assert.Equal(BlobPushOutcome.Uploaded, blob.Outcome));
        AssertPushed(fake, "copy", "1", image);
        var layer = Digest.Compute(image.Layers[0]);
        var requests = fake.Log.Select(line => line.Split(' ')[0] + " " + line.Split(' ')[1]).Where(line => !line.Contains(image.ConfigDigest.Encoded)).ToList();
        Assert.Equal(4, requests.Count);
        Assert.Equal($"HEAD /v2/copy/blobs/{layer}", requests[0]);
        Assert.Equal($"POST /v2/copy/blobs/uploads/?mount={layer}&from=origin", requests[1]);
        Assert.Matches($"^PUT /v2/copy/blobs/uploads/[0-9a-f]+\\?_state=[0-9a-f]+&digest={Uri.EscapeDataString(layer.ToString())}$", requests[2]);
        Assert.Equal("PUT /v2/copy/manifests/1", requests[3]);
    }

    [Fact]
    public async Task ChunkedUploadSendsContentRangesOfAtLeastTheRegistrysMinimum()
    {
        using var fake = new FakeRegistry { ChunkMinLength = 100_000 };
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 1, randomBytes: 250_000);
        var store = StoreWith(directory, image);
        var options = Options(fake) with { ChunkedUploadThreshold = 50_000, UploadChunkSize = 30_000 };
        using var pusher = new ImagePusher(options);

        await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "chunked:1"));

        AssertPushed(fake, "chunked", "1", image);
        long size = image.Layers[0].Length;
        Assert.True(size > 200_000);
        var layerRequests = fake.Log.Where(line => line.StartsWith("PATCH ") || line.StartsWith("PUT /v2/chunked/blobs/")).ToList();
        var expected = new List<string>();
        for (long offset = 0; offset < size; offset += 100_000)
            expected.Add($"content-range={offset}-{Math.Min(offset + 100_000, size) - 1}");
        Assert.Equal(expected, layerRequests.Where(line => line.StartsWith("PATCH ")).Select(line => line.Split(' ')[3]));
        // The config is below the threshold: one monolithic PUT. The layer's session is closed by an empty PUT.
        Assert.Equal(2, layerRequests.Count(line => line.StartsWith("PUT ")));
    }

    [Fact]
    public async Task AServerErrorStartsTheBlobOver()
    {
        using var fake = new FakeRegistry();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var store = StoreWith(directory, image);
        var layer = Digest.Compute(image.Layers[0]);
        int failures = 0;
        fake.Intercept = context =>
        {
            if (context.Request.HttpMethod == "PUT" && context.Request.Url!.Query.Contains(Uri.EscapeDataString(layer.ToString())) && Interlocked.Increment(ref failures) == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Close();
                return Task.FromResult(true);
            }
            return Task.FromResult(false);
        };
        using var pusher = new ImagePusher(Options(fake));

        await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "flaky:1"));

        AssertPushed(fake, "flaky", "1", image);
        Assert.Equal(2, failures);
        Assert.Equal(2, fake.Log.Count(line => line.StartsWith($"HEAD /v2/flaky/blobs/{layer}")));

        // A registry that keeps failing: one clear line once the attempts are used up.
        fake.Intercept = context =>
        {
            context.Response.StatusCode = 502;
            context.Response.Close();
            return Task.FromResult(true);
        };
        var error = await Assert.ThrowsAsync<RegistryException>(() => pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "down:1")));
        Assert.Matches($"^blob {fake.Host}/down@sha256:[0-9a-f]+: 502 Bad Gateway \\(gave up after 3 attempts\\)$", error.Message);
    }

    [Fact]
    public async Task NothingIsSentWhenTheStoreLacksSomethingTheManifestNeeds()
    {
        using var fake = new FakeRegistry();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 2, randomBytes: 1000);
        var store = StoreWith(directory, image);
        var missing = Digest.Compute(image.Layers[1]);
        store.Delete(missing);
        using var pusher = new ImagePusher(Options(fake));

        var error = await Assert.ThrowsAsync<RegistryException>(() => pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "app:1")));
        Assert.Equal($"blob {fake.Host}/app@{missing}: not in the content store {store.Root}", error.Message);

        var other = TestImage.Create("arm64", layers: 1, randomBytes: 100);
        byte[] index = TestImage.Index(false, image, other);
        store.Ingest(Digest.Compute(index), index.Length, new MemoryStream(index));
        var indexError = await Assert.ThrowsAsync<RegistryException>(() => pusher.PushAsync(store, Digest.Compute(index), Reference(fake, "app:1")));
        Assert.Contains($"the index lists manifests that are not in the content store (linux/arm64 {other.ManifestDigest})", indexError.Message);

        var absent = await Assert.ThrowsAsync<RegistryException>(() => pusher.PushAsync(store, other.ManifestDigest, Reference(fake, "app:1")));
        Assert.Equal($"push {fake.Host}/app@{other.ManifestDigest}: the manifest is not in the content store {store.Root}", absent.Message);

        var wrongDigest = await Assert.ThrowsAsync<RegistryException>(() => pusher.PushAsync(store, image.ManifestDigest, Reference(fake, $"app@{other.ManifestDigest}")));
        Assert.Contains($"names digest {other.ManifestDigest}, but the manifest pushed is {image.ManifestDigest}", wrongDigest.Message);
        Assert.Empty(fake.Log);
    }

    [Fact]
    public async Task ByDigestWhenTheReferenceHasNoTag()
    {
        using var fake = new FakeRegistry();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 1, randomBytes: 100);
        var store = StoreWith(directory, image);
        using var pusher = new ImagePusher(Options(fake));
        await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, $"pinned@{image.ManifestDigest}"));
        AssertPushed(fake, "pinned", image.ManifestDigest.ToString(), image);
    }

    [Fact]
    public async Task BearerTokenScopesForPushAndForAMount()
    {
        using var fake = new FakeRegistry();
        using var directory = new TempDir();
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var store = StoreWith(directory, image);
        var tokenQueries = new System.Collections.Concurrent.ConcurrentQueue<string>();
        fake.Intercept = async context =>
        {
            var request = context.Request;
            if (request.Url!.AbsolutePath == "/token")
            {
                tokenQueries.Enqueue(request.Url.Query);
                context.Response.ContentType = "application/json";
                string token = request.Url.Query.Contains("scope=repository%3Aorigin%3Apull&") || request.Url.Query.EndsWith("scope=repository%3Aorigin%3Apull", StringComparison.Ordinal)
                    ? "mount-token" : "push-token";
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes($"{{\"token\":\"{token}\"}}"));
                context.Response.Close();
                return true;
            }
            bool mount = request.Url.Query.Contains("mount=");
            string scope = mount ? "repository:copy:pull,push repository:origin:pull" : $"repository:{request.Url.AbsolutePath.Split('/')[2]}:pull,push";
            if (request.Headers["Authorization"] != (mount ? "Bearer mount-token" : "Bearer push-token"))
            {
                context.Response.StatusCode = 401;
                context.Response.AddHeader("WWW-Authenticate", $"Bearer realm=\"http://{fake.Host}/token\",service=\"fake\",scope=\"{scope}\"");
                context.Response.Close();
                return true;
            }
            return false;
        };
        using var pusher = new ImagePusher(Options(fake, new StaticCredentials(new Dictionary<string, RegistryCredential> { [fake.Host] = new("robot", "pw") })));

        await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "origin:1"));
        Assert.Equal(["?service=fake&scope=repository%3Aorigin%3Apull%2Cpush"], tokenQueries);

        var result = await pusher.PushAsync(store, image.ManifestDigest, Reference(fake, "copy:1"), mountFrom: Reference(fake, "origin:1"));
        Assert.All(result.Blobs, blob => Assert.Equal(BlobPushOutcome.Mounted, blob.Outcome));
        Assert.Contains("?service=fake&scope=repository%3Acopy%3Apull%2Cpush&scope=repository%3Aorigin%3Apull", tokenQueries);
        Assert.Equal(image.Manifest, fake.Manifests["copy:1"].Bytes);
    }
}
