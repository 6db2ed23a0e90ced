using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>Reads and writes a <see cref="Digest"/> as its <c>algorithm:hex</c> string; an invalid one is a JSON error naming it.</summary>
public sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"a digest must be a string, not {reader.TokenType}");
        string? value = reader.GetString();
        return Digest.TryParse(value, out var digest, out var error)
            ? digest
            : throw new JsonException($"invalid digest \"{value}\": {error}");
    }

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options)
        => writer.WriteStringValue(value.ToString());
}
