using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Skiff.Interop;
using Skiff.Interop.Netlink;
using Skiff.Network.Cni;
using Skiff.Network.Dns;
using Skiff.Network.Firewall;

namespace Skiff.Network;

/// <summary>How a container joins one network: the network and what the container asks of it.</summary>
public sealed record NetworkJoin(NetworkDefinition Network, IReadOnlyList<string> Aliases, IPAddress? IPv4 = null, IPAddress? IPv6 = null, string? MacAddress = null);

/// <summary>A container's networks as its start asks for them: the first one has the default route and the published ports.</summary>
public sealed record SandboxRequest
{
    public required string ContainerId { get; init; }
    public required string ContainerName { get; init; }
    public required IReadOnlyList<NetworkJoin> Networks { get; init; }
    public IReadOnlyList<PortRequest> Ports { get; init; } = [];
}

/// <summary>
/// A store's networks (`network create/ls/inspect/rm/prune`) and its containers' places on them: each running
/// container on a bridge network has a network namespace of its own, bound to NAMESPACEDIR/ID, with one veth pair
/// per network, its addresses recorded in the store, its published ports and isolation in the firewall table.
/// Everything made for a container is undone by <see cref="Detach"/>, which also frees what a crashed start or a
/// killed monitor left behind. Safe for concurrent calls, from threads and processes.
/// </summary>
public sealed class NetworkService : IDisposable
{
    private readonly NetworkServiceOptions _options;
    private readonly NetworkFirewall _firewall;
    private readonly CniDriver _cni;

    private NetworkService(NetworkServiceOptions options, NetworkStore store)
    {
        _options = options;
        Store = store;
        _firewall = new NetworkFirewall(options.FirewallTable);
        _cni = new CniDriver(options.CniCacheDirectory, options.CniPluginDirectories);
    }

    public NetworkStore Store { get; }

    public static NetworkService Open(NetworkServiceOptions options)
    {
        var store = NetworkStore.Open(options.DatabasePath);
        try
        {
            EnsurePredefined(store, options);
            return new NetworkService(options, store);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public void Dispose() => Store.Dispose();

    /// <summary>bridge, host and none, as docker has them from its start; bridge's subnet is chosen by its first container.</summary>
    private static void EnsurePredefined(NetworkStore store, NetworkServiceOptions options)
    {
        foreach (var (name, driver) in new[] { ("bridge", NetworkDrivers.Bridge), ("host", NetworkDrivers.Host), ("none", NetworkDrivers.Null) })
        {
            if (store.Find(name) is not null)
                continue;
            var network = new NetworkDefinition
            {
                Id = NewId(),
                Name = name,
                Driver = driver,
                BridgeName = driver == NetworkDrivers.Bridge ? options.DefaultBridgeName : "",
                Created = DateTimeOffset.UtcNow,
                Predefined = true,
                Options = driver == NetworkDrivers.Bridge
                    ? new Dictionary<string, string> { ["com.docker.network.bridge.default_bridge"] = "true", [NetworkPlanner.BridgeNameOption] = options.DefaultBridgeName }
                    : new Dictionary<string, string>(),
            };
            try
            {
                store.Create(network);
            }
            catch (NetworkException e) when (e.Kind == ErrorKind.AlreadyExists)
            {
                // another process made it meanwhile
            }
        }
    }

    private static string NewId() => Convert.ToHexStringLower(SecureRandom.Bytes(32));

    /// <summary>The store's networks, those of the CNI configuration directory among them.</summary>
    public IReadOnlyList<NetworkDefinition> List()
    {
        ReadCniConfigDirectory();
        return Store.List();
    }

    /// <summary>
    /// A network by id, name or unique id prefix, those of the CNI configuration directory among them. The directory
    /// is read only when the store has no such network of its own, so that `run` on bridge or a user network does not.
    /// </summary>
    /// <exception cref="NetworkException">NotFound.</exception>
    public NetworkDefinition Get(string idOrName)
    {
        if (Store.Find(idOrName) is { CniConfigFile: null } own)
            return own;
        ReadCniConfigDirectory();
        return Store.Find(idOrName) ?? throw new NetworkException(ErrorKind.NotFound, $"network {idOrName} not found: see the networks that exist with `network ls`");
    }

    private int _cniDirectoryRead;

    /// <summary>
    /// Makes the store's rows match the CNI configuration directory, as podman offers its files as networks: a row
    /// (driver cni, named by the configuration's name, its file in <see cref="NetworkDefinition.CniConfigFileOption"/>)
    /// for each network configured there, updated when its file changed, removed when its file went and no container
    /// is on it (while one is, it stays until the container stops). The directory is read as libcni reads it: the
    /// first file of a name wins. A configuration named as a network `network create` made is skipped: the store's
    /// own network keeps its name. Skipped files are logged, never a failure of the command. Done once per command,
    /// and only by those that list networks or look up one the store has not made itself, so that `ps`, `run` on
    /// bridge and the like never read the directory. Rows rather than a view made per command: endpoints and containers refer to networks by id.
    /// </summary>
    private void ReadCniConfigDirectory()
    {
        if (_options.CniConfigDirectory is not { } directory || Interlocked.Exchange(ref _cniDirectoryRead, 1) == 1)
            return;
        var problems = new List<CniException>();
        var configs = CniConfigList.LoadDirectory(directory, problems);
        var stored = Store.List();
        var offered = new HashSet<string>();
        foreach (var config in configs)
        {
            var file = config.Source!;
            var options = new Dictionary<string, string> { [NetworkDefinition.CniConfigFileOption] = file };
            var existing = stored.FirstOrDefault(n => n.Name == config.Name);
            if (existing is null)
            {
                try
                {
                    Store.Create(new NetworkDefinition
                    {
                        Id = NewId(),
                        Name = config.Name,
                        Driver = NetworkDrivers.Cni,
                        Created = new DateTimeOffset(File.GetLastWriteTimeUtc(file)),
                        Options = options,
                        CniConfig = config.ToJson(),
                    });
                }
                catch (NetworkException e) when (e.Kind == ErrorKind.AlreadyExists)
                {
                    // another command made it meanwhile
                }
            }
            else if (existing.CniConfigFile is null)
            {
                problems.Add(new CniException(ErrorKind.AlreadyExists,
                    $"The CNI configuration {file} is ignored: network {config.Name} of this store has that name already; rename one of them."));
                continue;
            }
            else if (existing.CniConfig != config.ToJson() || existing.CniConfigFile != file)
                Store.SetCniConfig(existing.Id, config.ToJson(), options);
            offered.Add(config.Name);
        }
        foreach (var gone in stored.Where(n => n.CniConfigFile is not null && !offered.Contains(n.Name)))
            Store.Delete(gone.Id);
        foreach (var problem in problems)
            _options.Logger.LogWarning("{Problem}", problem.Message);
    }

    private FileDescriptor HostLock()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_options.HostLockPath)!);
        return Interop.Interop.Libc.LockFile(_options.HostLockPath);
    }

    /// <summary>Subnets a new network must not overlap: this store's networks and the host's routes (its default routes aside).</summary>
    private List<IPNetwork> TakenSubnets(RtNetlink host)
    {
        var taken = Store.List().SelectMany(n => n.Ipam.Select(c => c.Subnet)).ToList();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            taken.AddRange(host.ListRoutes(family).Select(r => r.Destination).Where(AddressPools.Blocks));
        return taken;
    }

    /// <summary>Makes a network: its bridge (up, with its gateways) and its firewall rules, then its row; nothing of it remains on failure.</summary>
    public NetworkDefinition Create(NetworkCreateRequest request)
    {
        NetworkPlanner.CheckName(request.Name);
        ReadCniConfigDirectory();
        if (Store.Find(request.Name) is { } existing && existing.Name == request.Name)
            throw new NetworkException(ErrorKind.AlreadyExists, $"a network named {request.Name} already exists: choose another name, or remove that network");
        using var hostLock = HostLock();
        using var host = RtNetlink.Open();
        var network = NetworkPlanner.Plan(request, NewId(), TakenSubnets(host), _options.AddressPools, name => host.GetLink(name) is not null, DateTimeOffset.UtcNow);
        if (network.Driver != NetworkDrivers.Bridge)
        {
            Store.Create(network);
            return network;
        }
        BridgeDriver.EnsureBridge(host, network, host.GetLink(network.BridgeName), out _);
        try
        {
            _firewall.AddNetwork(FirewallNetworkOf(network));
            Store.Create(network);
            return network;
        }
        catch
        {
            _firewall.RemoveNetwork(network.Id);
            host.DeleteLink(network.BridgeName);
            throw;
        }
    }

    private static FirewallNetwork FirewallNetworkOf(NetworkDefinition network)
        => new(network.Id, network.BridgeName, [.. network.Ipam.Select(c => c.Subnet)], network.Internal);

    /// <summary>Removes a network no running container uses: its row, bridge and rules (the table with the last one).</summary>
    /// <exception cref="NetworkException">FailedPrecondition for bridge, host and none, or while containers are on it.</exception>
    public void Remove(NetworkDefinition network)
    {
        if (network.Predefined)
            throw new NetworkException(ErrorKind.FailedPrecondition, $"{network.Name} is a pre-defined network and cannot be removed");
        // The file is the administrator's, shared with every other CNI user of the host (podman, containerd): removing
        // the row alone would bring it back at the next command.
        if (network.CniConfigFile is { } file)
            throw new NetworkException(ErrorKind.FailedPrecondition,
                $"network {network.Name} is configured by {file} in the CNI configuration directory: remove or move that file to remove the network");
        using var hostLock = HostLock();
        if (!Store.Delete(network.Id))
        {
            if (Store.Find(network.Id) is null)
                return;
            var containers = Store.EndpointsIn(network.Id).Select(e => e.ContainerName);
            throw new NetworkException(ErrorKind.FailedPrecondition,
                $"network {network.Name} has active endpoints ({string.Join(", ", containers)}): stop or disconnect those containers first");
        }
        RemoveLinksAndRules(network);
    }

    private void RemoveLinksAndRules(NetworkDefinition network)
    {
        if (network.Driver != NetworkDrivers.Bridge)
            return;
        _firewall.RemoveNetwork(network.Id);
        using var host = RtNetlink.Open();
        host.DeleteLink(network.BridgeName);
    }

    /// <summary>Where a container's network namespace is bound while it has one.</summary>
    public string NamespacePath(string containerId) => Path.Combine(_options.NamespaceDirectory, containerId);

    /// <summary>
    /// Gives a starting container its network namespace with an interface on each of its networks, in order, and its
    /// published ports. On failure everything made is undone.
    /// </summary>
    public IReadOnlyList<Endpoint> Attach(SandboxRequest request)
    {
        PrivateStore.EnsureDirectory(_options.NamespaceDirectory);
        var path = NamespacePath(request.ContainerId);
        // What an earlier run left: a crashed start's, or a run whose monitor has not freed it yet.
        Detach(request.ContainerId);
        // The socket inside is opened by the thread that makes the namespace: a thread of its own for it would cost a
        // start a thread's start-up and hand-overs, milliseconds on a loaded machine (docs/networking.md, "Set-up cost").
        using var sandbox = NetworkNamespace.Create(path, RtNetlink.Open, out var opened);
        using var inside = opened;
        var endpoints = new List<Endpoint>();
        try
        {
            using var host = RtNetlink.Open();
            inside.SetLinkUp("lo");
            // A new namespace: its interfaces are eth0, eth1, ... in the networks' order.
            for (int i = 0; i < request.Networks.Count; i++)
                endpoints.Add(Join(host, inside, sandbox, request, request.Networks[i], $"eth{i}", primary: i == 0));
            if (request.Networks.Any(j => Resolves(j.Network)))
                UpdateDns();
            return endpoints;
        }
        catch
        {
            Detach(request.ContainerId);
            throw;
        }
    }

    /// <summary>Connects a running container (its namespace exists) to one more network.</summary>
    public Endpoint Connect(string containerId, string containerName, NetworkJoin join)
    {
        using var sandbox = NetworkNamespace.Open(NamespacePath(containerId));
        using var host = RtNetlink.Open();
        using var inside = RtNetlink.OpenIn(sandbox);
        var request = new SandboxRequest { ContainerId = containerId, ContainerName = containerName, Networks = [join] };
        var endpoint = Join(host, inside, sandbox, request, join, FreeInterfaceName(inside), primary: Store.EndpointsOf(containerId).Count == 0);
        if (Resolves(join.Network))
            UpdateDns();
        return endpoint;
    }

    private Endpoint Join(RtNetlink host, RtNetlink inside, NetworkNamespace sandbox, SandboxRequest request, NetworkJoin join, string ifname, bool primary)
    {
        var network = join.Network;
        if (network.Driver == NetworkDrivers.Cni)
            return JoinCni(request, join, ifname, primary);
        Endpoint endpoint;
        int bridgeIndex;
        using (HostLock())
        {
            (network, bridgeIndex) = EnsureReady(host, network);
            var ports = primary ? ReservePorts(request.Ports) : [];
            endpoint = Store.Allocate(network, new EndpointRequest
            {
                ContainerId = request.ContainerId,
                ContainerName = request.ContainerName,
                InterfaceName = ifname,
                HostInterface = HostInterfaceName(request.ContainerId, network.Id),
                IPv4 = join.IPv4,
                IPv6 = join.IPv6,
                MacAddress = join.MacAddress,
                Aliases = join.Aliases,
                Ports = ports,
            });
        }
        try
        {
            BridgeDriver.AddEndpoint(host, inside, sandbox, network, bridgeIndex, endpoint, defaultRoute: primary);
            if (endpoint.Ports.Count > 0)
                _firewall.AddPortMappings(endpoint.EndpointId, [.. PortMappings(network, endpoint)]);
            return endpoint;
        }
        catch
        {
            Release(endpoint, deleteLink: true);
            throw;
        }
    }

    /// <summary>
    /// Joins a CNI network: the row (with the published ports) is recorded first, under the host lock as a bridge
    /// network's, then the plugins' ADD gives it its interface and addresses.
    /// </summary>
    private Endpoint JoinCni(SandboxRequest request, NetworkJoin join, string ifname, bool primary)
    {
        CniDriver.CheckJoin(join);
        NetworkDefinition network;
        Endpoint endpoint;
        using (HostLock())
        {
            network = Store.Find(join.Network.Id) ?? throw new NetworkException(ErrorKind.NotFound, $"network {join.Network.Name} was removed: connect the container to another network");
            endpoint = Store.Allocate(network, new EndpointRequest
            {
                ContainerId = request.ContainerId,
                ContainerName = request.ContainerName,
                InterfaceName = ifname,
                HostInterface = "",
                Aliases = join.Aliases,
                Ports = primary ? ReservePorts(request.Ports) : [],
            });
        }
        try
        {
            var attached = _cni.Add(network, endpoint, NamespacePath(request.ContainerId), join);
            try
            {
                Store.SetAttached(attached);
            }
            catch
            {
                _cni.Delete(network, attached, NamespacePath(request.ContainerId));
                throw;
            }
            return attached;
        }
        catch
        {
            Store.Release(endpoint.ContainerId, endpoint.NetworkId);
            throw;
        }
    }

    /// <summary>The network as it can take containers now, and its bridge's ifindex: the default network gets its subnet and bridge on first use.</summary>
    private (NetworkDefinition Network, int BridgeIndex) EnsureReady(RtNetlink host, NetworkDefinition network)
    {
        network = Store.Find(network.Id) ?? throw new NetworkException(ErrorKind.NotFound, $"network {network.Name} was removed: connect the container to another network");
        if (network.Driver != NetworkDrivers.Bridge)
            throw new NetworkException(ErrorKind.InvalidArgument, $"network {network.Name} uses the {network.Driver} driver, which gives containers no interface of their own");
        var bridge = host.GetLink(network.BridgeName);
        if (network.Ipam.Count == 0 || (network.Predefined && bridge is null && Collides(host, network)))
        {
            network = network with { Ipam = [DefaultIpam(host, network)] };
            Store.SetIpam(network.Id, network.Ipam);
        }
        if (BridgeDriver.EnsureBridge(host, network, bridge, out int bridgeIndex))
        {
            try
            {
                _firewall.AddNetwork(FirewallNetworkOf(network));
            }
            catch
            {
                host.DeleteLink(network.BridgeName);
                throw;
            }
        }
        return (network, bridgeIndex);
    }

    /// <summary>
    /// Whether the default network's subnet, chosen while its bridge was down, is now another link's (another store's
    /// bridge, a VPN): it is then chosen again, as nothing of the network is in use.
    /// </summary>
    private bool Collides(RtNetlink host, NetworkDefinition network)
        => host.ListRoutes(network.Ipam[0].Subnet.BaseAddress.AddressFamily)
            .Any(r => AddressPools.Blocks(r.Destination) && Addresses.Overlap(r.Destination, network.Ipam[0].Subnet));

    private IpamConfig DefaultIpam(RtNetlink host, NetworkDefinition network)
    {
        if (_options.DefaultBridgeAddress is { } bip)
        {
            int slash = bip.IndexOf('/');
            if (slash < 0 || !IPAddress.TryParse(bip[..slash], out var gateway) || !int.TryParse(bip[(slash + 1)..], out int prefix))
                throw new NetworkException(ErrorKind.InvalidArgument, $"the default network's address \"{bip}\" in the engine's configuration is not an address with a prefix length, such as 172.17.0.1/16");
            var subnet = new IPNetwork(gateway, prefix);
            var masked = Addresses.FromNumber(Addresses.Bounds(subnet).First, gateway.AddressFamily);
            return new IpamConfig(new IPNetwork(masked, prefix), gateway);
        }
        var taken = TakenSubnets(host).Where(s => !network.Ipam.Any(c => c.Subnet == s)).ToList();
        var chosen = AddressPools.Choose(_options.AddressPools, taken);
        return new IpamConfig(chosen, AddressPools.FirstHost(chosen));
    }

    /// <summary>
    /// A host port for each request, none of them another container's: those are DNAT rules, not sockets, so binding
    /// would not find them taken. The store is read only when there is something to publish (a start's common case).
    /// </summary>
    private List<PortBinding> ReservePorts(IReadOnlyList<PortRequest> requests)
    {
        if (requests.Count == 0)
            return [];
        var taken = PublishedHostPorts().Select(p => (p.Protocol, p.Port)).ToHashSet();
        return [.. requests.Select(r => PortSpecs.Reserve(r, taken))];
    }

    private static IEnumerable<PortMapping> PortMappings(NetworkDefinition network, Endpoint endpoint)
    {
        foreach (var port in endpoint.Ports)
        {
            IPAddress? hostIp = port.HostIp.Length == 0 ? null : IPAddress.Parse(port.HostIp);
            foreach (var containerIp in new[] { endpoint.IPv4, endpoint.IPv6 })
                if (containerIp is not null && (hostIp is null || hostIp.AddressFamily == containerIp.AddressFamily))
                    yield return new PortMapping(port.Protocol, hostIp, port.HostPort, containerIp, port.ContainerPort, network.BridgeName);
        }
    }

    /// <summary>eth0, eth1...: the first the namespace has no link of (a disconnect may have freed a lower one).</summary>
    private static string FreeInterfaceName(RtNetlink inside)
    {
        for (int i = 0; ; i++)
            if (inside.GetLink($"eth{i}") is null)
                return $"eth{i}";
    }

    /// <summary>"vsk" and 12 hex digits of the container and network ids: unique on the host, and found again from the ids alone.</summary>
    private static string HostInterfaceName(string containerId, string networkId) => $"vsk{containerId[..6]}{networkId[..6]}";

    /// <summary>Takes a running container off one network: its interface, ports and address.</summary>
    public void Disconnect(string containerId, string networkId)
    {
        var endpoint = Store.EndpointsOf(containerId).FirstOrDefault(e => e.NetworkId == networkId);
        if (endpoint is null)
            return;
        Release(endpoint, deleteLink: true);
        if (Store.Find(networkId) is { } network && Resolves(network))
            UpdateDns();
    }

    /// <summary>
    /// Undoes everything <see cref="Attach"/> made for a container, whatever state a crash left it in: rules, veths,
    /// addresses, the namespace, its resolver records. Idempotent.
    /// </summary>
    public void Detach(string containerId)
    {
        var endpoints = Store.EndpointsOf(containerId);
        try
        {
            // CNI plugins' DEL looks for what they made in the namespace, so it runs while the namespace is there.
            foreach (var endpoint in endpoints.Where(IsCni))
                Release(endpoint, deleteLink: false);
        }
        finally
        {
            // The namespace first: the kernel then removes its veth pairs itself, after the caller moved on, where deleting
            // each host end waits some 20 ms of RCU grace periods (measured, docs/networking.md).
            NetworkNamespace.Delete(NamespacePath(containerId));
            foreach (var endpoint in endpoints.Where(e => !IsCni(e)))
                Release(endpoint, deleteLink: false);
            if (endpoints.Any(e => Store.Find(e.NetworkId) is not { } n || Resolves(n)))
                UpdateDns();
        }
    }

    /// <summary>
    /// Deletes a container's namespace ahead of <see cref="Detach"/>, for a caller that knows the container will not run
    /// again (the monitor of an auto-removed one, once it exited): unmounting it waits for an RCU grace period, which
    /// that caller can overlap with other work. Its veths go with it; Detach then finds it gone and frees the rest. Left
    /// to Detach when a CNI network's plugins, whose DEL looks inside, still have to run.
    /// </summary>
    public void DeleteNamespace(string containerId)
    {
        if (!Store.EndpointsOf(containerId).Any(IsCni))
            NetworkNamespace.Delete(NamespacePath(containerId));
    }

    /// <summary>
    /// Asks a running container's CNI plugins whether its attachment to <paramref name="network"/> is as ADD left it
    /// (CHECK); false when the network sets disableCheck, so nothing was asked. The caller holds the container's lock.
    /// </summary>
    /// <exception cref="CniException">What a plugin found wrong, or why CHECK cannot run.</exception>
    public bool CheckCni(NetworkDefinition network, Endpoint endpoint)
        => _cni.Check(network, endpoint, NamespacePath(endpoint.ContainerId));

    /// <summary>Follows a container's rename: its name is what its networks' resolver answers for.</summary>
    public void RenameContainer(string containerId, string name)
    {
        Store.RenameContainer(containerId, name);
        if (Store.EndpointsOf(containerId).Any(e => Store.Find(e.NetworkId) is { } n && Resolves(n)))
            UpdateDns();
    }

    /// <summary>Whether containers on <paramref name="network"/> find each other by name: user networks, as docker's.</summary>
    private static bool Resolves(NetworkDefinition network) => network.Driver == NetworkDrivers.Bridge && !network.Predefined;

    /// <summary>
    /// Writes the records of every user network with containers (their names, aliases and short ids, listened for
    /// on each network's gateways) for the store's resolver, and starts it when containers need it. Under a lock,
    /// so that two commands never write what they read before the other's change.
    /// </summary>
    private void UpdateDns()
    {
        var directory = DnsRecordsFile.DirectoryIn(_options.RunRoot);
        PrivateStore.EnsureDirectory(directory);
        using var recordsLock = Interop.Interop.Libc.LockFile(Path.Combine(directory, "records.lock"));
        var endpoints = Store.AllEndpoints().ToLookup(e => e.NetworkId);
        var networks = Store.List().Where(n => Resolves(n) && endpoints[n.Id].Any()).Select(n => new DnsNetworkRecords
        {
            Id = n.Id,
            Name = n.Name,
            Listen = [.. n.Ipam.Select(c => c.Gateway.ToString())],
            Containers = [.. endpoints[n.Id].Select(e => new DnsContainerRecords
            {
                Names = [e.ContainerName, .. e.Aliases, e.ContainerId[..12]],
                IPv4 = e.IPv4 is null ? [] : [e.IPv4.ToString()],
                IPv6 = e.IPv6 is null ? [] : [e.IPv6.ToString()],
            })],
        }).ToList();
        var records = new DnsRecords { Networks = networks, Upstreams = HostResolvers() };
        DnsRecordsFile.Write(DnsRecordsFile.PathIn(_options.RunRoot), records);
        if (records.ContainerCount > 0 && _options.DnsResolverCommand is { } command)
            DnsResolverProcess.EnsureRunning(_options.RunRoot, command);
    }

    /// <summary>The host's nameservers: the resolver runs in the host's namespace, so loopback ones serve too.</summary>
    private IReadOnlyList<string> HostResolvers()
    {
        if (!File.Exists(_options.HostResolvConf))
            return [];
        return [.. File.ReadLines(_options.HostResolvConf)
            .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 2 && fields[0] == "nameserver" && IPAddress.TryParse(fields[1], out _))
            .Select(fields => fields[1])];
    }

    private bool IsCni(Endpoint endpoint) => Store.Find(endpoint.NetworkId) is { Driver: NetworkDrivers.Cni };

    /// <summary>A CNI endpoint's DEL failing keeps its row (and the runner its cached result), for the next command to retry.</summary>
    private void Release(Endpoint endpoint, bool deleteLink)
    {
        if (Store.Find(endpoint.NetworkId) is { Driver: NetworkDrivers.Cni } cni)
        {
            var netns = NamespacePath(endpoint.ContainerId);
            _cni.Delete(cni, endpoint, File.Exists(netns) ? netns : "");
            Store.Release(endpoint.ContainerId, endpoint.NetworkId);
            return;
        }
        if (endpoint.Ports.Count > 0)
            _firewall.RemovePortMappings(endpoint.EndpointId);
        if (deleteLink)
        {
            using var host = RtNetlink.Open();
            host.DeleteLink(endpoint.HostInterface);
        }
        Store.Release(endpoint.ContainerId, endpoint.NetworkId);
    }

    /// <summary>
    /// Takes the default network's bridge and rules off the host while no container uses it (`network prune`): made
    /// again by its next container. Kept otherwise, as docker keeps docker0: making them costs a container's start
    /// tens of milliseconds (the firewall's batch above all).
    /// </summary>
    /// <returns>Whether there was something to take away.</returns>
    public bool ReleaseIdleDefault()
    {
        using var hostLock = HostLock();
        if (Store.Find("bridge") is not { Predefined: true, Driver: NetworkDrivers.Bridge } network || Store.EndpointsIn(network.Id).Count > 0)
            return false;
        using var host = RtNetlink.Open();
        if (host.GetLink(network.BridgeName) is null && !_firewall.ListNetworkIds().Contains(network.Id))
            return false;
        RemoveLinksAndRules(network);
        return true;
    }

    /// <summary>The host ports the store's running containers publish: (protocol, host address or "", port).</summary>
    public IReadOnlySet<(string Protocol, string HostIp, int Port)> PublishedHostPorts()
        => Store.AllEndpoints().SelectMany(e => e.Ports).Select(p => (p.Protocol, p.HostIp, p.HostPort)).ToHashSet();
}
