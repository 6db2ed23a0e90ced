using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace Skiff.Network.Dns;

/// <summary>
/// What the resolver serves, as the engine writes it (<see cref="DnsRecordsFile"/>): each user network with the
/// addresses the resolver listens on (the network's gateways) and its containers, and the host's upstream resolvers
/// for every other name. Settable rather than init-only: System.Text.Json's source generator sets every init-only
/// property, those missing from the JSON to null, instead of keeping their initial values.
/// </summary>
public sealed record DnsRecords
{
    public IReadOnlyList<DnsNetworkRecords> Networks { get; set; } = [];
    /// <summary>"ip" (port 53) or "ip:port" ("[ip6]:port" for IPv6).</summary>
    public IReadOnlyList<string> Upstreams { get; set; } = [];

    [JsonIgnore]
    public int ContainerCount => Networks.Sum(n => n.Containers.Count);

    /// <summary>The upstreams as endpoints, port 53 where none is given.</summary>
    /// <exception cref="DnsException">InvalidArgument: an upstream is not an address.</exception>
    public IReadOnlyList<IPEndPoint> UpstreamEndpoints() => [.. Upstreams.Select(ParseUpstream)];

    /// <summary>Checks every address and name, so a bad record is refused whole, by the writer and the reader alike.</summary>
    /// <exception cref="DnsException">InvalidArgument, naming the network and the value.</exception>
    public void Validate()
    {
        var listening = new HashSet<IPAddress>();
        foreach (var network in Networks)
        {
            if (string.IsNullOrEmpty(network.Id) || string.IsNullOrEmpty(network.Name))
                throw Invalid("a network has no id or name: give both");
            CheckName(network.Name, network);
            foreach (var listen in network.Listen)
            {
                if (listen is null || !IPAddress.TryParse(listen, out var address) || !listening.Add(address))
                    throw Invalid($"the listen address \"{listen}\" of network {network.Name} is not an IP address, or another network listens there too");
            }
            foreach (var container in network.Containers)
            {
                if (container.Names.Count == 0)
                    throw Invalid($"a container of network {network.Name} has no name: give at least its name");
                foreach (var name in container.Names)
                    CheckName(name, network);
                CheckAddresses(container.IPv4, AddressFamily.InterNetwork, network);
                CheckAddresses(container.IPv6, AddressFamily.InterNetworkV6, network);
            }
        }
        foreach (var upstream in Upstreams)
            ParseUpstream(upstream);
    }

    private static void CheckName(string name, DnsNetworkRecords network)
    {
        if (name is null)
            throw Invalid($"a name in network {network.Name} is null: give a DNS name");
        var labels = name.Split('.');
        if (name.Length > 253 || labels.Any(l => l.Length is 0 or > DnsMessage.MaxLabelLength) || !System.Text.Ascii.IsValid(name) || name.Any(char.IsWhiteSpace))
            throw Invalid($"\"{name}\" in network {network.Name} is not a DNS name: use ASCII labels of 1 to 63 characters separated by dots");
    }

    private static void CheckAddresses(IReadOnlyList<string> addresses, AddressFamily family, DnsNetworkRecords network)
    {
        foreach (var text in addresses)
        {
            if (text is null || !IPAddress.TryParse(text, out var address) || address.AddressFamily != family)
                throw Invalid($"\"{text}\" of a container in network {network.Name} is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address");
        }
    }

    private static IPEndPoint ParseUpstream(string text)
    {
        if (text is null)
            throw Invalid("an upstream resolver is null: give an address or address:port");
        if (IPAddress.TryParse(text, out var address))
            return new IPEndPoint(address, 53);
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
            return endpoint;
        throw Invalid($"the upstream resolver \"{text}\" is not an address or address:port");
    }

    private static DnsException Invalid(string message) => new(ErrorKind.InvalidArgument, message);
}

/// <summary>One user network: <see cref="Listen"/> its gateway addresses (IPv4 and IPv6).</summary>
public sealed record DnsNetworkRecords
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public IReadOnlyList<string> Listen { get; set; } = [];
    public IReadOnlyList<DnsContainerRecords> Containers { get; set; } = [];
}

/// <summary>One container on a network: its name, its aliases on that network and its short id, and its addresses there.</summary>
public sealed record DnsContainerRecords
{
    public IReadOnlyList<string> Names { get; set; } = [];
    public IReadOnlyList<string> IPv4 { get; set; } = [];
    public IReadOnlyList<string> IPv6 { get; set; } = [];
}

[JsonSourceGenerationOptions(RespectNullableAnnotations = true)]
[JsonSerializable(typeof(DnsRecords))]
internal sealed partial class DnsJsonContext : JsonSerializerContext;
