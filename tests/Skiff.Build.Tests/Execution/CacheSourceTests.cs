using System.Text.Json.Nodes;
using Skiff.Build.Execution;
using Skiff.Images.Service;
using Skiff.Storage.Metadata;

namespace Skiff.Build.Tests.Execution;

public sealed class CacheSourceTests
{
    private static ImageInfo Image(params string[] diffIds)
        => new("sha256:image", [], [], DateTimeOffset.UnixEpoch, "sha256:manifest", "sha256:config",
            [.. diffIds.Select((diffId, index) => new LayerRecord(index, "sha256:blob" + index, 1, diffId, "sha256:chain" + index))]);

    private static JsonObject History(params (string CreatedBy, bool Empty)[] entries)
        => new() { ["history"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject { ["created_by"] = e.CreatedBy, ["empty_layer"] = e.Empty })]) };

    [Fact]
    public void InlineMetadataIsReadBackAsWritten()
    {
        var document = new JsonObject { [InlineCache.Field] = InlineCache.Write([("k1", new ImagePrefix(2, 5)), ("k2", new ImagePrefix(3, 7))]) };
        var source = CacheSource.Read(Image("a", "b", "c"), document);
        Assert.True(source.HasInlineCache);
        Assert.Equal(new ImagePrefix(3, 7), source.Find("k2"));
        Assert.Null(source.Find("k3"));
    }

    [Fact]
    public void MetadataThatIsNotSkiffsIsNoCacheAndNoError()
    {
        string[] bad =
        [
            """{"skiff.build.cache.v0": "eyJzdGVwcyI6W119"}""",
            """{"skiff.build.cache.v0": {"steps": [{"key": 1, "layers": 1, "history": 1}, {"key": "k", "layers": -1, "history": 1}, {"key": "k", "layers": "1", "history": 1}, null, 3]}}""",
            """{"skiff.build.cache.v0": {"steps": {"key": "k"}}}""",
            """{"history": [{"created_by": 5, "empty_layer": "yes"}, null, 7]}""",
        ];
        foreach (var text in bad)
        {
            var source = CacheSource.Read(Image("a"), (JsonObject)JsonNode.Parse(text)!);
            Assert.False(source.HasInlineCache, text);
            Assert.Null(source.Next(new ImagePrefix(0, 0), "RUN x"));
        }
    }

    [Fact]
    public void RandomMetadataNeverThrows()
    {
        var random = new Random(14);
        JsonNode? Value(int depth) => random.Next(depth > 3 ? 4 : 7) switch
        {
            0 => null,
            1 => random.Next(-5, 5),
            2 => "k" + random.Next(3),
            3 => random.Next(2) == 0,
            4 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => Value(depth + 1))]),
            _ => new JsonObject(new[] { "steps", "key", "layers", "history", "created_by", "empty_layer" }
                .Where(_ => random.Next(2) == 0).Select(name => KeyValuePair.Create(name, Value(depth + 1)))),
        };
        for (int i = 0; i < 2000; i++)
        {
            var document = new JsonObject { [InlineCache.Field] = Value(0), ["history"] = Value(1) };
            var source = CacheSource.Read(Image("a", "b"), document);
            source.Find("k1");
            source.Next(new ImagePrefix(0, 0), "k1");
        }
    }

    [Fact]
    public void HistoryIsFollowedFromTheBaseOneMatchingEntryAtATime()
    {
        var source = CacheSource.Read(Image("base", "run", "copy"),
            History(("base layer", false), ("ENV A=1", true), ("RUN /bin/sh -c make", false), ("COPY a /a", false)));
        Assert.Null(source.Start(Image("other"), 1));
        var start = source.Start(Image("base"), 1);
        Assert.Equal(new ImagePrefix(1, 1), start);
        var env = source.Next(start!.Value, "ENV A=1");
        Assert.Equal(new ImagePrefix(1, 2), env);
        Assert.Null(source.Next(env!.Value, "RUN /bin/sh -c make install"));
        Assert.Equal(new ImagePrefix(2, 3), source.Next(env.Value, "RUN /bin/sh -c make"));
        Assert.Null(source.Next(new ImagePrefix(3, 4), "anything")); // past the end
    }
}
