using System.Text.Json;
using Skiff.Images.Service;
using Skiff.Oci.Image;
using Skiff.Storage.Metadata;
using Skiff.Storage.Snapshots;

namespace Skiff.Engine.Tests;

/// <summary>The image inspect document against the fields, names, types and order of docker's ImageInspect.</summary>
public sealed class ImageInspectTests
{
    private const string Bottom = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string Top = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    private static ImageInfo Image(params string[] chainIds) => new(
        "sha256:" + new string('a', 64), ["docker.io/library/busybox:latest"], ["docker.io/library/busybox@sha256:" + new string('b', 64)],
        new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), "sha256:" + new string('c', 64), "sha256:" + new string('a', 64),
        [.. chainIds.Select((chainId, i) => new LayerRecord(i, chainId, 100, chainId, chainId, Size: 1000 * (i + 1)))]);

    private static JsonElement Serialize(ImageInspect document)
        => JsonDocument.Parse(JsonSerializer.Serialize([document], InspectJsonContext.Default.ListImageInspect)).RootElement[0];

    [Fact]
    public void Has_dockers_top_level_fields_in_dockers_order_with_familiar_names()
    {
        var config = new ImageConfig
        {
            Architecture = "amd64",
            OS = "linux",
            Created = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero),
            RootFs = new ImageRootFs { DiffIds = [Bottom, Top] },
            History = [new ImageHistory { Comment = "first" }, new ImageHistory { Comment = "last" }],
        };
        var document = Serialize(ImageInspect.From(Image(Bottom, Top), config, new OverlaySnapshotter("/store/overlay")));

        Assert.Equal(["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Author", "Architecture", "Os", "Size", "Config",
            "GraphDriver", "RootFS", "Metadata"], document.EnumerateObject().Select(p => p.Name));
        Assert.Equal("busybox:latest", document.GetProperty("RepoTags")[0].GetString());
        Assert.StartsWith("busybox@sha256:", document.GetProperty("RepoDigests")[0].GetString());
        Assert.Equal("last", document.GetProperty("Comment").GetString());
        Assert.Equal("2024-05-06T07:08:09Z", document.GetProperty("Created").GetString());
        Assert.Equal(3000, document.GetProperty("Size").GetInt64());
        Assert.Equal("layers", document.GetProperty("RootFS").GetProperty("Type").GetString());
        Assert.Equal([Bottom, Top], document.GetProperty("RootFS").GetProperty("Layers").EnumerateArray().Select(l => l.GetString()));
        // Never named here: Go's zero time, as docker prints it.
        Assert.Equal("0001-01-01T00:00:00Z", document.GetProperty("Metadata").GetProperty("LastTagTime").GetString());
    }

    [Fact]
    public void Absent_lists_are_null_sets_are_objects_of_empty_objects_and_labels_always_an_object()
    {
        var config = new ImageConfig
        {
            Architecture = "arm64",
            Variant = "v8",
            OS = "linux",
            Config = new ImageExecutionConfig
            {
                Cmd = ["sh"],
                ExposedPorts = new() { ["80/tcp"] = default },
                StopSignal = "SIGQUIT",
            },
        };
        var document = Serialize(ImageInspect.From(Image(Bottom), config, new CopySnapshotter("/store/copy")));

        Assert.Equal("v8", document.GetProperty("Variant").GetString());
        var execution = document.GetProperty("Config");
        Assert.Equal(["User", "ExposedPorts", "Env", "Cmd", "Entrypoint", "Volumes", "WorkingDir", "Labels", "StopSignal"],
            execution.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("Env").ValueKind);
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("Entrypoint").ValueKind);
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("Volumes").ValueKind);
        Assert.Equal("sh", execution.GetProperty("Cmd")[0].GetString());
        Assert.Equal("{}", execution.GetProperty("ExposedPorts").GetProperty("80/tcp").GetRawText());
        Assert.Equal(JsonValueKind.Object, execution.GetProperty("Labels").ValueKind);
        Assert.Equal("SIGQUIT", execution.GetProperty("StopSignal").GetString());
        Assert.Equal("", document.GetProperty("Parent").GetString());
    }

    [Fact]
    public void Graph_driver_names_the_top_layer_upper_and_the_ones_below_lower_topmost_first()
    {
        var snapshotter = new OverlaySnapshotter("/store/overlay");
        var config = new ImageConfig { Architecture = "amd64", OS = "linux" };
        var one = Serialize(ImageInspect.From(Image(Bottom), config, snapshotter)).GetProperty("GraphDriver");
        Assert.Equal("overlay", one.GetProperty("Name").GetString());
        Assert.Equal(["UpperDir"], one.GetProperty("Data").EnumerateObject().Select(p => p.Name));

        var three = Serialize(ImageInspect.From(Image(Bottom, Top, "sha256:" + new string('3', 64)), config, snapshotter)).GetProperty("GraphDriver").GetProperty("Data");
        Assert.Equal(snapshotter.LayerPath(Digest.Parse("sha256:" + new string('3', 64))), three.GetProperty("UpperDir").GetString());
        Assert.Equal($"{snapshotter.LayerPath(Digest.Parse(Top))}:{snapshotter.LayerPath(Digest.Parse(Bottom))}", three.GetProperty("LowerDir").GetString());
        Assert.Equal("copy", Serialize(ImageInspect.From(Image(Bottom), config, new CopySnapshotter("/c"))).GetProperty("GraphDriver").GetProperty("Name").GetString());
    }
}
