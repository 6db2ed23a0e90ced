using System.Net;
using Skiff.Engine.Containers;
using Skiff.Engine.Events;
using Skiff.Engine.Specs;
using Skiff.Network;
using Skiff.Network.Cni;

namespace Skiff.Engine;

/// <summary>What `network connect` asks of the network: aliases and addresses, as docker's EndpointSettings.</summary>
public sealed record ConnectRequest
{
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public string? IPv4Address { get; init; }
    public string? IPv6Address { get; init; }
}

/// <summary>
/// The network use cases: create, list, inspect, remove, prune, connect and disconnect, with their events (type
/// network, as docker's). Containers' own set-up and teardown on their networks is the lifecycle's.
/// </summary>
public sealed class NetworkOperations
{
    internal static readonly string[] ListKeys = ["driver", "id", "label", "name", "scope", "type", "dangling"];
    internal static readonly string[] PruneKeys = ["until", "label", "label!"];

    private readonly ContainerContext _context;

    internal NetworkOperations(ContainerContext context) => _context = context;

    private NetworkService Networks => _context.Networks;

    /// <exception cref="EngineException">and <see cref="NetworkException"/>: InvalidArgument for bad settings, AlreadyExists for a name in use, FailedPrecondition for a subnet in use.</exception>
    public NetworkDefinition Create(NetworkCreateRequest request)
    {
        var network = Networks.Create(request);
        Record(network, "create");
        return network;
    }

    /// <summary>The networks docker's `network ls` would show, filtered (driver, id, label, name, scope, type=custom|builtin, dangling).</summary>
    public IReadOnlyList<NetworkDefinition> List(IReadOnlyList<string>? filters = null)
    {
        var values = FilterValues.Parse(filters ?? [], ListKeys, (filter, key, value) =>
        {
            if ((key == "type" && value is not ("custom" or "builtin")) || (key == "dangling" && value is not ("true" or "false" or "1" or "0")))
                throw FilterValues.Invalid(filter);
        });
        var networks = Networks.List();
        var used = values.Has("dangling") ? UsedNetworks() : null;
        return [.. networks.Where(n =>
            values.Match("driver", v => v == n.Driver)
            && values.Match("id", v => n.Id.StartsWith(v, StringComparison.Ordinal))
            && values.Match("name", v => n.Name.Contains(v, StringComparison.Ordinal))
            && values.Match("scope", v => v == "local")
            && values.Match("type", v => (v == "builtin") == n.Predefined)
            && values.Match("dangling", v => (v is "true" or "1") == (!n.Predefined && !used!.Contains(n.Id)))
            && values.MatchLabels(n.Labels))];
    }

    /// <summary>Networks some container (of any state) is attached to.</summary>
    private HashSet<string> UsedNetworks()
        => [.. _context.Store.List().SelectMany(c => c.Config.Options.Attachments.Select(a => a.NetworkId))];

    /// <summary>
    /// A network as docker shows it; <paramref name="verbose"/> (docker's flag) runs CHECK for each running container
    /// of a CNI network and shows what it said, as `CniCheck` in the container's entry: the runtime's way, as the spec
    /// has it, to ask the plugins whether a container's networking is still as ADD left it.
    /// </summary>
    /// <exception cref="NetworkException">NotFound.</exception>
    public NetworkInspect Inspect(string idOrName, bool verbose = false)
    {
        var network = Networks.Get(idOrName);
        var endpoints = FreeStaleEndpoints(network);
        var inspect = NetworkInspect.From(network, endpoints);
        if (!verbose || network.Driver != NetworkDrivers.Cni)
            return inspect;
        return inspect with
        {
            Containers = endpoints.ToDictionary(e => e.ContainerId, e => inspect.Containers[e.ContainerId] with { CniCheck = CheckCni(network, e) }),
        };
    }

    /// <summary>CHECK's outcome, under the container's lock: CHECK must not run while a stop runs DEL.</summary>
    private string CheckCni(NetworkDefinition network, Endpoint endpoint)
    {
        using (_context.DirectoryOf(endpoint.ContainerId).Lock())
        {
            if (!Networks.Store.EndpointsOf(endpoint.ContainerId).Any(e => e.EndpointId == endpoint.EndpointId))
                return "not checked: the container left the network meanwhile";
            try
            {
                return Networks.CheckCni(network, endpoint) ? "passed" : "not checked: the network's configuration sets disableCheck";
            }
            catch (CniException e)
            {
                return $"failed: {e.Message}";
            }
        }
    }

    /// <summary>
    /// The endpoints of a network, after freeing those of containers that are not running any more (a killed monitor,
    /// a crashed start): what `network rm` and `inspect` find left behind is cleaned, not reported.
    /// </summary>
    private IReadOnlyList<Endpoint> FreeStaleEndpoints(NetworkDefinition network)
    {
        var endpoints = Networks.Store.EndpointsIn(network.Id);
        var stale = endpoints.Where(e => _context.Store.Get(e.ContainerId) is not { } c || !ContainerContext.IsActive(_context.Reconcile(c).State.Status))
            .Select(e => e.ContainerId).Distinct().ToList();
        foreach (var container in stale)
            Networks.Detach(container);
        return stale.Count == 0 ? endpoints : Networks.Store.EndpointsIn(network.Id);
    }

    /// <exception cref="NetworkException">NotFound; FailedPrecondition for bridge, host and none, or while running containers are on it.</exception>
    public void Remove(string idOrName)
    {
        var network = Networks.Get(idOrName);
        FreeStaleEndpoints(network);
        Networks.Remove(network);
        Record(network, "destroy");
    }

    /// <summary>
    /// Removes every user network no container is attached to (filters: until, label, label!), except those of the CNI
    /// configuration directory (their files are the administrator's); returns their names.
    /// The default network's bridge and rules go too while no container runs on it (made again when one starts).
    /// </summary>
    public IReadOnlyList<string> Prune(IReadOnlyList<string>? filters = null)
    {
        var filter = PruneFilter.Parse(filters ?? [], PruneKeys, DateTimeOffset.UtcNow);
        FreeStaleEndpoints(Networks.Get("bridge"));
        Networks.ReleaseIdleDefault();
        var used = UsedNetworks();
        var removed = new List<string>();
        foreach (var network in Networks.List().Where(n => !n.Predefined && n.CniConfigFile is null && !used.Contains(n.Id) && filter.Matches(n.Created, n.Labels)))
        {
            try
            {
                Networks.Remove(network);
            }
            catch (NetworkException e) when (e.Kind is ErrorKind.FailedPrecondition or ErrorKind.NotFound)
            {
                continue; // taken by a container meanwhile, or removed by another command
            }
            Record(network, "destroy");
            removed.Add(network.Name);
        }
        return removed;
    }

    /// <summary>
    /// Connects a container to one more network: recorded in its settings, and live (an interface in its namespace)
    /// when it runs, as docker's `network connect`.
    /// </summary>
    /// <exception cref="EngineException">NotFound; AlreadyExists when it is on the network already; InvalidArgument for a container without networks of its own.</exception>
    public void Connect(string networkName, string containerName, ConnectRequest request)
    {
        var network = Networks.Get(networkName);
        var container = _context.Require(containerName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            container = _context.Reconcile(_context.Require(container.Id));
            var options = container.Config.Options;
            if (options.Network != NetworkMode.Bridge || !network.HasEndpoints)
                throw new EngineException(ErrorKind.InvalidArgument,
                    $"container {container.Name} is on the {ContainerInspect.NetworkModeName(options)} network mode, and network {network.Name} is {network.Driver}: only containers on networks of their own connect to bridge networks");
            if (options.Attachments.Any(a => a.NetworkId == network.Id))
                throw new EngineException(ErrorKind.AlreadyExists, $"container {container.Name} is already connected to network {network.Name}");
            var attachment = Attachment(network, container, request);
            if (ContainerContext.IsActive(container.State.Status))
                Networks.Connect(container.Id, container.Name, new NetworkJoin(network, attachment.Aliases,
                    attachment.IPv4Address is null ? null : IPAddress.Parse(attachment.IPv4Address),
                    attachment.IPv6Address is null ? null : IPAddress.Parse(attachment.IPv6Address)));
            _context.Store.UpdateOptions(container.Id, o => o with { Attachments = [.. o.Attachments, attachment] });
            Record(network, "connect", container.Id);
        }
    }

    private static NetworkAttachment Attachment(NetworkDefinition network, ContainerRecord container, ConnectRequest request)
    {
        if (network.Predefined && (request.Aliases.Count > 0 || request.IPv4Address is not null || request.IPv6Address is not null))
            throw new EngineException(ErrorKind.InvalidArgument, "addresses and aliases of the container's choosing are supported on user-defined networks only, not on the default network bridge");
        foreach (var (text, family) in new[] { (request.IPv4Address, System.Net.Sockets.AddressFamily.InterNetwork), (request.IPv6Address, System.Net.Sockets.AddressFamily.InterNetworkV6) })
            if (text is not null && (!IPAddress.TryParse(text, out var address) || address.AddressFamily != family))
                throw new EngineException(ErrorKind.InvalidArgument, $"\"{text}\" is not an {Addresses.Family(family)} address");
        return new NetworkAttachment { NetworkId = network.Id, NetworkName = network.Name, Aliases = request.Aliases, IPv4Address = request.IPv4Address, IPv6Address = request.IPv6Address };
    }

    /// <summary>Takes a container off a network: its interface goes at once when it runs.</summary>
    /// <exception cref="EngineException">NotFound; FailedPrecondition when it is not on the network (unless <paramref name="force"/>).</exception>
    public void Disconnect(string networkName, string containerName, bool force = false)
    {
        var network = Networks.Get(networkName);
        var container = _context.Require(containerName);
        using (_context.DirectoryOf(container.Id).Lock())
        {
            container = _context.Reconcile(_context.Require(container.Id));
            if (!container.Config.Options.Attachments.Any(a => a.NetworkId == network.Id))
            {
                if (force)
                    return;
                throw new EngineException(ErrorKind.FailedPrecondition, $"container {container.Name} is not connected to network {network.Name}");
            }
            Networks.Disconnect(container.Id, network.Id);
            _context.Store.UpdateOptions(container.Id, o => o with { Attachments = [.. o.Attachments.Where(a => a.NetworkId != network.Id)] });
            Record(network, "disconnect", container.Id);
        }
    }

    private void Record(NetworkDefinition network, string action, string? container = null)
    {
        var attributes = new Dictionary<string, string> { ["name"] = network.Name, ["type"] = network.Driver };
        if (container is not null)
            attributes["container"] = container;
        _context.Events.TryRecord(EngineEvent.Now(EngineEvent.Network, action, network.Id, attributes));
    }
}
