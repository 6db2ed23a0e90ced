using System.Text.Json.Serialization;

namespace Skiff.Cli.Runtime;

[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(List<int>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
