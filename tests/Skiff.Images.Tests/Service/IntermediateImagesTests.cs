using Skiff.Images.Service;
using Skiff.Storage.Metadata;

namespace Skiff.Images.Tests.Service;

public sealed class IntermediateImagesTests
{
    private static ImageInfo Image(string id, string[] tags, string[] chains, string? parent = null)
        => new(id, tags, [], DateTimeOffset.UnixEpoch, "m-" + id, "c-" + id,
            [.. chains.Select((chain, i) => new LayerRecord(i, "b-" + chain, 1, "d-" + chain, chain))], parent);

    [Fact]
    public void AnUntaggedParentIsIntermediateEvenWithTheSameLayersAsItsChild()
    {
        // A build: base, then an ENV step (same layers), then a RUN step (one more layer), then CMD (same layers), tagged.
        var images = new[]
        {
            Image("base", ["base:1"], ["c1"]),
            Image("env", [], ["c1"], parent: "base"),
            Image("run", [], ["c1", "c2"], parent: "env"),
            Image("cmd", ["built:1"], ["c1", "c2"], parent: "run"),
            Image("leftover", [], ["c1", "c3"], parent: "env"),
        };
        var intermediate = ImageService.IntermediateImages(images);
        Assert.Equal(["env", "run"], intermediate.Order());
    }

    [Fact]
    public void WithoutParentLinksTheLayersTell()
    {
        var images = new[] { Image("old", [], ["c1"]), Image("child", ["x:1"], ["c1", "c2"]) };
        Assert.Equal(["old"], ImageService.IntermediateImages(images));
    }
}
