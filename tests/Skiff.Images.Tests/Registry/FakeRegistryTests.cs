using System.Net;
using System.Text;
using System.Text.Json;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>Registries that misbehave, or speak the token flow, served by <see cref="FakeRegistry"/> on 127.0.0.1.</summary>
public sealed class FakeRegistryTests
{
    private static RegistryOptions Options(FakeRegistry fake, int attempts = 3, ICredentialSource? credentials = null)
        => new() { InsecureRegistries = [fake.Host], MaxAttempts = attempts, RetryDelay = TimeSpan.FromMilliseconds(10), Credentials = credentials };

    private static void Serve(FakeRegistry fake, string repository, string tag, TestImage image)
    {
        fake.Manifests[$"{repository}:{tag}"] = (image.MediaType, image.Manifest);
        fake.Manifests[$"{repository}:{image.ManifestDigest}"] = (image.MediaType, image.Manifest);
        foreach (byte[] blob in image.Blobs)
            fake.Blobs[Digest.Compute(blob).ToString()] = blob;
    }

    private static ImageReference Reference(FakeRegistry fake, string rest) => ImageReference.Parse($"{fake.Host}/{rest}");

    [Fact]
    public async Task BearerTokenFlowWithCredentialsAndTokenCachedPerScope()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 3, randomBytes: 2000);
        Serve(fake, "team/app", "1", image);
        int tokensIssued = 0;
        string? tokenQuery = null;
        string? tokenAuth = null;
        fake.Intercept = async context =>
        {
            var request = context.Request;
            if (request.Url!.AbsolutePath == "/token")
            {
                Interlocked.Increment(ref tokensIssued);
                tokenQuery = request.Url.Query;
                tokenAuth = request.Headers["Authorization"];
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync("""{"token":"tok-123","expires_in":300}"""u8.ToArray());
                context.Response.Close();
                return true;
            }
            if (request.Headers["Authorization"] != "Bearer tok-123")
            {
                string scope = request.Url.AbsolutePath == "/v2/" ? "" : ",scope=\"repository:team/app:pull\"";
                context.Response.StatusCode = 401;
                context.Response.AddHeader("WWW-Authenticate", $"Bearer realm=\"http://{fake.Host}/token\",service=\"fake-registry\"{scope}");
                context.Response.Close();
                return true;
            }
            return false;
        };
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredential> { [fake.Host] = new("robot", "pw") });
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake, credentials: credentials));

        var result = await puller.PullAsync(Reference(fake, "team/app:1"), null, store);

        Assert.Equal(image.ManifestDigest, result.ManifestDigest);
        foreach (byte[] blob in image.Blobs)
            Assert.True(store.Exists(Digest.Compute(blob)));
        Assert.Equal(1, tokensIssued);
        Assert.Equal("?service=fake-registry&scope=repository%3Ateam%2Fapp%3Apull", tokenQuery);
        Assert.Equal("Basic " + Convert.ToBase64String("robot:pw"u8), tokenAuth);
        // After the first 401 every request carried the token.
        Assert.Single(fake.Log, line => line.Contains("auth= ") || line.EndsWith("auth=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnonymousBearerTokenAndARefusedOne()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 1, randomBytes: 100);
        Serve(fake, "open", "latest", image);
        Serve(fake, "closed", "latest", image);
        fake.Intercept = async context =>
        {
            var request = context.Request;
            if (request.Url!.AbsolutePath == "/token")
            {
                bool open = request.Url.Query.Contains("repository%3Aopen%3Apull", StringComparison.Ordinal) && request.Headers["Authorization"] is null;
                context.Response.StatusCode = open ? 200 : 401;
                if (open)
                    await context.Response.OutputStream.WriteAsync("""{"access_token":"anon"}"""u8.ToArray());
                context.Response.Close();
                return true;
            }
            if (request.Headers["Authorization"] != "Bearer anon")
            {
                context.Response.StatusCode = 401;
                context.Response.AddHeader("WWW-Authenticate", $"Bearer realm=\"http://{fake.Host}/token\",service=\"fake\"");
                context.Response.Close();
                return true;
            }
            return false;
        };
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        var result = await puller.PullAsync(Reference(fake, "open"), null, store);
        Assert.Equal(image.ManifestDigest, result.ManifestDigest);

        var error = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync(Reference(fake, "closed"), null, new ContentStore(Path.Combine(directory.Path, "2"))));
        Assert.Contains("refused anonymous access to repository:closed:pull", error.Message);
    }

    [Fact]
    public async Task ABlobWithTheWrongDigestIsRefusedAndNothingIsStored()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 2, randomBytes: 1000);
        Serve(fake, "bad", "1", image);
        var layer = Digest.Compute(image.Layers[1]);
        byte[] evil = (byte[])image.Layers[1].Clone();
        evil[^5] ^= 0xff;
        fake.Blobs[layer.ToString()] = evil;

        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        var error = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync(Reference(fake, "bad:1"), null, store));

        Assert.Contains($"blob {fake.Host}/bad@{layer}", error.Message);
        Assert.Contains($"content has digest {Digest.Compute(evil)}", error.Message);
        Assert.False(store.Exists(layer));
        // The bad blob's partial data is dropped (it can never verify); downloads cancelled alongside it may keep
        // theirs for the next pull to resume.
        Assert.DoesNotContain(store.ListIngests(), ingest => ingest.Reference.EndsWith(layer.ToString(), StringComparison.Ordinal));
        // Wrong content is not retried.
        Assert.Single(fake.Log, line => line.Contains($"/blobs/{layer}"));
    }

    [Fact]
    public async Task ATruncatedBodyFailsKeepsThePartAndTheNextPullResumesWithRange()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 1, randomBytes: 400_000);
        Serve(fake, "cut", "1", image);
        byte[] layer = image.Layers[0];
        var digest = Digest.Compute(layer);
        int cut = layer.Length / 3;
        bool truncate = true;
        fake.Intercept = async context =>
        {
            if (!truncate || !context.Request.Url!.AbsolutePath.EndsWith(digest.ToString(), StringComparison.Ordinal))
                return false;
            await FakeRegistry.ServeBlobAsync(context, layer, cutAfter: cut);
            return true;
        };

        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        var reference = Reference(fake, "cut:1");
        using (var once = new ImagePuller(Options(fake, attempts: 1)))
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => once.PullAsync(reference, null, store));
            Assert.Contains($"blob {fake.Host}/cut@{digest}", error.Message);
            Assert.Contains("gave up after 1 attempt", error.Message);
        }
        Assert.False(store.Exists(digest));
        var (_, offset) = Assert.Single(store.ListIngests());
        Assert.True(offset > 0 && offset <= cut, $"kept {offset} bytes");

        truncate = false;
        using (var again = new ImagePuller(Options(fake)))
            await again.PullAsync(reference, null, store);
        Assert.Contains(fake.Log, line => line.Contains($"/blobs/{digest}") && line.Contains($"range=bytes={offset}-"));
        using (var stored = store.Open(digest))
        using (var copy = new MemoryStream())
        {
            stored.CopyTo(copy);
            Assert.Equal(layer, copy.ToArray());
        }
        Assert.Empty(store.ListIngests());
    }

    [Fact]
    public async Task ACutConnectionIsResumedWithinOnePullAndRedirectsAndServerErrorsAreRetried()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 2, randomBytes: 300_000);
        Serve(fake, "flaky", "1", image);
        byte[] layer = image.Layers[1];
        var digest = Digest.Compute(layer);
        int blobRequests = 0;
        int manifestRequests = 0;
        int configRequests = 0;
        fake.Intercept = async context =>
        {
            string path = context.Request.Url!.AbsolutePath;
            bool firstConfig = path == $"/v2/flaky/blobs/{image.ConfigDigest}" && Interlocked.Increment(ref configRequests) == 1;
            if (firstConfig || path.Contains("/manifests/") && Interlocked.Increment(ref manifestRequests) == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Close();
                return true;
            }
            if (path == $"/v2/flaky/blobs/{digest}")
            {
                // Blobs live elsewhere, like registries that redirect to object storage.
                context.Response.Redirect($"http://{fake.Host}/storage/{digest.Encoded}");
                context.Response.StatusCode = 307;
                context.Response.Close();
                return true;
            }
            if (path == $"/storage/{digest.Encoded}")
            {
                bool first = Interlocked.Increment(ref blobRequests) == 1;
                await FakeRegistry.ServeBlobAsync(context, layer, cutAfter: first ? layer.Length / 2 : null);
                return true;
            }
            return false;
        };
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        await puller.PullAsync(Reference(fake, "flaky:1"), null, store);

        Assert.True(store.Exists(digest));
        Assert.Equal(2, blobRequests);
        Assert.Equal(2, manifestRequests);
        Assert.Equal(2, configRequests);
        Assert.True(store.Exists(image.ConfigDigest));
        Assert.Contains(fake.Log, line => line.StartsWith($"GET /storage/{digest.Encoded}", StringComparison.Ordinal) && line.Contains("range=bytes="));
        Assert.Empty(store.ListIngests());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AManifestOver4MiBIsRefused(bool chunked)
    {
        using var fake = new FakeRegistry();
        // A valid-looking manifest padded by a huge annotation.
        string padding = new('a', RegistryClient.MaxManifestSize);
        byte[] big = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","config":{"mediaType":"x","digest":"sha256:{{{new string('0', 64)}}}","size":1},"layers":[],"annotations":{"p":"{{{padding}}}"}}""");
        fake.Intercept = async context =>
        {
            if (!context.Request.Url!.AbsolutePath.Contains("/manifests/"))
                return false;
            context.Response.ContentType = MediaTypes.OciManifest;
            context.Response.SendChunked = chunked;
            if (!chunked)
                context.Response.ContentLength64 = big.Length;
            await context.Response.OutputStream.WriteAsync(big);
            context.Response.Close();
            return true;
        };
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        var error = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync(Reference(fake, "huge:1"), null, store));
        Assert.Contains($"manifest {fake.Host}/huge:1", error.Message);
        Assert.Contains("larger than the 4 MiB limit", error.Message);
        Assert.Empty(store.List());
    }

    [Theory]
    [InlineData("application/vnd.example.unknown+json", "unsupported media type \"application/vnd.example.unknown+json\"")]
    [InlineData(MediaTypes.DockerSchema1SignedManifest, "Docker schema 1 manifests are not supported")]
    [InlineData("application/json", "Docker schema 1 manifests are not supported")]
    public async Task UnknownMediaTypesAndSchema1AreRefused(string contentType, string expected)
    {
        using var fake = new FakeRegistry();
        byte[] body = contentType == "application/json"
            ? """{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"""u8.ToArray()
            : """{"schemaVersion":2,"layers":[]}"""u8.ToArray();
        fake.Manifests["odd:1"] = (contentType, body);
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        var error = await Assert.ThrowsAsync<RegistryException>(() => puller.PullAsync(Reference(fake, "odd:1"), null, store));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task AManifestPulledByDigestMustHaveThatDigest()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 1, randomBytes: 10);
        var other = TestImage.Create(layers: 1, randomBytes: 10);
        fake.Manifests[$"swap:{image.ManifestDigest}"] = (other.MediaType, other.Manifest);
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        var error = await Assert.ThrowsAsync<RegistryException>(
            () => puller.PullAsync(Reference(fake, $"swap@{image.ManifestDigest}"), null, store));
        Assert.Contains($"sent content with digest {other.ManifestDigest}", error.Message);
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task ASecondPullDownloadsNoBlobAgain()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 3, randomBytes: 1000);
        Serve(fake, "twice", "1", image);
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        using var puller = new ImagePuller(Options(fake));
        await puller.PullAsync(Reference(fake, "twice:1"), null, store);
        int before = fake.Log.Count(line => line.Contains("/blobs/"));
        Assert.Equal(4, before);
        await puller.PullAsync(Reference(fake, "twice:1"), null, store);
        Assert.Equal(before, fake.Log.Count(line => line.Contains("/blobs/")));
    }

    [Fact]
    public async Task TwoPullsOfTheSameBlobAtOnceDownloadItOnceAndReportProgress()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(layers: 2, randomBytes: 200_000);
        Serve(fake, "shared", "1", image);
        byte[] layer = image.Layers[0];
        var digest = Digest.Compute(layer);
        fake.Intercept = async context =>
        {
            if (context.Request.Url!.AbsolutePath != $"/v2/shared/blobs/{digest}")
                return false;
            context.Response.ContentLength64 = layer.Length;
            await context.Response.OutputStream.WriteAsync(layer.AsMemory(0, layer.Length / 2));
            await context.Response.OutputStream.FlushAsync();
            await Task.Delay(700);
            await context.Response.OutputStream.WriteAsync(layer.AsMemory(layer.Length / 2));
            context.Response.Close();
            return true;
        };
        using var directory = new TempDir();
        var store = new ContentStore(directory.Path);
        var reports = new System.Collections.Concurrent.ConcurrentQueue<BlobProgress>();
        var progress = new SynchronousProgress(reports.Enqueue);
        using var first = new ImagePuller(Options(fake));
        using var second = new ImagePuller(Options(fake));
        var reference = Reference(fake, "shared:1");

        var pulls = new[] { first.PullAsync(reference, null, store, progress: progress), second.PullAsync(reference, null, store) };
        var results = await Task.WhenAll(pulls);

        Assert.All(results, result => Assert.Equal(image.ManifestDigest, result.ManifestDigest));
        Assert.True(store.Exists(digest));
        Assert.Single(fake.Log, line => line.Contains($"/blobs/{digest}"));
        foreach (byte[] blob in image.Blobs)
            Assert.Contains(reports, report => report.Done && report.Descriptor.Digest == Digest.Compute(blob) && report.Bytes == blob.Length);
        Assert.Empty(store.ListIngests());
    }

    private sealed class SynchronousProgress(Action<BlobProgress> report) : IProgress<BlobProgress>
    {
        public void Report(BlobProgress value) => report(value);
    }
}
