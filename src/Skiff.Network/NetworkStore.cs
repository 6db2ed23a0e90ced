using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Skiff.Storage.Sqlite;

namespace Skiff.Network;

/// <summary>What a container asks of one network when it joins it: addresses (null for any), aliases, ports.</summary>
public sealed record EndpointRequest
{
    public required string ContainerId { get; init; }
    public required string ContainerName { get; init; }
    public required string InterfaceName { get; init; }
    public required string HostInterface { get; init; }
    public IPAddress? IPv4 { get; init; }
    public IPAddress? IPv6 { get; init; }
    public string? MacAddress { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public IReadOnlyList<PortBinding> Ports { get; init; } = [];
}

/// <summary>
/// Networks, and the endpoints of running containers with their addresses, in the store's networks.db. An address is
/// handed out inside the write transaction that records its endpoint, and (network, address) is UNIQUE, so no two
/// `run`s, from any processes, ever get the same one. Safe for concurrent calls.
/// </summary>
public sealed class NetworkStore : IDisposable
{
    private const int SchemaVersion = 1;
    private const string NetworkColumns = "id, name, driver, bridge, ipam, internal, ipv6, mtu, options, labels, created, predefined, cni_config";
    private const string EndpointColumns = "container_id, container_name, network_id, endpoint_id, ifname, host_ifname, mac, ipv4, ipv6, aliases, ports";
    private readonly SqliteDatabase _database;

    private NetworkStore(SqliteDatabase database) => _database = database;

    public static NetworkStore Open(string path) => new(SqliteDatabase.Open(path, connection =>
    {
        connection.Execute("PRAGMA synchronous = NORMAL");
        Migrate(connection);
    }));

    public void Dispose() => _database.Dispose();

    private static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        long version = (long)connection.Scalar("PRAGMA user_version", transaction)!;
        if (version > SchemaVersion)
            throw new NetworkException(ErrorKind.FailedPrecondition, $"the network database's schema {version} is newer than this skiff understands ({SchemaVersion}): use the newer skiff");
        if (version == 0)
        {
            // last_ipv4/last_ipv6: where the next search for a free address starts, so that a released address is
            // the last to be handed out again (docker's IPAM does the same), not the first: a peer's ARP cache or
            // conntrack entries for the old container then rarely meet the new one.
            transaction.Execute("""
                CREATE TABLE networks (
                    id         TEXT PRIMARY KEY,
                    name       TEXT NOT NULL UNIQUE,
                    driver     TEXT NOT NULL,
                    bridge     TEXT NOT NULL,
                    ipam       TEXT NOT NULL,
                    internal   INTEGER NOT NULL,
                    ipv6       INTEGER NOT NULL,
                    mtu        INTEGER NOT NULL,
                    options    TEXT NOT NULL,
                    labels     TEXT NOT NULL,
                    created    INTEGER NOT NULL,
                    predefined INTEGER NOT NULL,
                    cni_config TEXT,
                    last_ipv4  TEXT,
                    last_ipv6  TEXT
                );
                CREATE TABLE endpoints (
                    container_id TEXT NOT NULL,
                    container_name TEXT NOT NULL,
                    network_id   TEXT NOT NULL REFERENCES networks(id),
                    endpoint_id  TEXT NOT NULL,
                    ifname       TEXT NOT NULL,
                    host_ifname  TEXT NOT NULL,
                    mac          TEXT NOT NULL,
                    ipv4         TEXT,
                    ipv6         TEXT,
                    aliases      TEXT NOT NULL,
                    ports        TEXT NOT NULL,
                    PRIMARY KEY (container_id, network_id),
                    UNIQUE (network_id, ipv4),
                    UNIQUE (network_id, ipv6)
                );
                PRAGMA user_version = 1;
                """);
        }
        transaction.Commit();
    }

    /// <summary>Records a new network; a name in use fails as docker's does, and nothing is written.</summary>
    public void Create(NetworkDefinition network)
    {
        try
        {
            _database.Execute($"INSERT INTO networks({NetworkColumns}) VALUES ($id, $name, $driver, $bridge, $ipam, $internal, $ipv6, $mtu, $options, $labels, $created, $predefined, $cni_config)",
                ("$id", network.Id), ("$name", network.Name), ("$driver", network.Driver), ("$bridge", network.BridgeName),
                ("$ipam", IpamJson(network.Ipam)), ("$internal", network.Internal), ("$ipv6", network.EnableIPv6), ("$mtu", network.Mtu),
                ("$options", JsonSerializer.Serialize(new Dictionary<string, string>(network.Options), NetworkJsonContext.Default.DictionaryStringString)),
                ("$labels", JsonSerializer.Serialize(new Dictionary<string, string>(network.Labels), NetworkJsonContext.Default.DictionaryStringString)),
                ("$created", network.Created.ToUnixTimeMilliseconds()), ("$predefined", network.Predefined), ("$cni_config", (object?)network.CniConfig ?? DBNull.Value));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
        {
            throw new NetworkException(ErrorKind.AlreadyExists, $"a network named {network.Name} already exists: choose another name, or remove that network");
        }
    }

    /// <summary>Sets the subnets of a network that had none yet (the default network at its first container).</summary>
    public void SetIpam(string networkId, IReadOnlyList<IpamConfig> ipam)
        => _database.Execute("UPDATE networks SET ipam = $ipam WHERE id = $id", ("$ipam", IpamJson(ipam)), ("$id", networkId));

    /// <summary>A CNI network's configuration and options, as its file in the configuration directory now has them.</summary>
    public void SetCniConfig(string networkId, string cniConfig, IReadOnlyDictionary<string, string> options)
        => _database.Execute("UPDATE networks SET cni_config = $cni_config, options = $options WHERE id = $id", ("$cni_config", cniConfig),
            ("$options", JsonSerializer.Serialize(new Dictionary<string, string>(options), NetworkJsonContext.Default.DictionaryStringString)), ("$id", networkId));

    public IReadOnlyList<NetworkDefinition> List()
        => _database.Query($"SELECT {NetworkColumns} FROM networks ORDER BY created, name", ReadNetwork);

    /// <summary>A network by full id, name or unique id prefix, in docker's order; null when none matches.</summary>
    public NetworkDefinition? Find(string idOrName)
    {
        var exact = _database.Query($"SELECT {NetworkColumns} FROM networks WHERE id = $key OR name = $key ORDER BY id = $key DESC", ReadNetwork, ("$key", idOrName));
        if (exact.Count > 0)
            return exact[0];
        if (idOrName.Length == 0 || !idOrName.All(Uri.IsHexDigit))
            return null;
        var byPrefix = _database.Query($"SELECT {NetworkColumns} FROM networks WHERE id LIKE $prefix", ReadNetwork, ("$prefix", idOrName.ToLowerInvariant() + "%"));
        return byPrefix.Count switch
        {
            0 => null,
            1 => byPrefix[0],
            _ => throw new NetworkException(ErrorKind.InvalidArgument, $"the network ID prefix {idOrName} is ambiguous: {byPrefix.Count} networks start with it; give more of the ID"),
        };
    }

    /// <summary>Removes a network that no endpoint uses; false when it had endpoints (or was gone).</summary>
    public bool Delete(string networkId)
        => _database.InTransaction(transaction =>
        {
            if (transaction.Query("SELECT 1 FROM endpoints WHERE network_id = $id LIMIT 1", _ => true, ("$id", networkId)).Count > 0)
                return false;
            return transaction.Execute("DELETE FROM networks WHERE id = $id", ("$id", networkId)) > 0;
        });

    /// <summary>
    /// Records <paramref name="request"/>'s endpoint on <paramref name="network"/> with its addresses: those asked for
    /// (checked to be inside a subnet and free), else the next free ones after the last handed out.
    /// </summary>
    public Endpoint Allocate(NetworkDefinition network, EndpointRequest request)
        => _database.InTransaction(transaction =>
        {
            var row = transaction.Query("SELECT last_ipv4, last_ipv6 FROM networks WHERE id = $id", r => (V4: r.IsDBNull(0) ? null : r.GetString(0), V6: r.IsDBNull(1) ? null : r.GetString(1)), ("$id", network.Id));
            if (row.Count == 0)
                throw new NetworkException(ErrorKind.NotFound, $"network {network.Name} was removed meanwhile: create it again, or use another network");
            if (transaction.Query("SELECT 1 FROM endpoints WHERE network_id = $n AND container_id = $c", _ => true, ("$n", network.Id), ("$c", request.ContainerId)).Count > 0)
                throw new NetworkException(ErrorKind.AlreadyExists, $"container {request.ContainerId[..12]} is already connected to network {network.Name}");
            var used = transaction.Query("SELECT ipv4, ipv6 FROM endpoints WHERE network_id = $id",
                r => (r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)), ("$id", network.Id));
            var usedV4 = used.Where(u => u.Item1 is not null).Select(u => Addresses.ToNumber(IPAddress.Parse(u.Item1!))).ToHashSet();
            var usedV6 = used.Where(u => u.Item2 is not null).Select(u => Addresses.ToNumber(IPAddress.Parse(u.Item2!))).ToHashSet();
            var v4Config = network.Ipam.FirstOrDefault(c => c.Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork);
            var v6Config = network.EnableIPv6 ? network.Ipam.FirstOrDefault(c => c.Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6) : null;
            var v4 = v4Config is null ? Refuse(request.IPv4, network, "IPv4") : Choose(network, v4Config, request.IPv4, usedV4, row[0].V4);
            var v6 = v6Config is null ? Refuse(request.IPv6, network, "IPv6") : Choose(network, v6Config, request.IPv6, usedV6, row[0].V6);
            var endpoint = new Endpoint
            {
                ContainerId = request.ContainerId,
                ContainerName = request.ContainerName,
                NetworkId = network.Id,
                EndpointId = Convert.ToHexStringLower(Skiff.Interop.SecureRandom.Bytes(32)),
                InterfaceName = request.InterfaceName,
                HostInterface = request.HostInterface,
                MacAddress = request.MacAddress ?? MacAddresses.For(v4),
                IPv4 = v4,
                IPv6 = v6,
                Aliases = request.Aliases,
                Ports = request.Ports,
            };
            transaction.Execute($"INSERT INTO endpoints({EndpointColumns}) VALUES ($c, $cn, $n, $e, $if, $hif, $mac, $v4, $v6, $aliases, $ports)",
                ("$c", endpoint.ContainerId), ("$cn", endpoint.ContainerName), ("$n", network.Id), ("$e", endpoint.EndpointId), ("$if", endpoint.InterfaceName), ("$hif", endpoint.HostInterface),
                ("$mac", endpoint.MacAddress), ("$v4", (object?)v4?.ToString() ?? DBNull.Value), ("$v6", (object?)v6?.ToString() ?? DBNull.Value),
                ("$aliases", JsonSerializer.Serialize(endpoint.Aliases.ToList(), NetworkJsonContext.Default.ListString)),
                ("$ports", JsonSerializer.Serialize(endpoint.Ports.ToList(), NetworkJsonContext.Default.ListPortBinding)));
            if (v4 is not null)
                transaction.Execute("UPDATE networks SET last_ipv4 = $a WHERE id = $id", ("$a", v4.ToString()), ("$id", network.Id));
            if (v6 is not null)
                transaction.Execute("UPDATE networks SET last_ipv6 = $a WHERE id = $id", ("$a", v6.ToString()), ("$id", network.Id));
            return endpoint;
        });

    private static IPAddress? Refuse(IPAddress? requested, NetworkDefinition network, string family)
        => requested is null ? null
            : throw new NetworkException(ErrorKind.InvalidArgument, $"network {network.Name} has no {family} subnet, so {requested} cannot be given on it");

    private static IPAddress Choose(NetworkDefinition network, IpamConfig config, IPAddress? requested, HashSet<UInt128> used, string? last)
    {
        var family = config.Subnet.BaseAddress.AddressFamily;
        var (subnetFirst, subnetLast) = Addresses.Bounds(config.Subnet);
        UInt128 gateway = Addresses.ToNumber(config.Gateway);
        // The subnet's own address is never a host's; IPv4's broadcast address neither.
        bool Reserved(UInt128 n) => n == subnetFirst || n == gateway || (family == AddressFamily.InterNetwork && n == subnetLast);
        if (requested is not null)
        {
            if (requested.AddressFamily != family || !config.Subnet.Contains(requested))
                throw new NetworkException(ErrorKind.InvalidArgument, $"the address {requested} is outside network {network.Name}'s subnet {config.Subnet}: choose one inside it");
            var n = Addresses.ToNumber(requested);
            if (Reserved(n))
                throw new NetworkException(ErrorKind.InvalidArgument, $"the address {requested} is reserved on network {network.Name} (its subnet's own address, broadcast or gateway): choose another");
            if (used.Contains(n))
                throw new NetworkException(ErrorKind.AlreadyExists, $"the address {requested} is already in use on network {network.Name}: choose another, or let the network choose");
            return requested;
        }
        var (first, lastOfPool) = Addresses.Bounds(config.Pool);
        UInt128 size = lastOfPool - first + 1;
        UInt128 start = last is not null && IPAddress.TryParse(last, out var lastAddress) && config.Pool.Contains(lastAddress)
            ? Addresses.ToNumber(lastAddress) + 1 : first;
        // At most used + 4 steps: every address skipped is either used or one of the three reserved ones.
        UInt128 limit = UInt128.Min(size, (UInt128)used.Count + 4);
        for (UInt128 step = 0; step < limit; step++)
        {
            UInt128 candidate = first + (start - first + step) % size;
            if (!Reserved(candidate) && !used.Contains(candidate))
                return Addresses.FromNumber(candidate, family);
        }
        throw new NetworkException(ErrorKind.ResourceExhausted, $"network {network.Name} has no free {Addresses.Family(family)} address left in {config.Pool}: remove containers from it, or use a network with a larger subnet");
    }

    /// <summary>
    /// Records what a CNI network's plugins gave an endpoint <see cref="Allocate"/> recorded without addresses: its
    /// addresses, MAC address and host interface.
    /// </summary>
    public void SetAttached(Endpoint endpoint)
    {
        try
        {
            _database.Execute("UPDATE endpoints SET mac = $mac, ipv4 = $v4, ipv6 = $v6, host_ifname = $hif WHERE container_id = $c AND network_id = $n",
                ("$mac", endpoint.MacAddress), ("$v4", (object?)endpoint.IPv4?.ToString() ?? DBNull.Value), ("$v6", (object?)endpoint.IPv6?.ToString() ?? DBNull.Value),
                ("$hif", endpoint.HostInterface), ("$c", endpoint.ContainerId), ("$n", endpoint.NetworkId));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
        {
            throw new NetworkException(ErrorKind.AlreadyExists,
                $"the CNI plugins gave container {endpoint.ContainerId[..12]} an address another container on the network has: check the network's IPAM configuration");
        }
    }

    /// <summary>Forgets a container's endpoint on a network; false when it had none.</summary>
    public bool Release(string containerId, string networkId)
        => _database.Execute("DELETE FROM endpoints WHERE container_id = $c AND network_id = $n", ("$c", containerId), ("$n", networkId)) > 0;

    public IReadOnlyList<Endpoint> EndpointsOf(string containerId)
        => _database.Query($"SELECT {EndpointColumns} FROM endpoints WHERE container_id = $c ORDER BY ifname", ReadEndpoint, ("$c", containerId));

    public IReadOnlyList<Endpoint> EndpointsIn(string networkId)
        => _database.Query($"SELECT {EndpointColumns} FROM endpoints WHERE network_id = $n ORDER BY ipv4, ipv6", ReadEndpoint, ("$n", networkId));

    public IReadOnlyList<Endpoint> AllEndpoints()
        => _database.Query($"SELECT {EndpointColumns} FROM endpoints", ReadEndpoint);

    private static string IpamJson(IReadOnlyList<IpamConfig> ipam)
        => JsonSerializer.Serialize(ipam.Select(c => new IpamRow(c.Subnet.ToString(), c.Gateway.ToString(), c.IpRange?.ToString())).ToList(), NetworkJsonContext.Default.ListIpamRow);

    private static NetworkDefinition ReadNetwork(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        Driver = r.GetString(2),
        BridgeName = r.GetString(3),
        Ipam = [.. (JsonSerializer.Deserialize(r.GetString(4), NetworkJsonContext.Default.ListIpamRow) ?? [])
            .Select(row => new IpamConfig(IPNetwork.Parse(row.Subnet), IPAddress.Parse(row.Gateway), row.IpRange is null ? null : IPNetwork.Parse(row.IpRange)))],
        Internal = r.GetBoolean(5),
        EnableIPv6 = r.GetBoolean(6),
        Mtu = r.GetInt32(7),
        Options = JsonSerializer.Deserialize(r.GetString(8), NetworkJsonContext.Default.DictionaryStringString) ?? [],
        Labels = JsonSerializer.Deserialize(r.GetString(9), NetworkJsonContext.Default.DictionaryStringString) ?? [],
        Created = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
        Predefined = r.GetBoolean(11),
        CniConfig = r.IsDBNull(12) ? null : r.GetString(12),
    };

    private static Endpoint ReadEndpoint(SqliteDataReader r) => new()
    {
        ContainerId = r.GetString(0),
        ContainerName = r.GetString(1),
        NetworkId = r.GetString(2),
        EndpointId = r.GetString(3),
        InterfaceName = r.GetString(4),
        HostInterface = r.GetString(5),
        MacAddress = r.GetString(6),
        IPv4 = r.IsDBNull(7) ? null : IPAddress.Parse(r.GetString(7)),
        IPv6 = r.IsDBNull(8) ? null : IPAddress.Parse(r.GetString(8)),
        Aliases = JsonSerializer.Deserialize(r.GetString(9), NetworkJsonContext.Default.ListString) ?? [],
        Ports = JsonSerializer.Deserialize(r.GetString(10), NetworkJsonContext.Default.ListPortBinding) ?? [],
    };

    /// <summary>Follows a container's rename (its name is what the network's resolver answers for).</summary>
    public void RenameContainer(string containerId, string name)
        => _database.Execute("UPDATE endpoints SET container_name = $name WHERE container_id = $c", ("$name", name), ("$c", containerId));
}
