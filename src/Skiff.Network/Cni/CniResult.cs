using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skiff.Network.Cni;

/// <summary>
/// What an ADD made (SPEC.md section 5, "ADD Success"), in the 1.0 shape whatever version the plugin answered in:
/// 0.3.x and 0.4.0 results differ only by the "version" of each IP, and 0.1.0/0.2.0 results (ip4, ip6) are converted
/// as libcni's version package does.
/// </summary>
public sealed record CniResult(
    string CniVersion,
    IReadOnlyList<CniInterface> Interfaces,
    IReadOnlyList<CniIpConfig> Ips,
    IReadOnlyList<CniRoute> Routes,
    CniDns Dns)
{
    /// <summary>Parses a result of any known version.</summary>
    /// <exception cref="CniException">Of kind InvalidArgument, saying what is wrong.</exception>
    public static CniResult Parse(string json)
    {
        try
        {
            return From(CniJson.Parse(json) ?? throw new FormatException("it is null"));
        }
        catch (Exception error) when (error is FormatException or JsonException)
        {
            throw new CniException(ErrorKind.InvalidArgument, $"The CNI result is invalid: {error.Message.TrimEnd('.')}.", error);
        }
    }

    /// <summary>Converts a parsed result; <see cref="FormatException"/> says what is wrong.</summary>
    internal static CniResult From(JsonNode node)
    {
        if (node is not JsonObject result)
            throw new FormatException("it is not a JSON object");
        string version = Text(result, "cniVersion") ?? throw new FormatException("it has no cniVersion");
        if (!CniVersions.IsKnown(version))
            throw new FormatException($"its cniVersion {version} is not a CNI version Skiff knows");
        var dns = ParseDns(result["dns"]);
        if (!CniVersions.AtLeast(version, "0.3.0"))
            return FromLegacy(result, version, dns);

        var interfaces = new List<CniInterface>();
        foreach (var (item, where) in Items(result, "interfaces"))
        {
            interfaces.Add(new CniInterface(
                Text(item, "name") ?? throw new FormatException($"{where} has no name"),
                Text(item, "mac"),
                Number(item, "mtu", where),
                Text(item, "sandbox"),
                Text(item, "socketPath"),
                Text(item, "pciID")));
        }
        var ips = new List<CniIpConfig>();
        foreach (var (item, where) in Items(result, "ips"))
        {
            int? index = Number(item, "interface", where);
            if (index is { } i && (i < 0 || i >= interfaces.Count))
                throw new FormatException($"{where}.interface {i} is not the index of one of its {interfaces.Count} interfaces");
            ips.Add(new CniIpConfig(
                CniCidr.Parse(Text(item, "address") ?? throw new FormatException($"{where} has no address"), $"{where}.address"),
                Address(item, "gateway", where),
                index));
        }
        return new CniResult(version, interfaces, ips, ParseRoutes(result, "routes"), dns);
    }

    /// <summary>0.1.0/0.2.0: one IPv4 and one IPv6 configuration, each with its own routes, and no interfaces.</summary>
    private static CniResult FromLegacy(JsonObject result, string version, CniDns dns)
    {
        var ips = new List<CniIpConfig>();
        var routes = new List<CniRoute>();
        foreach (string family in new[] { "ip4", "ip6" })
        {
            if (result[family] is null)
                continue;
            if (result[family] is not JsonObject ip)
                throw new FormatException($"{family} is not an object");
            ips.Add(new CniIpConfig(
                CniCidr.Parse(Text(ip, "ip") ?? throw new FormatException($"{family} has no ip"), $"{family}.ip"),
                Address(ip, "gateway", family),
                null));
            routes.AddRange(ParseRoutes(ip, "routes", family + "."));
        }
        return new CniResult(version, [], ips, routes, dns);
    }

    private static List<CniRoute> ParseRoutes(JsonObject owner, string key, string prefix = "")
    {
        var routes = new List<CniRoute>();
        foreach (var (item, where) in Items(owner, key, prefix))
        {
            routes.Add(new CniRoute(
                CniCidr.Parse(Text(item, "dst") ?? throw new FormatException($"{where} has no dst"), $"{where}.dst"),
                Address(item, "gw", where),
                Number(item, "mtu", where),
                Number(item, "advmss", where),
                Number(item, "priority", where),
                Number(item, "table", where),
                Number(item, "scope", where)));
        }
        return routes;
    }

    private static CniDns ParseDns(JsonNode? node)
    {
        if (node is null)
            return CniDns.Empty;
        if (node is not JsonObject dns)
            throw new FormatException("dns is not an object");
        return new CniDns(Strings(dns, "nameservers"), Text(dns, "domain"), Strings(dns, "search"), Strings(dns, "options"));
    }

    private static IEnumerable<(JsonObject Item, string Where)> Items(JsonObject owner, string key, string prefix = "")
    {
        if (owner[key] is null)
            yield break;
        if (owner[key] is not JsonArray array)
            throw new FormatException($"{prefix}{key} is not a list");
        for (int index = 0; index < array.Count; index++)
            yield return (array[index] as JsonObject ?? throw new FormatException($"{prefix}{key}[{index}] is not an object"), $"{prefix}{key}[{index}]");
    }

    private static List<string> Strings(JsonObject owner, string key)
    {
        if (owner[key] is null)
            return [];
        if (owner[key] is not JsonArray array)
            throw new FormatException($"dns.{key} is not a list of strings");
        return array.Select(item => item is JsonValue value && value.TryGetValue(out string? text) ? text : throw new FormatException($"dns.{key} is not a list of strings")).ToList();
    }

    private static string? Text(JsonObject owner, string key)
        => owner[key] switch
        {
            null => null,
            JsonValue value when value.TryGetValue(out string? text) => text,
            _ => throw new FormatException($"{key} is not a string"),
        };

    private static int? Number(JsonObject owner, string key, string where)
        => owner[key] switch
        {
            null => null,
            JsonValue value when value.TryGetValue(out int number) && number >= 0 => number,
            _ => throw new FormatException($"{where}.{key} is not a non-negative integer"),
        };

    private static IPAddress? Address(JsonObject owner, string key, string where)
    {
        string? text = Text(owner, key);
        if (string.IsNullOrEmpty(text))
            return null;
        return IPAddress.TryParse(text, out var address) && address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
            ? address
            : throw new FormatException($"{where}.{key} \"{text}\" is not an IP address");
    }
}

/// <summary>An interface an attachment made; <see cref="Sandbox"/> is the netns path for one inside the container, empty or null on the host.</summary>
public sealed record CniInterface(string Name, string? Mac, int? Mtu, string? Sandbox, string? SocketPath, string? PciId);

/// <summary>An address given to the interface at index <see cref="Interface"/> of the result (null: not said, as IPAM results).</summary>
public sealed record CniIpConfig(CniCidr Address, IPAddress? Gateway, int? Interface);

/// <summary>A route; <see cref="Gateway"/> null means the gateway of the matching address, as the spec allows.</summary>
public sealed record CniRoute(CniCidr Destination, IPAddress? Gateway, int? Mtu, int? AdvMss, int? Priority, int? Table, int? Scope);

/// <summary>The resolver configuration a network suggests.</summary>
public sealed record CniDns(IReadOnlyList<string> Nameservers, string? Domain, IReadOnlyList<string> Search, IReadOnlyList<string> Options)
{
    public static readonly CniDns Empty = new([], null, [], []);
}

/// <summary>
/// An address and prefix length, "10.1.2.3/24": unlike <see cref="IPNetwork"/> the host bits are kept, as an interface's
/// address needs them.
/// </summary>
public readonly record struct CniCidr(IPAddress Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";

    internal static CniCidr Parse(string text, string where)
    {
        int slash = text.IndexOf('/');
        if (slash > 0
            && IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            && address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
            && int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out int length)
            && length <= (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            return new CniCidr(address, length);
        throw new FormatException($"{where} \"{text}\" is not an address in CIDR notation");
    }
}
