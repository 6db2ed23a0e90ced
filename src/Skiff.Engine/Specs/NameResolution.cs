using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Skiff.Engine.Specs;

/// <summary>
/// The container's /etc/hosts and /etc/resolv.conf as docker writes them: extra hosts (docker's --add-host) appended
/// to the hosts file, and the host's resolv.conf with its nameservers, search domains or options replaced by the
/// container's own when it has any (docker's --dns, --dns-search, --dns-option), whatever its network.
/// </summary>
public static partial class NameResolution
{
    /// <summary>
    /// The hosts file: the host's own on its network; else loopback names, then the container's addresses with its
    /// host name (docker's lines) or, without any, its host name on loopback; then the extra hosts.
    /// </summary>
    /// <param name="hostGateway">What host-gateway stands for; entries naming it are left out while it is unknown (before the container starts).</param>
    public static string Hosts(string hostname, string? hostFile, IReadOnlyList<string> extraHosts, IReadOnlyList<IPAddress> addresses, IPAddress? hostGateway = null)
    {
        var own = addresses.Count == 0 ? $"127.0.0.1\t{hostname}\n" : string.Concat(addresses.Select(a => $"{a}\t{hostname}\n"));
        var text = new StringBuilder(hostFile ?? $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{own}");
        if (text.Length > 0 && text[^1] != '\n')
            text.Append('\n');
        foreach (var entry in extraHosts)
        {
            var (host, address) = ParseExtraHost(entry);
            if (address == HostGateway)
            {
                if (hostGateway is null)
                    continue;
                address = hostGateway.ToString();
            }
            text.Append(address).Append('\t').Append(host).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// The host's resolv.conf, its nameserver lines replaced by <paramref name="servers"/>, its search line by
    /// <paramref name="search"/> ("." alone: none) and its options line by <paramref name="options"/>, each when given.
    /// </summary>
    public static string ResolvConf(string hostFile, IReadOnlyList<string> servers, IReadOnlyList<string> search, IReadOnlyList<string> options)
    {
        if (servers.Count == 0 && search.Count == 0 && options.Count == 0)
            return hostFile;
        var lines = hostFile.Split('\n').Where(line => line.Length > 0).ToList();
        if (servers.Count > 0)
            Replace(lines, "nameserver", servers.Select(server => "nameserver " + server));
        if (search.Count > 0)
            Replace(lines, "search", search.Count == 1 && search[0] == "." ? [] : ["search " + string.Join(' ', search)]);
        if (options.Count > 0)
            Replace(lines, "options", ["options " + string.Join(' ', options)]);
        return lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// The host's resolv.conf without nameservers on loopback (the container's loopback is its own); Google's public
    /// resolvers when none is left, as docker does.
    /// </summary>
    public static string WithoutLoopbackServers(string hostFile)
    {
        var lines = hostFile.Split('\n').Where(line => line.Length > 0).ToList();
        bool IsLoopbackServer(string line)
        {
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 2 && fields[0] == "nameserver" && IPAddress.TryParse(fields[1].Split('%')[0], out var address) && IPAddress.IsLoopback(address);
        }
        if (!lines.Any(IsLoopbackServer))
            return hostFile;
        lines.RemoveAll(IsLoopbackServer);
        if (!lines.Any(line => line.StartsWith("nameserver", StringComparison.Ordinal)))
            lines.AddRange(["nameserver 8.8.8.8", "nameserver 8.8.4.4"]);
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Checks a container's name resolution settings before anything is made.</summary>
    /// <exception cref="EngineException">InvalidArgument, naming the entry.</exception>
    public static void Validate(RunOptions options)
    {
        foreach (var entry in options.ExtraHosts)
            ParseExtraHost(entry);
        Validate(options.Dns, options.DnsSearch, options.DnsOptions);
    }

    private static void Validate(IReadOnlyList<string> servers, IReadOnlyList<string> search, IReadOnlyList<string> options)
    {
        foreach (var server in servers)
            if (!IsAddress(server))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid DNS server \"{server}\": it must be an IP address");
        foreach (var domain in search)
            if (!(domain == "." && search.Count == 1) && (domain.Length > 255 || !DomainPattern().IsMatch(domain)))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid DNS search domain \"{domain}\": it must be a domain name (or \".\" alone, for none)");
        foreach (var option in options)
            if (option.Length == 0 || option.Any(char.IsWhiteSpace))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid DNS option \"{option}\": it must be one word such as ndots:2");
    }

    /// <summary>docker's HOST:IP (the IP may be IPv6, bare or in brackets); host-gateway needs a bridge network skiff does not have.</summary>
    public static (string Host, string Address) ParseExtraHost(string entry)
    {
        var colon = entry.IndexOf(':');
        if (colon <= 0 || entry[..colon].Any(char.IsWhiteSpace))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid extra host \"{entry}\": expected HOST:IP");
        var host = entry[..colon];
        var address = entry[(colon + 1)..];
        if (address == HostGateway)
            return (host, address);
        if (address.StartsWith('[') && address.EndsWith(']'))
            address = address[1..^1];
        if (!IsAddress(address))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid extra host \"{entry}\": \"{address}\" is not an IP address");
        return (host, address);
    }

    /// <summary>docker's name, in an extra host, for the address the host has on the container's network (its gateway).</summary>
    public const string HostGateway = "host-gateway";

    /// <summary>An IPv6 address, or an IPv4 one in its four-number form only (Go's net.ParseIP, unlike inet_aton, refuses "8.8.8").</summary>
    private static bool IsAddress(string text)
        => text.Contains(':')
            ? IPAddress.TryParse(text, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            : text.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p) <= 255);

    private static void Replace(List<string> lines, string keyword, IEnumerable<string> replacement)
    {
        var first = lines.FindIndex(line => IsKeyword(line, keyword));
        lines.RemoveAll(line => IsKeyword(line, keyword));
        lines.InsertRange(first < 0 ? lines.Count : first, replacement);
    }

    private static bool IsKeyword(string line, string keyword)
        => line.TrimStart().StartsWith(keyword, StringComparison.Ordinal) && line.TrimStart().Length > keyword.Length && char.IsWhiteSpace(line.TrimStart()[keyword.Length]);

    // docker's validateDomain: labels of letters, digits and hyphens, not starting or ending with a hyphen.
    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.?$")]
    private static partial Regex DomainPattern();
}
