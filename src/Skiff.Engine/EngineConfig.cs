using System.Text.Json;
using System.Text.Json.Serialization;
using Skiff.Network;

namespace Skiff.Engine;

/// <summary>
/// The engine's configuration file, with docker's daemon.json names for what it shares with docker: the default
/// network's address (bip) and the pools subnets are chosen from (default-address-pools); and podman's CNI
/// configuration directory (cni-config-dir, its network_config_dir).
/// </summary>
public sealed record EngineConfig
{
    [JsonPropertyName("bip")]
    public string? Bip { get; init; }

    [JsonPropertyName("default-address-pools")]
    public List<AddressPoolConfig>? DefaultAddressPools { get; init; }

    /// <summary>The CNI configuration directory whose networks the store offers; podman's and libcni's by default.</summary>
    [JsonPropertyName("cni-config-dir")]
    public string? CniConfigDir { get; init; }

    public const string DefaultCniConfigDirectory = "/etc/cni/net.d";

    /// <summary>The file's settings, or the defaults when it does not exist.</summary>
    /// <exception cref="EngineException">InvalidArgument: the file is not valid, naming it and what is wrong.</exception>
    public static EngineConfig Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new EngineConfig();
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, EngineConfigJsonContext.Default.EngineConfig) ?? new EngineConfig();
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"the engine's configuration {path} is not valid JSON ({e.Message}): correct it or remove it");
        }
    }

    /// <summary>The pools as the network service takes them, docker's when none are configured.</summary>
    public IReadOnlyList<AddressPool> AddressPools(string path)
        => DefaultAddressPools is not { Count: > 0 } pools ? Network.AddressPools.Default
            : [.. pools.Select(p =>
            {
                var network = Addresses.ParseSubnet(p.Base ?? "", $"address pool base in {path}");
                return p.Size >= network.PrefixLength && p.Size <= Addresses.BitsOf(network.BaseAddress.AddressFamily)
                    ? new AddressPool(network, p.Size)
                    : throw new EngineException(ErrorKind.InvalidArgument, $"the address pool {p.Base} in {path} has size {p.Size}: it must be from {network.PrefixLength} to {Addresses.BitsOf(network.BaseAddress.AddressFamily)}");
            })];
}

public sealed record AddressPoolConfig
{
    [JsonPropertyName("base")]
    public string? Base { get; init; }

    [JsonPropertyName("size")]
    public int Size { get; init; }
}

[JsonSerializable(typeof(EngineConfig))]
internal sealed partial class EngineConfigJsonContext : JsonSerializerContext;
