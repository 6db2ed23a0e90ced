using System.Text.Json.Serialization;

namespace Skiff.Engine.Containers;

/// <summary>Source-generated JSON (NativeAOT: no reflection) for what the engine stores and prints.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ContainerConfig))]
[JsonSerializable(typeof(ContainerHealth))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<int>))]
public sealed partial class EngineJsonContext : JsonSerializerContext;
