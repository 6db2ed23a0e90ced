using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Skiff.Network;

/// <summary>`network create`'s request, as docker's NetworkCreateRequest: subnets, gateways and ranges pair up by containment.</summary>
public sealed record NetworkCreateRequest
{
    public required string Name { get; init; }
    public string Driver { get; init; } = NetworkDrivers.Bridge;
    public IReadOnlyList<string> Subnets { get; init; } = [];
    public IReadOnlyList<string> Gateways { get; init; } = [];
    public IReadOnlyList<string> IpRanges { get; init; } = [];
    public bool Internal { get; init; }
    public bool EnableIPv6 { get; init; }
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>The conflist of a CNI network (JSON).</summary>
    public string? CniConfig { get; init; }
    /// <summary>Where <see cref="CniConfig"/> was read from, for its errors.</summary>
    public string? CniConfigSource { get; init; }
}

/// <summary>Turns a <see cref="NetworkCreateRequest"/> into a network, checked as docker checks it, before anything is made.</summary>
public static partial class NetworkPlanner
{
    public const string BridgeNameOption = "com.docker.network.bridge.name";
    public const string MtuOption = "com.docker.network.driver.mtu";
    /// <summary>The options of docker's bridge driver that Skiff's takes; any other is refused rather than ignored.</summary>
    public static readonly IReadOnlyList<string> BridgeOptions = [BridgeNameOption, MtuOption, "mtu"];
    public static readonly IReadOnlyList<string> PredefinedNames = ["bridge", "host", "none"];

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-zA-Z0-9_.-]{1,15}$")]
    private static partial Regex InterfaceNamePattern();

    public static void CheckName(string name)
    {
        if (!NamePattern().IsMatch(name))
            throw new NetworkException(ErrorKind.InvalidArgument,
                $"\"{name}\" is not a valid network name: use letters, digits, '_', '.' and '-', starting with a letter or digit");
        if (PredefinedNames.Contains(name))
            throw new NetworkException(ErrorKind.AlreadyExists, $"{name} is a pre-defined network: choose another name");
    }

    /// <param name="taken">Subnets that a new one must not overlap: the store's networks and the host's routes.</param>
    /// <param name="linkExists">Whether the host has a link of that name already.</param>
    public static NetworkDefinition Plan(NetworkCreateRequest request, string id, IReadOnlyCollection<IPNetwork> taken,
        IReadOnlyList<AddressPool> pools, Func<string, bool> linkExists, DateTimeOffset now)
    {
        CheckName(request.Name);
        if (request.Driver == NetworkDrivers.Cni)
            return PlanCni(request, id, now);
        if (request.Driver != NetworkDrivers.Bridge)
            throw new NetworkException(ErrorKind.InvalidArgument,
                $"network driver \"{request.Driver}\" is not available: Skiff has the bridge driver and CNI (cni)");

        foreach (var key in request.Options.Keys)
            if (!BridgeOptions.Contains(key))
                throw new NetworkException(ErrorKind.InvalidArgument,
                    $"the bridge driver has no option {key}: it takes {string.Join(", ", BridgeOptions)}");
        int mtu = 0;
        var mtuText = request.Options.GetValueOrDefault(MtuOption) ?? request.Options.GetValueOrDefault("mtu");
        if (mtuText is not null && (!int.TryParse(mtuText, out mtu) || mtu < 68 || mtu > 65535))
            throw new NetworkException(ErrorKind.InvalidArgument, $"the MTU \"{mtuText}\" is not a number from 68 to 65535");

        string bridge = request.Options.GetValueOrDefault(BridgeNameOption) ?? "skbr-" + id[..10];
        if (!InterfaceNamePattern().IsMatch(bridge))
            throw new NetworkException(ErrorKind.InvalidArgument,
                $"\"{bridge}\" is not a valid interface name: at most 15 letters, digits, '_', '.' or '-'");
        if (linkExists(bridge))
            throw new NetworkException(ErrorKind.AlreadyExists, $"the host already has an interface named {bridge}: choose another bridge name");

        var ipam = PlanIpam(request, taken, pools);
        return new NetworkDefinition
        {
            Id = id,
            Name = request.Name,
            Driver = NetworkDrivers.Bridge,
            BridgeName = bridge,
            Ipam = ipam,
            Internal = request.Internal,
            EnableIPv6 = request.EnableIPv6 || ipam.Any(c => c.Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6),
            Mtu = mtu,
            Options = request.Options,
            Labels = request.Labels,
            Created = now,
        };
    }

    private static NetworkDefinition PlanCni(NetworkCreateRequest request, string id, DateTimeOffset now)
    {
        if (request.CniConfig is null)
            throw new NetworkException(ErrorKind.InvalidArgument, $"network {request.Name} uses the cni driver, which needs a CNI configuration list (a .conflist file)");
        if (request.Subnets.Count > 0 || request.Gateways.Count > 0 || request.IpRanges.Count > 0 || request.Options.Count > 0 || request.Internal || request.EnableIPv6)
            throw new NetworkException(ErrorKind.InvalidArgument,
                $"network {request.Name} is a CNI network: its subnets, options and isolation come from its configuration list, not from subnet, gateway, range, option, internal or IPv6 settings");
        // Checked now, so that a bad file is refused at create rather than at its first container's start.
        Cni.CniConfigList.Parse(request.CniConfig, request.CniConfigSource);
        return new NetworkDefinition
        {
            Id = id,
            Name = request.Name,
            Driver = NetworkDrivers.Cni,
            Labels = request.Labels,
            Created = now,
            CniConfig = request.CniConfig,
        };
    }

    private static List<IpamConfig> PlanIpam(NetworkCreateRequest request, IReadOnlyCollection<IPNetwork> taken, IReadOnlyList<AddressPool> pools)
    {
        var subnets = request.Subnets.Select(s => Addresses.ParseSubnet(s, "subnet")).ToList();
        var gateways = request.Gateways.Select(g => IPAddress.TryParse(g, out var a) ? a
            : throw new NetworkException(ErrorKind.InvalidArgument, $"the gateway \"{g}\" is not an IP address")).ToList();
        var ranges = request.IpRanges.Select(r => Addresses.ParseSubnet(r, "IP range")).ToList();
        if (subnets.Count == 0 && (gateways.Count > 0 || ranges.Count > 0))
            throw new NetworkException(ErrorKind.InvalidArgument, "a gateway or IP range needs the subnet it belongs to: give the subnet too");
        for (int i = 0; i < subnets.Count; i++)
            for (int j = i + 1; j < subnets.Count; j++)
                if (Addresses.Overlap(subnets[i], subnets[j]))
                    throw new NetworkException(ErrorKind.InvalidArgument, $"the subnets {subnets[i]} and {subnets[j]} overlap: give each range once");
        if (subnets.Count(s => s.BaseAddress.AddressFamily == AddressFamily.InterNetwork) > 1
            || subnets.Count(s => s.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6) > 1)
            throw new NetworkException(ErrorKind.InvalidArgument, "a bridge network takes one IPv4 subnet and one IPv6 subnet at most");
        if (subnets.Any(s => s.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6) && !request.EnableIPv6)
            throw new NetworkException(ErrorKind.InvalidArgument, "an IPv6 subnet needs IPv6 enabled on the network: add the IPv6 setting (--ipv6)");
        foreach (var subnet in subnets)
        {
            if (Addresses.HostBits(subnet) < 2)
                throw new NetworkException(ErrorKind.InvalidArgument, $"the subnet {subnet} is too small for a gateway and a container");
            var clash = taken.Where(t => Addresses.Overlap(t, subnet)).Select(t => (IPNetwork?)t).FirstOrDefault();
            if (clash is not null)
                throw new NetworkException(ErrorKind.FailedPrecondition,
                    $"the subnet {subnet} overlaps {clash}, which another network or a route of this host uses: choose another subnet");
        }
        foreach (var gateway in gateways)
            if (!subnets.Any(s => s.Contains(gateway)))
                throw new NetworkException(ErrorKind.InvalidArgument, $"the gateway {gateway} is in none of the network's subnets: give one inside {string.Join(" or ", subnets)}");
        foreach (var range in ranges)
            if (!subnets.Any(s => Addresses.Within(range, s)))
                throw new NetworkException(ErrorKind.InvalidArgument, $"the IP range {range} is not inside any of the network's subnets ({string.Join(", ", subnets)})");

        if (!subnets.Any(s => s.BaseAddress.AddressFamily == AddressFamily.InterNetwork))
            subnets.Insert(0, AddressPools.Choose(pools, taken));
        if (request.EnableIPv6 && !subnets.Any(s => s.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6))
            subnets.Add(AddressPools.RandomUniqueLocal(taken));
        return [.. subnets.Select(subnet =>
        {
            var gateway = gateways.FirstOrDefault(g => subnet.Contains(g)) ?? AddressPools.FirstHost(subnet);
            var (first, last) = Addresses.Bounds(subnet);
            var g = Addresses.ToNumber(gateway);
            if (g == first || (subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork && g == last))
                throw new NetworkException(ErrorKind.InvalidArgument, $"the gateway {gateway} is the subnet's own or broadcast address: choose a host address of {subnet}");
            return new IpamConfig(subnet, gateway, ranges.Where(r => Addresses.Within(r, subnet)).Select(r => (IPNetwork?)r).FirstOrDefault());
        })];
    }
}
