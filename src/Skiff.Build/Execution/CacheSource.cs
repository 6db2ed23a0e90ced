using System.Text.Json.Nodes;
using Skiff.Images.Service;

namespace Skiff.Build.Execution;

/// <summary>Where a step's result lies in an image: its first <paramref name="Layers"/> layers and <paramref name="History"/> history entries.</summary>
public readonly record struct ImagePrefix(int Layers, int History);

/// <summary>
/// An image given with <c>--cache-from</c>, as the build looks steps up in it. An image built with the inline
/// cache (<see cref="InlineCache"/>) lists its steps' chain keys and where each step's result lies in it: a step
/// with the same chain key is taken from it whatever it is. An image without that metadata is matched the classic
/// builder's way, by its history: from the stage's base on, a step whose history entry (created_by) is the next
/// one of the image; only for steps whose key names all they depend on (see <see cref="Builder"/>), never COPY or
/// ADD, whose created_by does not say what was copied.
/// </summary>
public sealed class CacheSource
{
    private readonly IReadOnlyList<(string CreatedBy, bool EmptyLayer)> _history;
    private readonly IReadOnlyDictionary<string, ImagePrefix> _steps;

    private CacheSource(ImageInfo image, IReadOnlyList<(string, bool)> history, IReadOnlyDictionary<string, ImagePrefix> steps)
    {
        Image = image;
        _history = history;
        _steps = steps;
    }

    public ImageInfo Image { get; }

    /// <summary>Whether the image has the inline cache metadata.</summary>
    public bool HasInlineCache => _steps.Count > 0;

    /// <summary>Reads <paramref name="image"/>'s history and inline cache metadata from its config <paramref name="document"/>.</summary>
    public static CacheSource Read(ImageInfo image, JsonObject document)
    {
        var history = (document["history"] as JsonArray ?? [])
            .Select(node => node is JsonObject entry
                ? (entry["created_by"] is JsonValue text && text.TryGetValue(out string? createdBy) ? createdBy : "",
                    entry["empty_layer"] is JsonValue flag && flag.TryGetValue(out bool empty) && empty)
                : ("", false)).ToList();
        return new CacheSource(image, history, InlineCache.Read(document));
    }

    /// <summary>Where the step with chain key <paramref name="chainKey"/> lies in the image, by its inline cache metadata.</summary>
    public ImagePrefix? Find(string chainKey) => _steps.TryGetValue(chainKey, out var prefix) ? prefix : null;

    /// <summary>Where the image's history goes on from <paramref name="at"/> with a step recorded as <paramref name="createdBy"/>, or null when it does not.</summary>
    public ImagePrefix? Next(ImagePrefix at, string createdBy)
    {
        if (at.History >= _history.Count || _history[at.History].CreatedBy != createdBy)
            return null;
        var next = new ImagePrefix(at.Layers + (_history[at.History].EmptyLayer ? 0 : 1), at.History + 1);
        return next.Layers <= Image.Layers.Count ? next : null;
    }

    /// <summary>Where the image starts from <paramref name="baseImage"/> (whose config has <paramref name="baseHistory"/> history entries), or null when it is not built on it.</summary>
    public ImagePrefix? Start(ImageInfo baseImage, int baseHistory)
        => baseImage.Layers.Count <= Image.Layers.Count && baseHistory <= _history.Count
           && baseImage.Layers.Zip(Image.Layers).All(pair => pair.First.DiffId == pair.Second.DiffId)
            ? new ImagePrefix(baseImage.Layers.Count, baseHistory)
            : null;
}

/// <summary>
/// skiff's inline cache metadata: the top-level image config field <c>skiff.build.cache.v0</c>, written when a build
/// asks for an inline cache (<c>--cache-to type=inline</c> or <c>--build-arg BUILDKIT_INLINE_CACHE=1</c>), as
/// BuildKit writes <c>moby.buildkit.cache.v0</c>. Its own field: BuildKit's holds its own cache graph, base64
/// encoded, which BuildKit would fail to read from an image of ours. The value is
/// <c>{"steps":[{"key":"HEX","layers":N,"history":H}, ...]}</c>: for each step of the final stage, its chain key
/// and the number of the image's layers and history entries its result is made of.
/// </summary>
public static class InlineCache
{
    public const string Field = "skiff.build.cache.v0";

    public static JsonObject Write(IEnumerable<(string ChainKey, ImagePrefix At)> steps)
        => new()
        {
            ["steps"] = new JsonArray([.. steps.Select(step => (JsonNode)new JsonObject
            {
                ["key"] = step.ChainKey,
                ["layers"] = step.At.Layers,
                ["history"] = step.At.History,
            })]),
        };

    /// <summary>The steps of <paramref name="document"/>'s metadata; none when it has none, or metadata this skiff cannot read (it is only a cache).</summary>
    public static IReadOnlyDictionary<string, ImagePrefix> Read(JsonObject document)
    {
        var steps = new Dictionary<string, ImagePrefix>(StringComparer.Ordinal);
        if (document[Field] is not JsonObject metadata || metadata["steps"] is not JsonArray entries)
            return steps;
        foreach (var entry in entries)
        {
            if (entry is JsonObject step && step["key"] is JsonValue key && key.TryGetValue(out string? text)
                && step["layers"] is JsonValue layers && layers.TryGetValue(out int layerCount)
                && step["history"] is JsonValue history && history.TryGetValue(out int historyCount)
                && layerCount >= 0 && historyCount >= 0)
                steps[text] = new ImagePrefix(layerCount, historyCount);
        }
        return steps;
    }
}
