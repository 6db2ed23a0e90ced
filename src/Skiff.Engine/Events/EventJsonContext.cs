using System.Text.Json.Serialization;

namespace Skiff.Engine.Events;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EngineEvent))]
public sealed partial class EventJsonContext : JsonSerializerContext;
