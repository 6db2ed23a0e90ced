using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Skiff.Engine.Events;

/// <summary>Who an event is about: a container or image ID, a volume name, and docker's attributes (name, image, labels...).</summary>
public sealed record EventActor(
    [property: JsonPropertyName("ID")] string Id,
    [property: JsonPropertyName("Attributes")] Dictionary<string, string> Attributes);

/// <summary>
/// One event in the shape of docker's events API message, which is also how the journal stores it (one JSON line):
/// Type, Action, Actor, scope, time, timeNano, and for containers and images the legacy status, id and from.
/// </summary>
public sealed record EngineEvent
{
    public const string Container = "container";
    public const string Image = "image";
    public const string Volume = "volume";
    public const string Network = "network";

    [JsonPropertyName("status")]
    public string? Status { get; init; }
    [JsonPropertyName("id")]
    public string? Id { get; init; }
    [JsonPropertyName("from")]
    public string? From { get; init; }
    [JsonPropertyName("Type")]
    public required string Type { get; init; }
    [JsonPropertyName("Action")]
    public required string Action { get; init; }
    [JsonPropertyName("Actor")]
    public required EventActor Actor { get; init; }
    [JsonPropertyName("scope")]
    public string Scope { get; init; } = "local";
    [JsonPropertyName("time")]
    public long Time { get; init; }
    [JsonPropertyName("timeNano")]
    public long TimeNano { get; init; }

    /// <summary>An event happening now: time and timeNano from the clock; legacy fields as docker fills them.</summary>
    public static EngineEvent Now(string type, string action, string actorId, Dictionary<string, string> attributes)
    {
        long nanos = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        bool legacy = type is Container or Image;
        return new EngineEvent
        {
            Status = legacy ? action : null,
            Id = legacy ? actorId : null,
            From = type == Container ? attributes.GetValueOrDefault("image") : null,
            Type = type,
            Action = action,
            Actor = new EventActor(actorId, attributes),
            Time = nanos / 1_000_000_000,
            TimeNano = nanos,
        };
    }

    /// <summary>docker's event time: RFC 3339 with nanoseconds ("2026-11-23T20:44:19.123456789Z").</summary>
    public static string FormatTime(long timeNano)
    {
        var seconds = DateTimeOffset.FromUnixTimeSeconds(Math.DivRem(timeNano, 1_000_000_000, out long fraction));
        return string.Create(CultureInfo.InvariantCulture, $"{seconds.UtcDateTime:yyyy-MM-ddTHH:mm:ss}.{fraction:D9}Z");
    }

    /// <summary>docker's default line: time, type, action, actor and the attributes sorted by key.</summary>
    public override string ToString()
    {
        var text = new StringBuilder($"{FormatTime(TimeNano)} {Type} {Action} {Actor.Id}");
        if (Actor.Attributes.Count > 0)
            text.Append(" (").AppendJoin(", ", Actor.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}")).Append(')');
        return text.ToString();
    }
}
