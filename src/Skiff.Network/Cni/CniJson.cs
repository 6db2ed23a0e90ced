using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skiff.Network.Cni;

/// <summary>How every CNI document (configuration, result, cache entry) is read.</summary>
internal static class CniJson
{
    // A duplicate key would otherwise surface later as an ArgumentException from JsonObject, not as a parse error.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <exception cref="JsonException">The text is not one JSON document, or repeats a key.</exception>
    public static JsonNode? Parse(string json) => JsonNode.Parse(json, documentOptions: Options);

    /// <exception cref="JsonException">The bytes are not one JSON document, or repeat a key.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8) => JsonNode.Parse(utf8, documentOptions: Options);
}
