using System.Net;
using Skiff.Interop.Netlink;

namespace Skiff.Interop.Tests;

/// <summary>The calls the engine makes to give a container its network, in its order; the leak test and the benchmark share it.</summary>
internal static class ContainerNetwork
{
    /// <summary>
    /// A namespace bound at <paramref name="path"/> with a socket inside, opened by the thread that made it; lo up; a
    /// veth whose peer is made inside it as eth0, the host end enslaved to <paramref name="bridge"/> and up in the same
    /// request; an IPv4 address on eth0, eth0 up, and a default route.
    /// </summary>
    public static NetworkNamespace SetUp(RtNetlink host, string path, string bridge, string hostEnd, IPAddress address, IPAddress gateway, Action<string>? step = null)
    {
        var ns = NetworkNamespace.Create(path, RtNetlink.Open, out var opened);
        using var inside = opened;
        step?.Invoke("netns and socket inside");
        inside.SetLinkUp("lo");
        step?.Invoke("lo up");
        int bridgeIndex = host.GetLink(bridge)!.Index;
        step?.Invoke("bridge looked up");
        host.CreateVethPair(hostEnd, "eth0", ns, mtu: 1500, masterIndex: bridgeIndex, up: true);
        step?.Invoke("veth, enslaved and up");
        var eth0 = inside.GetLink("eth0")!;
        step?.Invoke("eth0 looked up");
        inside.AddAddress(eth0, address, 24);
        step?.Invoke("address");
        inside.SetLinkUp("eth0");
        step?.Invoke("eth0 up");
        inside.AddRoute(IPNetwork.Parse("0.0.0.0/0"), gateway, eth0);
        step?.Invoke("route");
        return ns;
    }

    /// <summary>A test's clean-up, passed or failed: its links named <paramref name="linkPrefix"/>*, and the namespaces bound in <paramref name="directory"/>.</summary>
    public static void RemoveAll(RtNetlink host, string linkPrefix, string directory)
    {
        foreach (var link in host.ListLinks().Where(l => l.Name.StartsWith(linkPrefix, StringComparison.Ordinal)))
            host.DeleteLink(link.Name);
        foreach (var file in Directory.EnumerateFiles(directory))
            NetworkNamespace.Delete(file);
    }

    /// <summary>Deleting the host end takes the peer with it; then the namespace's mount and file go.</summary>
    public static void TearDown(RtNetlink host, string path, string hostEnd, Action<string>? step = null)
    {
        host.DeleteLink(hostEnd);
        step?.Invoke("delete veth");
        NetworkNamespace.Delete(path);
        step?.Invoke("delete netns");
    }
}
