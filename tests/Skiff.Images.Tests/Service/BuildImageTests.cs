using System.Text.Json.Nodes;
using Skiff.Images.Archive;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Tests.Service;

/// <summary>The images a build makes besides its steps' commits: <see cref="ImageService.Squash"/>, <see cref="ImageService.Prefix"/>, <see cref="ImageService.WithConfigField"/>. Runs as root.</summary>
public sealed class BuildImageTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly ImageService _service;

    public BuildImageTests()
        => _service = ImageService.Open(new ImageServiceOptions { Root = Path.Combine(_temp.Path, "store"), Snapshotter = SnapshotterKind.Overlay });

    public void Dispose()
    {
        _service.Dispose();
        _temp.Dispose();
    }

    private ImageInfo Import(string file)
    {
        byte[] rootfs = new LayerBuilder().Directory("etc/").File("etc/" + file, file).Gzip();
        using var shared = _service.LockShared();
        return _service.Register(RootfsImporter.Import(_service.Content, new MemoryStream(rootfs), new ImportOptions { Tags = [] }), []);
    }

    private ImageInfo Configured(ImageInfo parent, string createdBy)
        => _service.Configure(new ConfigureRequest { ImageId = parent.Id, Config = new ImageExecutionConfig { Env = ["A=1"] }, CreatedBy = createdBy });

    private (int Blobs, int Images, int Snapshots, int Layers) Store()
        => (_service.Content.List().Count(), _service.List().Count, _service.Snapshotter.Keys().Count, _service.Snapshotter.Layers().Count);

    [Fact]
    public void ASquashOntoAnImageThatIsNotTheBaseIsRefusedAndLeavesNothing()
    {
        var image = Configured(Import("a"), "ENV A=1");
        var other = Import("b");
        var before = Store();
        var error = Assert.Throws<ImageException>(() => _service.Squash(new SquashRequest { ImageId = image.Id, BaseImageId = other.Id }));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("squash it onto the image it was built from", error.Message);
        Assert.Equal(before, Store());
    }

    [Fact]
    public void ASquashWithNoLayerAboveTheBaseAddsAnEmptyLayerAndDockersHistory()
    {
        var baseImage = Import("a");
        var image = Configured(Configured(baseImage, "ENV A=1"), "CMD [\"sh\"]");
        var squashed = _service.Squash(new SquashRequest { ImageId = image.Id, BaseImageId = baseImage.Id });
        Assert.Equal(2, squashed.Layers.Count);
        Assert.Equal(baseImage.Layers[0].DiffId, squashed.Layers[0].DiffId);
        Assert.Equal(image.Id, squashed.Parent);
        var history = _service.ConfigDocument(squashed)["history"]!.AsArray();
        Assert.Equal(4, history.Count);
        Assert.Null(history[0]!["empty_layer"]);
        Assert.True(history[1]!["empty_layer"]!.GetValue<bool>());
        Assert.True(history[2]!["empty_layer"]!.GetValue<bool>());
        Assert.Equal($"merge {image.Id} to {baseImage.Id}", history[3]!["comment"]!.GetValue<string>());
        Assert.Equal(["A=1"], _service.Config(squashed).Config!.Env!);
        Assert.Empty(_service.Snapshotter.Keys());
    }

    [Fact]
    public void APrefixHasTheFirstLayersAndHistoryAndTheConfigGivenAndABadOneLeavesNothing()
    {
        var baseImage = Import("a");
        var withField = _service.WithConfigField(Configured(baseImage, "ENV A=1").Id, "skiff.test.v0", new JsonObject { ["x"] = 1 });
        Assert.Equal(1, _service.ConfigDocument(withField)["skiff.test.v0"]!["x"]!.GetValue<int>());

        var prefix = _service.Prefix(new PrefixRequest { ImageId = withField.Id, Layers = 1, History = 1, Config = new ImageExecutionConfig { Cmd = ["sh"] }, ParentId = baseImage.Id });
        Assert.Equal(baseImage.Layers.Select(l => l.DiffId), prefix.Layers.Select(l => l.DiffId));
        var document = _service.ConfigDocument(prefix);
        Assert.Single(document["history"]!.AsArray());
        Assert.Null(document["skiff.test.v0"]);
        Assert.Equal(["sh"], _service.Config(prefix).Config!.Cmd!);

        var before = Store();
        // Two history entries of which one is not empty, but no layer: not a prefix of the image.
        var error = Assert.Throws<ImageException>(() => _service.Prefix(new PrefixRequest { ImageId = withField.Id, Layers = 0, History = 2, Config = new ImageExecutionConfig() }));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Throws<ImageException>(() => _service.Prefix(new PrefixRequest { ImageId = withField.Id, Layers = 2, History = 9, Config = new ImageExecutionConfig() }));
        Assert.Equal(before, Store());
    }
}
