using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Skiff.Network.Dns;

/// <summary>
/// The names of one network's containers, as docker's embedded DNS answers them: a container's name, aliases and
/// short id, each also as NAME.NETWORK (libnetwork's Sandbox.ResolveName), matched without regard to case; and the
/// reverse (PTR) of each container address, answered as NAME.NETWORK (libnetwork's ResolveIP).
/// </summary>
internal sealed class DnsZone
{
    private readonly string _networkName;
    private readonly Dictionary<string, (List<IPAddress> V4, List<IPAddress> V6)> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<IPAddress, string> _pointers = [];

    public DnsZone(DnsNetworkRecords network)
    {
        _networkName = network.Name;
        foreach (var container in network.Containers)
        {
            var v4 = container.IPv4.Select(IPAddress.Parse).ToList();
            var v6 = container.IPv6.Select(IPAddress.Parse).ToList();
            foreach (var name in container.Names)
            {
                if (!_names.TryGetValue(name, out var entry))
                    _names[name] = entry = ([], []);
                entry.V4.AddRange(v4.Where(a => !entry.V4.Contains(a)));
                entry.V6.AddRange(v6.Where(a => !entry.V6.Contains(a)));
            }
            foreach (var address in v4.Concat(v6))
                _pointers.TryAdd(address, container.Names[0] + "." + network.Name);
        }
    }

    /// <summary>
    /// The addresses of <paramref name="name"/> of <paramref name="family"/>; null when no container has that name
    /// (the resolver forwards it), empty when one has but without an address of that family (NODATA, as docker).
    /// </summary>
    public IReadOnlyList<IPAddress>? Addresses(string name, AddressFamily family)
    {
        name = name.TrimEnd('.');
        if (!_names.TryGetValue(name, out var entry))
        {
            var suffix = "." + _networkName;
            if (!name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || !_names.TryGetValue(name[..^suffix.Length], out entry))
                return null;
        }
        return family == AddressFamily.InterNetwork ? entry.V4 : entry.V6;
    }

    /// <summary>Whether <paramref name="address"/> is a container's address on this network.</summary>
    public bool HasMember(IPAddress address) => _pointers.ContainsKey(address);

    /// <summary>Every container address of this network.</summary>
    public IEnumerable<IPAddress> Members => _pointers.Keys;

    /// <summary>NAME.NETWORK of the container with the address <paramref name="reverseName"/> names (x.x.x.x.in-addr.arpa or ip6.arpa), else null.</summary>
    public string? Pointer(string reverseName)
        => TryParseReverseName(reverseName, out var address) && _pointers.TryGetValue(address, out var target) ? target : null;

    /// <summary>The address of an in-addr.arpa (4 decimal labels) or ip6.arpa (32 hex nibbles) name, reversed.</summary>
    public static bool TryParseReverseName(string name, out IPAddress address)
    {
        address = IPAddress.None;
        var labels = name.TrimEnd('.').Split('.');
        if (labels.Length == 6 && labels[4].Equals("in-addr", StringComparison.OrdinalIgnoreCase) && labels[5].Equals("arpa", StringComparison.OrdinalIgnoreCase))
        {
            var bytes = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                if (labels[i].Length is 0 or > 3 || !labels[i].All(char.IsAsciiDigit) || !byte.TryParse(labels[i], NumberStyles.None, CultureInfo.InvariantCulture, out bytes[3 - i]))
                    return false;
            }
            address = new IPAddress(bytes);
            return true;
        }
        if (labels.Length == 34 && labels[32].Equals("ip6", StringComparison.OrdinalIgnoreCase) && labels[33].Equals("arpa", StringComparison.OrdinalIgnoreCase))
        {
            var bytes = new byte[16];
            for (int i = 0; i < 32; i++)
            {
                if (labels[i].Length != 1 || !char.IsAsciiHexDigit(labels[i][0]))
                    return false;
                int nibble = Convert.ToInt32(labels[i], 16);
                int index = 15 - i / 2;
                bytes[index] |= (byte)(i % 2 == 0 ? nibble : nibble << 4);
            }
            address = new IPAddress(bytes);
            return true;
        }
        return false;
    }

    /// <summary>The reverse name of <paramref name="address"/>, for PTR queries.</summary>
    public static string ReverseName(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return $"{bytes[3]}.{bytes[2]}.{bytes[1]}.{bytes[0]}.in-addr.arpa";
        var labels = new List<string>(34);
        for (int i = 15; i >= 0; i--)
        {
            labels.Add((bytes[i] & 0xF).ToString("x", CultureInfo.InvariantCulture));
            labels.Add((bytes[i] >> 4).ToString("x", CultureInfo.InvariantCulture));
        }
        return string.Join('.', labels) + ".ip6.arpa";
    }
}
