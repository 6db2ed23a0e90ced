using System.Text;
using System.Text.Json;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Archive;

public sealed class RootfsImporterTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly ContentStore _store;

    public RootfsImporterTests() => _store = new ContentStore(_temp.Path);

    public void Dispose() => _temp.Dispose();

    private static LayerBuilder Rootfs() => new LayerBuilder()
        .Directory("bin/")
        .File("bin/app", "binary", mode: (UnixFileMode)0x1ed)
        .Symlink("bin/sh", "app");

    private ImageConfig Config(LoadedImage image)
        => JsonSerializer.Deserialize(File.ReadAllBytes(_store.BlobPath(image.Config.Digest)), ImageJsonContext.Default.ImageConfig)!;

    private void AssertStoreEmpty()
    {
        Assert.Empty(_store.List());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_store.Root, "ingest")));
    }

    [Theory]
    [InlineData(LayerCompression.None, MediaTypes.OciLayer)]
    [InlineData(LayerCompression.Gzip, MediaTypes.OciLayerGzip)]
    [InlineData(LayerCompression.Zstd, MediaTypes.OciLayerZstd)]
    public void ImportKeepsTheTarballAsTheLayerBlob(LayerCompression compression, string mediaType)
    {
        byte[] plain = Rootfs().Tar();
        byte[] tarball = compression switch
        {
            LayerCompression.Gzip => Rootfs().Gzip(),
            LayerCompression.Zstd => Rootfs().Zstd(),
            _ => plain,
        };
        var created = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var image = RootfsImporter.Import(_store, new MemoryStream(tarball),
            new ImportOptions { Created = created, Message = "from a test", Tags = ["localhost/imported:1"] });

        var layer = Assert.Single(image.Layers);
        Assert.Equal(Digest.Compute(tarball), layer.Digest);
        Assert.Equal(tarball.Length, layer.Size);
        Assert.Equal(mediaType, layer.MediaType);
        Assert.Equal([Digest.Compute(plain)], image.DiffIds);
        Assert.Equal(["localhost/imported:1"], image.Tags);
        var config = Config(image);
        Assert.Equal(Platform.Host.Architecture, config.Architecture);
        Assert.Equal("linux", config.OS);
        Assert.Equal(created, config.Created);
        Assert.Equal([Digest.Compute(plain).ToString()], config.RootFs.DiffIds);
        Assert.Equal("from a test", Assert.Single(config.History!).Comment);
        var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(_store.BlobPath(image.ManifestDigest)), ImageJsonContext.Default.ImageManifest)!;
        Assert.Equal(image.Config, manifest.Config);
        Assert.Equal(MediaTypes.OciManifest, image.ManifestMediaType);
        Assert.Equal(3, _store.List().Count());
    }

    [Fact]
    public void ChangesSetTheRunConfiguration()
    {
        var image = RootfsImporter.Import(_store, new MemoryStream(Rootfs().Tar()), new ImportOptions
        {
            Changes =
            [
                "ENTRYPOINT [\"/bin/app\", \"--flag\"]",
                "CMD=serve --port 80",
                "ENV PATH=/usr/bin:/bin GREETING=\"hello world\"",
                "env LEGACY value with  spaces",
                "ENV PATH=/bin",
                "WORKDIR /srv",
                "WORKDIR data",
                "USER app:app",
                "LABEL org.example.name=\"My App\" version=1",
                "EXPOSE 80 53/udp 8000-8002/tcp",
                "VOLUME [\"/data\", \"/cache\"]",
                "VOLUME /logs",
                "STOPSIGNAL SIGQUIT",
            ],
        });

        var run = Config(image).Config!;
        Assert.Equal(["/bin/app", "--flag"], run.Entrypoint);
        Assert.Equal(["/bin/sh", "-c", "serve --port 80"], run.Cmd);
        Assert.Equal(["PATH=/bin", "GREETING=hello world", "LEGACY=value with  spaces"], run.Env);
        Assert.Equal("/srv/data", run.WorkingDir);
        Assert.Equal("app:app", run.User);
        Assert.Equal(new Dictionary<string, string> { ["org.example.name"] = "My App", ["version"] = "1" }, run.Labels);
        Assert.Equal(["53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"], run.ExposedPorts!.Keys.Order());
        Assert.Equal(["/cache", "/data", "/logs"], run.Volumes!.Keys.Order());
        Assert.Equal("SIGQUIT", run.StopSignal);
    }

    [Theory]
    [InlineData("CMD", "needs an argument")]
    [InlineData("RUN echo hi", "is not one of")]
    [InlineData("FROM=busybox", "is not one of")]
    [InlineData("EXPOSE 80/icmp", "protocol")]
    [InlineData("EXPOSE 70000", "is not a port")]
    [InlineData("VOLUME data", "absolute")]
    [InlineData("ENV KEY", "needs a value")]
    [InlineData("LABEL a=\"open", "unterminated")]
    [InlineData("STOPSIGNAL kill me", "signal")]
    public void InvalidChangeFailsBeforeAnythingIsStored(string change, string reason)
    {
        var error = Assert.Throws<ArchiveException>(() =>
            RootfsImporter.Import(_store, new MemoryStream(Rootfs().Tar()), new ImportOptions { Changes = [change] }));

        Assert.StartsWith($"the change \"{change}\":", error.Message);
        Assert.Contains(reason, error.Message);
        AssertStoreEmpty();
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("text")]
    [InlineData("truncated-gzip")]
    public void BadTarballFailsAndLeavesNothing(string kind)
    {
        byte[] gzip = new LayerBuilder().File("big", new string('x', 100_000)).Add(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "random")
        {
            DataStream = new MemoryStream(System.Security.Cryptography.RandomNumberGenerator.GetBytes(100_000)),
        }).Gzip();
        byte[] input = kind switch
        {
            "empty" => [],
            "text" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("this is not a tarball\n", 100))),
            _ => gzip[..(gzip.Length / 2)],
        };

        var error = Assert.Throws<ArchiveException>(() => RootfsImporter.Import(_store, new MemoryStream(input), new ImportOptions()));

        Assert.StartsWith("import:", error.Message);
        AssertStoreEmpty();
    }
}
