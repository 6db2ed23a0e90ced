using System.Globalization;
using System.Net;
using System.Text.Json;
using Skiff.Interop;

namespace Skiff.Network.Firewall;

/// <summary>One element of a set or map of the table: its key in nft syntax, its mark, and for DNAT maps where it leads.</summary>
internal sealed record FirewallElement(string Set, string Key, string? Comment, DnatTarget? Target = null);

/// <summary>
/// What Skiff's table holds, read back from libnftables' JSON (`list table`): the state is the table itself, so a
/// crashed engine loses nothing and removal deletes exactly what was added.
/// </summary>
internal sealed class FirewallState
{
    public static readonly FirewallState Empty = new([], []);

    private FirewallState(IReadOnlyList<string> networkIds, IReadOnlyList<FirewallElement> elements)
    {
        NetworkIds = networkIds;
        Elements = elements;
    }

    public IReadOnlyList<string> NetworkIds { get; }
    public IReadOnlyList<FirewallElement> Elements { get; }

    public IEnumerable<string> EndpointIds => Elements
        .Where(e => FirewallRules.DnatMaps.Contains(e.Set) && e.Comment is not null)
        .Select(e => e.Comment!).Distinct(StringComparer.Ordinal);

    public IEnumerable<IPNetwork> SubnetsOf(string networkId) => Elements
        .Where(e => e.Set is FirewallRules.Subnets4 or FirewallRules.Subnets6 && e.Comment == networkId)
        .Select(e => IPNetwork.Parse(e.Key.Contains('/') ? e.Key : e.Key + (e.Set == FirewallRules.Subnets4 ? "/32" : "/128")));

    /// <summary>The state in one or more listings (of the table, or of some of its maps).</summary>
    /// <exception cref="FirewallException">A text is not the JSON libnftables writes for a listing.</exception>
    public static FirewallState Parse(params string[] listings)
    {
        var networks = new List<string>();
        var elements = new List<FirewallElement>();
        foreach (var json in listings)
            Parse(json, networks, elements);
        return new FirewallState(networks, elements);
    }

    private static void Parse(string json, List<string> networks, List<FirewallElement> elements)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
            {
                if (item.TryGetProperty("chain", out var chain))
                {
                    var name = chain.GetProperty("name").GetString()!;
                    if (name.StartsWith(FirewallRules.NetworkChainPrefix, StringComparison.Ordinal))
                        networks.Add(name[FirewallRules.NetworkChainPrefix.Length..]);
                }
                else if (item.TryGetProperty("set", out var set) || item.TryGetProperty("map", out set))
                {
                    ReadElements(set, elements);
                }
            }
        }
        // Whatever a listing of an unexpected shape makes JsonDocument or the address parsers throw.
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException
                                      or ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new FirewallException(ErrorKind.Internal, $"Cannot read back the firewall table from libnftables: {e.Message}", e);
        }
    }

    private static void ReadElements(JsonElement set, List<FirewallElement> into)
    {
        var name = set.GetProperty("name").GetString()!;
        if (!set.TryGetProperty("elem", out var elems))
            return;
        var ifnames = set.GetProperty("type").ValueKind == JsonValueKind.String && set.GetProperty("type").GetString() == "ifname";
        foreach (var elem in elems.EnumerateArray())
        {
            // A map's element is [key, data]; a set's is the key alone. A key with a comment is {"elem": {"val", "comment"}}.
            var (key, data) = elem.ValueKind == JsonValueKind.Array ? (elem[0], elem[1]) : (elem, default);
            string? comment = null;
            if (key.ValueKind == JsonValueKind.Object && key.TryGetProperty("elem", out var wrapped))
            {
                comment = wrapped.TryGetProperty("comment", out var c) ? c.GetString() : null;
                key = wrapped.GetProperty("val");
            }
            DnatTarget? target = null;
            if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("concat", out var to)
                && key.ValueKind == JsonValueKind.Object && key.TryGetProperty("concat", out var from))
            {
                // [host address,] protocol, host port : container address, container port
                var protocol = from[from.GetArrayLength() - 2].GetString() switch
                {
                    "tcp" => 6, "udp" => 17, "sctp" => 132, var other => throw new FormatException($"unexpected protocol {other}"),
                };
                target = new DnatTarget((byte)protocol, from[from.GetArrayLength() - 1].GetInt32(), IPAddress.Parse(to[0].GetString()!), to[1].GetInt32());
            }
            into.Add(new FirewallElement(name, Render(key, ifnames), comment, target));
        }
    }

    /// <summary>A key back in nft's syntax, for a delete command.</summary>
    private static string Render(JsonElement value, bool quote) => value.ValueKind switch
    {
        JsonValueKind.String => quote ? $"\"{value.GetString()}\"" : value.GetString()!,
        JsonValueKind.Number => value.GetInt64().ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Object when value.TryGetProperty("concat", out var parts) => string.Join(" . ", parts.EnumerateArray().Select(p => Render(p, quote))),
        JsonValueKind.Object when value.TryGetProperty("prefix", out var prefix) =>
            $"{prefix.GetProperty("addr").GetString()}/{prefix.GetProperty("len").GetInt32().ToString(CultureInfo.InvariantCulture)}",
        JsonValueKind.Object when value.TryGetProperty("range", out var range) => $"{Render(range[0], quote)}-{Render(range[1], quote)}",
        _ => throw new FormatException($"unexpected element value {value.GetRawText()}"),
    };
}
