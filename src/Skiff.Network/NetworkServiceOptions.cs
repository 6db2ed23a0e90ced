using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Skiff.Network;

/// <summary>Where a store keeps its networks and how its bridges are made: the engine derives these from its own options.</summary>
public sealed record NetworkServiceOptions
{
    /// <summary>ROOT/networks.db.</summary>
    public required string DatabasePath { get; init; }
    /// <summary>
    /// The store's run root: RUNROOT/netns holds each container's network namespace (bound to a file named by its
    /// id), RUNROOT/dns the records the store's DNS resolver serves, with its pid file.
    /// </summary>
    public required string RunRoot { get; init; }
    public string NamespaceDirectory => Path.Combine(RunRoot, "netns");
    /// <summary>The Linux bridge of the network named bridge.</summary>
    public required string DefaultBridgeName { get; init; }
    /// <summary>Where subnets of networks made without one come from (docker's default-address-pools).</summary>
    public IReadOnlyList<AddressPool> AddressPools { get; init; } = Network.AddressPools.Default;
    /// <summary>docker's bip: the default network's gateway and prefix (172.17.0.1/16); null to choose it from the pools.</summary>
    public string? DefaultBridgeAddress { get; init; }
    /// <summary>The nftables table (family inet) that holds every rule Skiff makes.</summary>
    public string FirewallTable { get; init; } = "skiff";
    /// <summary>
    /// Host-wide, shared by every store: bridges, subnets and the firewall table are the host's, so choosing a
    /// subnet, making or removing a bridge and the table's last network are done under it.
    /// </summary>
    public string HostLockPath { get; init; } = "/run/skiff/network.lock";
    /// <summary>argv of the store's DNS resolver process (skiff in its hidden dns mode); null runs none.</summary>
    public IReadOnlyList<string>? DnsResolverCommand { get; init; }
    /// <summary>Where CNI plugins are looked for (also their CNI_PATH).</summary>
    public IReadOnlyList<string> CniPluginDirectories { get; init; } = Cni.CniRunner.DefaultPluginDirectories;
    /// <summary>ROOT/cni, next to the database: CNI results cached for DEL, which must outlive a reboot as the rows do.</summary>
    public string CniCacheDirectory => Path.Combine(Path.GetDirectoryName(DatabasePath) ?? ".", "cni");
    /// <summary>
    /// The CNI configuration directory (podman's and libcni's /etc/cni/net.d): each network configured there is a
    /// network of the store, read when a command looks networks up by name or lists them; null reads none.
    /// </summary>
    public string? CniConfigDirectory { get; init; }
    /// <summary>Where what is wrong but fails nothing goes: a CNI configuration file that is skipped.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
    /// <summary>The host's resolv.conf, whose nameservers are the resolver's upstreams.</summary>
    public string HostResolvConf { get; init; } = "/etc/resolv.conf";
}
