using System.Net;
using Skiff.Interop.Netlink;

namespace Skiff.Interop.Tests;

/// <summary>The calls the engine makes to give a container its network, in its order; the leak test and the benchmark share it.</summary>
internal static class ContainerNetwork
{
    /// <summary>
    /// A namespace bound at <paramref name="path"/>, a veth whose peer is made inside it, the host end enslaved to
    /// <paramref name="bridge"/> and up, the peer renamed eth0 and up with lo, an IPv4 address and a default route.
    /// </summary>
    public static NetworkNamespace SetUp(RtNetlink host, string path, string bridge, string hostEnd, string peer, IPAddress address, IPAddress gateway, Action<string>? step = null)
    {
        var ns = NetworkNamespace.Create(path);
        step?.Invoke("create netns");
        using var inside = RtNetlink.OpenIn(ns);
        step?.Invoke("socket inside");
        host.CreateVethPair(hostEnd, peer, ns, mtu: 1500);
        step?.Invoke("veth");
        host.SetMaster(hostEnd, bridge);
        step?.Invoke("master");
        host.SetLinkUp(hostEnd);
        step?.Invoke("host end up");
        inside.RenameLink(peer, "eth0");
        step?.Invoke("rename");
        inside.SetLinkUp("eth0");
        inside.SetLinkUp("lo");
        step?.Invoke("eth0+lo up");
        inside.AddAddress("eth0", address, 24);
        step?.Invoke("address");
        inside.AddRoute(IPNetwork.Parse("0.0.0.0/0"), gateway, "eth0");
        step?.Invoke("route");
        return ns;
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
