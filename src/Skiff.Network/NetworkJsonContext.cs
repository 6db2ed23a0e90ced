using System.Text.Json.Serialization;

namespace Skiff.Network;

/// <summary>A subnet as a store row keeps it (IPNetwork and IPAddress have no JSON form of their own).</summary>
internal sealed record IpamRow(string Subnet, string Gateway, string? IpRange);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<IpamRow>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<PortBinding>))]
internal sealed partial class NetworkJsonContext : JsonSerializerContext;
