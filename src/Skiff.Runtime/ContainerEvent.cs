using System.Text.Json.Serialization;
using Skiff.Cgroups;

namespace Skiff.Runtime;

/// <summary>One line of `events`: runc's {"type":"stats"|"oom","id":...,"data":...}.</summary>
public sealed class ContainerEvent(string type, string id, CgroupStats? data = null)
{
    [JsonPropertyName("type")] public string Type { get; } = type;
    [JsonPropertyName("id")] public string Id { get; } = id;
    [JsonPropertyName("data"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public CgroupStats? Data { get; } = data;
}

[JsonSerializable(typeof(ContainerEvent))]
public sealed partial class ContainerEventJsonContext : JsonSerializerContext;
