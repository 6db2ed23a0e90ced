using System.Text.Json.Serialization;

namespace Skiff.Build.Execution;

[JsonSerializable(typeof(List<string>))]
internal sealed partial class BuildJsonContext : JsonSerializerContext;
