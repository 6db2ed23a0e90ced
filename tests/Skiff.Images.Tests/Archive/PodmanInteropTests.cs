using System.Text.Json;
using Skiff.Images.Archive;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Archive;

/// <summary>Archives go both ways between skiff and a real podman (with private, temporary storage).</summary>
public sealed class PodmanInteropTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly PrivatePodman _podman = new();
    private readonly ContentStore _store;

    public PodmanInteropTests() => _store = new ContentStore(Path.Combine(_temp.Path, "store"));

    public void Dispose()
    {
        _podman.Dispose();
        _temp.Dispose();
    }

    private JsonElement Inspect(string name) => JsonDocument.Parse(_podman.Run("image", "inspect", name)).RootElement[0];

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(item => item.GetString()!).ToList();

    [Theory]
    [InlineData(ArchiveFormat.DockerArchive)]
    [InlineData(ArchiveFormat.OciArchive)]
    public void PodmanLoadsWhatSkiffSaves(ArchiveFormat format)
    {
        var image = TestImage.Create(layers: 2, randomBytes: 30_000);
        var other = TestImage.Create(layers: 1, randomBytes: 10_000);
        // podman loads an oci-archive only when its index.json has a single entry (one image, one name); a
        // docker-archive may hold several images with several names each.
        var images = format == ArchiveFormat.DockerArchive
            ? new List<ArchiveImage>
            {
                ImageArchiveTests.Put(_store, image, "localhost/skiff-test/app:v1", "localhost/skiff-test/app:latest"),
                ImageArchiveTests.Put(_store, other, "localhost/skiff-test/other:v2"),
            }
            : [ImageArchiveTests.Put(_store, image, "localhost/skiff-test/app:v1")];
        string archive = _podman.File("saved.tar");
        using (var file = File.Create(archive))
            ImageArchiveWriter.Write(_store, images, format, file);

        _podman.Run("load", "-i", archive);

        var inspected = Inspect("localhost/skiff-test/app:v1");
        Assert.Equal(image.ConfigDigest.Encoded, inspected.GetProperty("Id").GetString());
        var config = JsonSerializer.Deserialize(image.Config, ImageJsonContext.Default.ImageConfig)!;
        Assert.Equal(config.RootFs.DiffIds, Strings(inspected.GetProperty("RootFS").GetProperty("Layers")));
        if (format == ArchiveFormat.DockerArchive)
        {
            Assert.Equal(["localhost/skiff-test/app:latest", "localhost/skiff-test/app:v1"], Strings(inspected.GetProperty("RepoTags")).Order());
            Assert.Equal(other.ConfigDigest.Encoded, Inspect("localhost/skiff-test/other:v2").GetProperty("Id").GetString());
        }
        else
        {
            Assert.Equal(["localhost/skiff-test/app:v1"], Strings(inspected.GetProperty("RepoTags")));
        }
    }

    [Fact]
    public void PodmanRunsTheConfigOfAnImportedImage()
    {
        byte[] rootfs = new LayerBuilder().Directory("srv/").File("srv/index.html", "hello").Gzip();
        var imported = RootfsImporter.Import(_store, new MemoryStream(rootfs), new ImportOptions
        {
            Changes = ["CMD [\"/srv/run\"]", "ENV MODE=test", "EXPOSE 8080", "WORKDIR /srv", "LABEL team=images"],
            Tags = ["localhost/skiff-test/imported:v1"],
        });
        string archive = _podman.File("imported.tar");
        using (var file = File.Create(archive))
            ImageArchiveWriter.Write(_store, [new ArchiveImage(imported.ManifestDigest, imported.Tags)], ArchiveFormat.DockerArchive, file);

        _podman.Run("load", "-i", archive);

        var inspected = Inspect("localhost/skiff-test/imported:v1");
        Assert.Equal(imported.Config.Digest.Encoded, inspected.GetProperty("Id").GetString());
        var config = inspected.GetProperty("Config");
        Assert.Equal(["/srv/run"], Strings(config.GetProperty("Cmd")));
        Assert.Contains("MODE=test", Strings(config.GetProperty("Env")));
        Assert.True(config.GetProperty("ExposedPorts").TryGetProperty("8080/tcp", out _));
        Assert.Equal("/srv", config.GetProperty("WorkingDir").GetString());
        Assert.Equal("images", config.GetProperty("Labels").GetProperty("team").GetString());
    }

    [Theory]
    [InlineData("docker-archive")]
    [InlineData("oci-archive")]
    public void SkiffLoadsWhatPodmanSaves(string format)
    {
        byte[] rootfs = new LayerBuilder()
            .Directory("bin/")
            .File("bin/tool", "#!/bin/sh\necho hi\n", mode: (UnixFileMode)0x1ed)
            .Symlink("bin/alias", "tool")
            .Directory("etc/")
            .File("etc/config", "key=value\n", uid: 12, gid: 34)
            .Tar();
        string tarball = _podman.File("rootfs.tar");
        File.WriteAllBytes(tarball, rootfs);
        _podman.Run("import", "--change", "CMD [\"/bin/tool\"]", tarball, "localhost/skiff-test/imported:v3");
        var inspected = Inspect("localhost/skiff-test/imported:v3");
        string archive = _podman.File("podman.tar");
        _podman.Run("save", "--format", format, "-o", archive, "localhost/skiff-test/imported:v3");

        using var input = File.OpenRead(archive);
        var loaded = Assert.Single(ImageArchiveReader.Read(_store, input));

        Assert.Equal("sha256:" + inspected.GetProperty("Id").GetString(), loaded.Config.Digest.ToString());
        Assert.Equal(["localhost/skiff-test/imported:v3"], loaded.Tags);
        Assert.Equal(Strings(inspected.GetProperty("RootFS").GetProperty("Layers")), loaded.DiffIds.Select(d => d.ToString()));
        Assert.Equal([Digest.Compute(rootfs)], loaded.DiffIds);
        var config = JsonSerializer.Deserialize(File.ReadAllBytes(_store.BlobPath(loaded.Config.Digest)), ImageJsonContext.Default.ImageConfig)!;
        Assert.Equal(["/bin/tool"], config.Config!.Cmd);
        Assert.All(loaded.Layers, layer => Assert.True(_store.Exists(layer.Digest)));
    }
}
