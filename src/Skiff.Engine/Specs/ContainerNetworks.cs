using System.Net;
using Skiff.Network;

namespace Skiff.Engine.Specs;

/// <summary>
/// A container's network settings as docker decides them at create: which mode (none, host, container:NAME, or
/// networks of its own), which networks with which aliases and addresses, and which ports to publish.
/// </summary>
public static class ContainerNetworks
{
    /// <summary>One --network value: a name (or mode), with docker's long form's per-network settings.</summary>
    private sealed record Choice(string Name, List<string> Aliases, string? IPv4, string? IPv6, string? MacAddress);

    private static Choice Parse(string value)
    {
        if (!value.Contains('=', StringComparison.Ordinal))
            return new Choice(value, [], null, null, null);
        string? name = null, ip = null, ip6 = null, mac = null;
        var aliases = new List<string>();
        foreach (var field in value.Split(','))
        {
            int eq = field.IndexOf('=');
            var (key, text) = eq < 0 ? (field, "") : (field[..eq], field[(eq + 1)..]);
            switch (key)
            {
                case "name": name = text; break;
                case "alias": aliases.Add(text); break;
                case "ip": ip = text; break;
                case "ip6": ip6 = text; break;
                case "mac-address": mac = text; break;
                default:
                    throw new EngineException(ErrorKind.InvalidArgument,
                        $"the network setting \"{value}\" has an unknown field {key}: it takes name, alias, ip, ip6 and mac-address");
            }
        }
        if (string.IsNullOrEmpty(name))
            throw new EngineException(ErrorKind.InvalidArgument, $"the network setting \"{value}\" names no network: add name=NETWORK");
        return new Choice(name, aliases, ip, ip6, mac);
    }

    private static bool IsMode(string name) => name is "none" or "host" || name.StartsWith("container:", StringComparison.Ordinal);

    private static string Canonical(string name) => name == "default" ? "bridge" : name;

    /// <summary>Checks what can be checked without the store: the form of each setting, and docker's conflicts between them.</summary>
    /// <exception cref="EngineException">InvalidArgument.</exception>
    public static void Validate(RunOptions options)
    {
        var choices = options.Networks.Select(Parse).ToList();
        foreach (var choice in choices)
        {
            if (choice.Name.StartsWith("container:", StringComparison.Ordinal) && choice.Name.Length == "container:".Length)
                throw new EngineException(ErrorKind.InvalidArgument, "the network mode container: names no container: give container:NAME");
            CheckAddress(choice.IPv4, System.Net.Sockets.AddressFamily.InterNetwork);
            CheckAddress(choice.IPv6, System.Net.Sockets.AddressFamily.InterNetworkV6);
            if (choice.MacAddress is not null)
                MacAddresses.Parse(choice.MacAddress);
        }
        CheckAddress(options.IPv4Address, System.Net.Sockets.AddressFamily.InterNetwork);
        CheckAddress(options.IPv6Address, System.Net.Sockets.AddressFamily.InterNetworkV6);
        if (options.MacAddress is not null)
            MacAddresses.Parse(options.MacAddress);
        foreach (var spec in options.Publish)
            PortSpecs.ParsePublish(spec);
        foreach (var spec in options.Expose)
            PortSpecs.ParseExpose(spec);

        var mode = choices.FirstOrDefault(c => IsMode(c.Name));
        if (mode is null)
            return;
        if (choices.Count > 1)
            throw new EngineException(ErrorKind.InvalidArgument,
                $"the network mode {mode.Name} cannot be combined with other networks: a container on it has no interfaces of its own");
        string where = mode.Name switch
        {
            "host" => "on the host's network",
            "none" => "without a network",
            _ => "in another container's network namespace",
        };
        if (options.IPv4Address is not null || options.IPv6Address is not null || options.NetworkAliases.Count > 0 || mode.Aliases.Count > 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"a container {where} has no network of its own to take addresses or aliases on");
        if (options.MacAddress is not null && mode.Name != "none")
            throw new EngineException(ErrorKind.InvalidArgument, $"a container {where} has no interface of its own to take a MAC address");
        if (options.ExtraHosts.Any(e => NameResolution.ParseExtraHost(e).Address == NameResolution.HostGateway))
            throw new EngineException(ErrorKind.InvalidArgument,
                $"host-gateway is the host's address on the container's network, and a container {where} has no network of its own: give the host's address instead");
        if (options.Publish.Count > 0 || options.PublishAll)
            throw new EngineException(ErrorKind.InvalidArgument, $"a container {where} cannot publish ports: " + (mode.Name == "host"
                ? "its ports are the host's own already" : mode.Name == "none" ? "it has no interface to forward them to" : "publish them on the container whose namespace it shares"));
        if (mode.Name.StartsWith("container:", StringComparison.Ordinal))
        {
            if (options.Hostname is not null)
                throw new EngineException(ErrorKind.InvalidArgument, "a container in another container's network namespace has that container's host name: it cannot be given one");
            if (options.Dns.Count > 0 || options.DnsSearch.Count > 0 || options.DnsOptions.Count > 0 || options.ExtraHosts.Count > 0)
                throw new EngineException(ErrorKind.InvalidArgument, "a container in another container's network namespace shares its name resolution: DNS settings and extra hosts go on that container");
            if (options.Expose.Count > 0)
                throw new EngineException(ErrorKind.InvalidArgument, "a container in another container's network namespace cannot expose ports: expose them on that container");
        }
    }

    private static void CheckAddress(string? text, System.Net.Sockets.AddressFamily family)
    {
        if (text is null)
            return;
        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != family)
            throw new EngineException(ErrorKind.InvalidArgument, $"\"{text}\" is not an {Addresses.Family(family)} address");
    }

    /// <summary>
    /// The options with <see cref="RunOptions.Network"/>, <see cref="RunOptions.Attachments"/> and
    /// <see cref="RunOptions.Ports"/> decided: networks looked up by name, docker's rules for the default network
    /// applied, requested addresses checked against their subnets, -P turned into a request per exposed port, and
    /// the host ports asked for checked free by binding them (a taken one is refused here, at create). The options
    /// have passed <see cref="Validate"/> (creation checks every setting first).
    /// </summary>
    /// <param name="exposed">docker's keys (80/tcp) of the ports the image exposes.</param>
    public static RunOptions Resolve(RunOptions options, Func<NetworkService> networks, IReadOnlyCollection<string> exposed)
    {
        var choices = options.Networks.Count == 0 ? [new Choice("bridge", [], null, null, null)] : options.Networks.Select(Parse).ToList();
        var first = choices[0];
        if (first.Name == "none")
            return options with { Network = NetworkMode.None };
        if (first.Name == "host")
            return options with { Network = NetworkMode.Host };
        if (first.Name.StartsWith("container:", StringComparison.Ordinal))
            return options with { Network = NetworkMode.Container, NetworkContainer = first.Name["container:".Length..] };

        var service = networks();
        var attachments = new List<NetworkAttachment>();
        for (int i = 0; i < choices.Count; i++)
        {
            var choice = choices[i];
            var network = service.Get(Canonical(choice.Name));
            if (network.Driver == NetworkDrivers.Host || network.Driver == NetworkDrivers.Null)
                throw new EngineException(ErrorKind.InvalidArgument, $"network {network.Name} cannot be combined with other networks: a container on it has no interfaces of its own");
            if (attachments.Any(a => a.NetworkId == network.Id))
                throw new EngineException(ErrorKind.InvalidArgument, $"network {network.Name} is given twice: a container has one endpoint per network");
            var aliases = i == 0 ? [.. choice.Aliases, .. options.NetworkAliases] : choice.Aliases;
            var ipv4 = choice.IPv4 ?? (i == 0 ? options.IPv4Address : null);
            var ipv6 = choice.IPv6 ?? (i == 0 ? options.IPv6Address : null);
            if (network.Predefined && (ipv4 is not null || ipv6 is not null))
                throw new EngineException(ErrorKind.InvalidArgument, "an address of the container's choosing is supported on user-defined networks only, not on the default network bridge");
            var mac = (choice.MacAddress ?? (i == 0 ? options.MacAddress : null)) is { } text ? MacAddresses.Parse(text) : null;
            if (network.Driver == NetworkDrivers.Cni)
                CniDriver.CheckJoin(new NetworkJoin(network, aliases, ipv4 is null ? null : IPAddress.Parse(ipv4), ipv6 is null ? null : IPAddress.Parse(ipv6), mac));
            if (network.Predefined && aliases.Count > 0)
                throw new EngineException(ErrorKind.InvalidArgument, "network aliases are supported on user-defined networks only, not on the default network bridge");
            foreach (var address in new[] { ipv4, ipv6 })
                if (address is not null && network.Ipam.Count > 0 && !network.Ipam.Any(c => c.Subnet.Contains(IPAddress.Parse(address))))
                    throw new EngineException(ErrorKind.InvalidArgument,
                        $"the address {address} belongs to none of network {network.Name}'s subnets ({string.Join(", ", network.Ipam.Select(c => c.Subnet))}): choose one inside them");
            attachments.Add(new NetworkAttachment
            {
                NetworkId = network.Id,
                NetworkName = network.Name,
                Aliases = aliases,
                IPv4Address = ipv4,
                IPv6Address = ipv6,
                MacAddress = mac,
            });
        }
        return options with { Network = NetworkMode.Bridge, Attachments = attachments, Ports = Ports(options, exposed, service.PublishedHostPorts) };
    }

    /// <summary>The ports to publish: each -p, then with -P every exposed port no -p publishes, on a free host port.</summary>
    /// <param name="publishedByOthers">What running containers publish already (read only when a host port is asked for): their host ports are DNAT rules, not sockets, so binding would not find them taken.</param>
    private static List<PortRequest> Ports(RunOptions options, IReadOnlyCollection<string> exposed, Func<IReadOnlySet<(string Protocol, string HostIp, int Port)>> publishedByOthers)
    {
        var requests = options.Publish.SelectMany(PortSpecs.ParsePublish).ToList();
        if (options.PublishAll)
            foreach (var key in ExposedPorts(options, exposed))
                if (!requests.Any(r => r.Key == key))
                {
                    var (port, protocol) = PortSpecs.ParseExpose(key)[0];
                    requests.Add(new PortRequest(protocol, port, "", 0, 0));
                }
        if (!requests.Any(r => r.HostPortFirst != 0))
            return requests;
        var published = publishedByOthers();
        var taken = published.Select(p => (p.Protocol, p.Port)).ToHashSet();
        foreach (var request in requests.Where(r => r.HostPortFirst != 0))
        {
            if (request.HostPortFirst == request.HostPortLast
                && published.FirstOrDefault(p => p.Protocol == request.Protocol && p.Port == request.HostPortFirst
                    && (p.HostIp.Length == 0 || request.HostIp.Length == 0 || p.HostIp == request.HostIp)) is { Protocol: not null } holder)
                throw new EngineException(ErrorKind.FailedPrecondition,
                    $"port {request.HostPortFirst}/{request.Protocol} on {(holder.HostIp.Length == 0 ? "the host" : holder.HostIp)} is already in use by another container: stop it, or publish {request.Key} on another host port");
            PortSpecs.Reserve(request, taken);
        }
        return requests;
    }

    /// <summary>docker's Config.ExposedPorts: the image's, --expose's and every published container port, in that order.</summary>
    public static List<string> ExposedPorts(RunOptions options, IReadOnlyCollection<string> image)
    {
        var keys = new List<string>(image);
        foreach (var spec in options.Expose)
            keys.AddRange(PortSpecs.ParseExpose(spec).Select(p => $"{p.Port}/{p.Protocol}"));
        foreach (var spec in options.Publish)
            keys.AddRange(PortSpecs.ParsePublish(spec).Select(r => r.Key));
        return [.. keys.Distinct()];
    }
}
