using System.Formats.Tar;
using System.Net;
using Skiff.Images.Registry;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Tests.Service;

/// <summary>The image service against the reference registry (and the fake one for bad input). Runs as root (mounts, owners).</summary>
public sealed class ImageServiceTests : IDisposable
{
    private readonly TempDir _root = new();

    public void Dispose() => _root.Dispose();

    private ImageService Open(string registryHost, SnapshotterKind kind = SnapshotterKind.Overlay) => Open(_root.Path, registryHost, kind);

    /// <summary>A store at <paramref name="root"/> that pulls from the plain-HTTP test registry at <paramref name="registryHost"/>, without credentials.</summary>
    internal static ImageService Open(string root, string registryHost, SnapshotterKind? kind = null)
        => ImageService.Open(new ImageServiceOptions
        {
            Root = root,
            Registries = new RegistriesConfig { InsecureRegistries = [registryHost] },
            Credentials = new StaticCredentials(new Dictionary<string, RegistryCredential>()),
            Snapshotter = kind,
        });

    [Fact]
    public async Task PullUnpacksEachLayerIntoItsChainIdSnapshotAndRecordsTheImage()
    {
        using var registry = await RegistryProcess.StartAsync();
        var image = TestImage.Layered();
        using (var pusher = new TestPusher(registry.BaseUri))
            await pusher.PushImageAsync("test/layered", "v1", image);
        using var service = Open(registry.Host);

        var events = new List<PullProgress>();
        var pulled = await service.PullAsync($"{registry.Host}/test/layered:v1", progress: new SyncProgress<PullProgress>(events.Add));

        Assert.Equal(image.ConfigDigest.ToString(), pulled.Id);
        Assert.Equal([$"{registry.Host}/test/layered:v1"], pulled.RepoTags);
        Assert.Equal([$"{registry.Host}/test/layered@{image.ManifestDigest}"], pulled.RepoDigests);
        // Made elsewhere and named by the pull, not here: docker's Parent "" and zero LastTagTime.
        Assert.Null(pulled.Parent);
        Assert.Null(pulled.LastTagTime);
        Assert.Equal(3, pulled.Layers.Count);
        Assert.All(pulled.Layers, layer => Assert.True(service.Snapshotter.HasLayer(Digest.Parse(layer.ChainId))));
        Assert.Equal(image.Layers.Select(l => Digest.Compute(l).ToString()), pulled.Layers.Select(l => l.BlobDigest));
        Assert.True(pulled.Size > 0);
        Assert.All(image.Blobs.Append(image.Manifest), blob => Assert.True(service.Content.Exists(Digest.Compute(blob))));
        Assert.Equal(3, events.Count(e => e.Phase == PullPhase.Complete));
        Assert.DoesNotContain(events, e => e.Phase == PullPhase.Extracting); // unpacked while downloading, not from the stored blob

        // The middle layer holds overlay whiteouts, as the kernel reads them.
        string middle = service.Snapshotter.LayerPath(Digest.Parse(pulled.Layers[1].ChainId));
        Assert.Equal(Libc.S_IFCHR, FileStatus.Of(Path.Combine(middle, "etc/gone"))!.Type);
        Assert.Equal("y"u8.ToArray(), FileStatus.Xattr(Path.Combine(middle, "opaque"), "trusted.overlay.opaque"));
        string bottom = service.Snapshotter.LayerPath(Digest.Parse(pulled.Layers[0].ChainId));
        Assert.Equal(FileStatus.Of(Path.Combine(bottom, "bin/busybox"))!.Inode, FileStatus.Of(Path.Combine(bottom, "bin/ls"))!.Inode);

        // The container's view: an overlay of the three.
        string target = Path.Combine(_root.Path, "mnt");
        Directory.CreateDirectory(target);
        var mount = service.PrepareRootfs(pulled.ShortId, "ctr-1");
        Assert.Equal("overlay", mount.Type);
        Assert.Equal(3, mount.LowerDirs.Count);
        service.Snapshotter.Mount("ctr-1", target);
        try
        {
            Assert.False(File.Exists(Path.Combine(target, "etc/gone")));
            Assert.Equal(["new"], Directory.GetFileSystemEntries(Path.Combine(target, "opaque")).Select(Path.GetFileName));
            Assert.Equal("#!busybox one", File.ReadAllText(Path.Combine(target, "bin/ls")));
            Assert.Equal("/bin/busybox", new FileInfo(Path.Combine(target, "bin/sh")).LinkTarget);
            Assert.Equal("box\n", File.ReadAllText(Path.Combine(target, "deep/rel")));
            Assert.Equal("long", File.ReadAllText(Path.Combine(target, "deep", new string('n', 200))));
            Assert.Equal(1000u, FileStatus.Of(Path.Combine(target, "etc/hostname"))!.Uid);
        }
        finally
        {
            service.Snapshotter.Unmount("ctr-1", target);
        }
        Assert.Throws<ImageException>(() => service.Remove(pulled.Id));
        Assert.True(service.RemoveRootfs("ctr-1"));
    }

    [Fact]
    public async Task ASecondPullFindsEverythingPresentAndAShortNameResolvesThroughTheSearchRegistries()
    {
        using var registry = await RegistryProcess.StartAsync();
        var image = TestImage.Layered();
        using (var pusher = new TestPusher(registry.BaseUri))
            await pusher.PushImageAsync("library/app", "latest", image);
        using var service = ImageService.Open(new ImageServiceOptions
        {
            Root = _root.Path,
            Registries = RegistriesConfig.Parse($"""
                unqualified-search-registries = ["{registry.Host}"]
                [[registry]]
                location = "{registry.Host}"
                insecure = true
                """, "test.conf"),
        });

        var first = await service.PullAsync("library/app");
        var events = new List<PullProgress>();
        var second = await service.PullAsync("library/app", progress: new SyncProgress<PullProgress>(events.Add));

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(3, events.Count(e => e.Phase == PullPhase.AlreadyExists));
        Assert.DoesNotContain(events, e => e.Phase == PullPhase.Downloading);
        Assert.Equal(first.Id, service.Resolve("library/app").Id);
        Assert.Equal(first.Id, service.Resolve("library/app:latest").Id);
        Assert.Equal(first.Id, service.Resolve(first.ShortId).Id);
        Assert.Equal(first.Id, service.Resolve(first.Id).Id);
        Assert.Equal(first.Id, service.Resolve(first.RepoDigests[0]).Id);
        Assert.Throws<ImageNotFoundException>(() => service.Resolve("library/other"));
    }

    [Fact]
    public async Task AShortNameMissingOnTheFirstSearchRegistryIsPulledFromTheNext()
    {
        using var empty = new FakeRegistry();
        using var holder = new FakeRegistry();
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        holder.Manifests["team/app:latest"] = (image.MediaType, image.Manifest);
        foreach (byte[] blob in image.Blobs)
            holder.Blobs[Digest.Compute(blob).ToString()] = blob;
        using var service = ImageService.Open(new ImageServiceOptions
        {
            Root = _root.Path,
            Registries = new RegistriesConfig { SearchRegistries = [empty.Host, holder.Host], InsecureRegistries = [empty.Host, holder.Host] },
        });

        var pulled = await service.PullAsync("team/app");

        Assert.Equal([$"{holder.Host}/team/app:latest"], pulled.RepoTags);
        Assert.Contains(empty.Log, line => line.StartsWith("GET /v2/team/app/manifests/latest", StringComparison.Ordinal));
        var error = await Assert.ThrowsAsync<ImageException>(() => service.PullAsync("team/nothing"));
        Assert.StartsWith("pull team/nothing: not found on any search registry", error.Message);
    }

    [Fact]
    public async Task RemovingImagesFreesExactlyTheBlobsAndLayersNoOtherImageUses()
    {
        using var registry = await RegistryProcess.StartAsync();
        var shared = new LayerBuilder().Directory("base/").File("base/file", "shared").Tar();
        var first = TestImage.FromLayers([shared, new LayerBuilder().File("one", "1").Tar()]);
        var second = TestImage.FromLayers([shared, new LayerBuilder().File("two", "2").Tar()]);
        using (var pusher = new TestPusher(registry.BaseUri))
        {
            await pusher.PushImageAsync("test/one", "1", first);
            await pusher.PushImageAsync("test/two", "2", second);
        }
        using var service = Open(registry.Host);
        var one = await service.PullAsync($"{registry.Host}/test/one:1");
        var two = await service.PullAsync($"{registry.Host}/test/two:2");
        service.Tag(one.Id, $"{registry.Host}/test/alias:x");
        Assert.Equal(2, service.Resolve(one.Id).RepoTags.Count);

        // Several names: removing one by name only untags.
        Assert.Throws<ImageException>(() => service.Remove(one.ShortId));
        var untag = service.Remove($"{registry.Host}/test/alias:x");
        Assert.Equal([$"{registry.Host}/test/alias:x"], untag.Untagged);
        Assert.Empty(untag.Deleted);

        var removal = service.Remove($"{registry.Host}/test/one:1");
        Assert.Equal([one.Id], removal.Deleted);
        Assert.True(removal.ReclaimedBytes > 0);
        Assert.False(service.Snapshotter.HasLayer(Digest.Parse(one.Layers[1].ChainId)));
        Assert.True(service.Snapshotter.HasLayer(Digest.Parse(one.Layers[0].ChainId)));
        Assert.Equal(
            new[] { second.Manifest, second.Config }.Concat(second.Layers).Select(b => Digest.Compute(b).ToString()).Order(),
            service.Content.List().Select(b => b.Digest.ToString()).Order());

        Assert.Empty(service.Prune(all: false).Deleted);
        Assert.Equal([two.Id], service.Prune(all: true).Deleted);
        Assert.Empty(service.Content.List());
        Assert.Empty(service.Snapshotter.Layers());
        Assert.Empty(service.Metadata.ListBlobs());
        Assert.Empty(service.Metadata.ListSnapshots());
    }

    [Fact]
    public async Task ABlobWithTheWrongDigestFailsThePullAndLeavesNothing()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Layered();
        registry.Manifests["test/bad:1"] = (image.MediaType, image.Manifest);
        foreach (byte[] blob in image.Blobs)
            registry.Blobs[Digest.Compute(blob).ToString()] = blob;
        var corrupted = (byte[])image.Layers[2].Clone();
        corrupted[^10] ^= 0xff;
        registry.Blobs[Digest.Compute(image.Layers[2]).ToString()] = corrupted;
        using var service = Open(registry.Host);

        var error = await Assert.ThrowsAsync<RegistryException>(() => service.PullAsync($"{registry.Host}/test/bad:1"));
        Assert.Contains(Digest.Compute(image.Layers[2]).ToString(), error.Message);

        Assert.Empty(service.List());
        Assert.Empty(service.Metadata.ListBlobs());
        Assert.False(service.Content.Exists(Digest.Compute(image.Layers[2])));
        Assert.False(service.Snapshotter.HasLayer(ChainId.Of(DiffIds(image))));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(service.Snapshotter.Root, "tmp")));

        // Leftovers of the layers that did succeed are garbage: collected, and the next (good) pull works.
        service.CollectGarbage();
        Assert.Empty(service.Content.List());
        Assert.Empty(service.Snapshotter.Layers());
        registry.Blobs[Digest.Compute(image.Layers[2]).ToString()] = image.Layers[2];
        Assert.Equal(image.ConfigDigest.ToString(), (await service.PullAsync($"{registry.Host}/test/bad:1")).Id);
    }

    [Fact]
    public async Task ALayerWhoseContentIsNotItsDiffIdIsRefused()
    {
        using var registry = new FakeRegistry();
        var other = TestImage.FromLayers([new LayerBuilder().File("x", "not the layer the config names").Tar()]);
        // A config whose single diff ID belongs to another tar than the one the manifest's layer holds.
        var liar = TestImage.FromLayers([new LayerBuilder().File("x", "y").Tar()]);
        var manifest = System.Text.Json.JsonSerializer.Deserialize(liar.Manifest, ImageJsonContext.Default.ImageManifest)!;
        manifest = manifest with { Layers = [TestImage.Describe(MediaTypes.OciLayerGzip, other.Layers[0])] };
        byte[] manifestBytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest);
        registry.Manifests["test/liar:1"] = (MediaTypes.OciManifest, manifestBytes);
        registry.Blobs[liar.ConfigDigest.ToString()] = liar.Config;
        registry.Blobs[Digest.Compute(other.Layers[0]).ToString()] = other.Layers[0];
        using var service = Open(registry.Host);

        var error = await Assert.ThrowsAsync<ImageException>(() => service.PullAsync($"{registry.Host}/test/liar:1"));
        Assert.Contains("the image config says", error.Message);
        Assert.Empty(service.List());
        Assert.Empty(service.Snapshotter.Layers());
    }

    [Fact]
    public async Task TwoServicesPullingTheSameImageAtOnceBothSucceed()
    {
        using var registry = new FakeRegistry();
        var image = TestImage.Create(layers: 4, randomBytes: 2_000_000);
        registry.Manifests["test/same:1"] = (image.MediaType, image.Manifest);
        foreach (byte[] blob in image.Blobs)
            registry.Blobs[Digest.Compute(blob).ToString()] = blob;
        // Slow blobs, so both pulls are in flight on the same layers at once.
        registry.Intercept = async context =>
        {
            if (context.Request.Url!.AbsolutePath.Contains("/blobs/"))
                await Task.Delay(200);
            return false;
        };
        using var first = Open(registry.Host);
        using var second = Open(registry.Host);

        var pulls = await Task.WhenAll(first.PullAsync($"{registry.Host}/test/same:1"), second.PullAsync($"{registry.Host}/test/same:1"));

        Assert.Equal(pulls[0].Id, pulls[1].Id);
        Assert.Single(first.List());
        Assert.All(pulls[0].Layers, layer => Assert.True(first.Snapshotter.HasLayer(Digest.Parse(layer.ChainId))));
    }

    [Fact]
    public void GarbageCollectionWaitsForWritersHoldingTheStoreAndSparesTheirFiles()
    {
        using var writer = Open("unused:5000");
        using var collector = ImageService.Open(new ImageServiceOptions { Root = _root.Path, LockTimeout = TimeSpan.FromMilliseconds(200) });
        byte[] blob = "written, not recorded yet"u8.ToArray();

        using (writer.LockShared())
        using (collector.LockShared()) // shared holders do not exclude each other
        {
            writer.Content.Ingest(Digest.Compute(blob), blob.Length, new MemoryStream(blob));
        }
        using (writer.LockShared())
        {
            var error = Assert.Throws<ImageException>(() => collector.CollectGarbage());
            Assert.Contains("pulls still running", error.Message);
            Assert.True(writer.Content.Exists(Digest.Compute(blob)));
        }

        collector.CollectGarbage();
        Assert.False(writer.Content.Exists(Digest.Compute(blob)));
    }

    private static IEnumerable<Digest> DiffIds(TestImage image)
        => System.Text.Json.JsonSerializer.Deserialize(image.Config, ImageJsonContext.Default.ImageConfig)!.RootFs.DiffIds.Select(Digest.Parse);

    /// <summary>IProgress that reports on the calling thread, so a test sees every event before the call returns.</summary>
    private sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
    {
        private readonly Lock _lock = new();

        public void Report(T value)
        {
            lock (_lock)
                handler(value);
        }
    }
}
