using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Skiff.Interop.Netlink;

namespace Skiff.Interop.Tests;

/// <summary>
/// What a container's set-up does in fewer requests and threads: the namespace made with its socket inside, the veth
/// made enslaved and up, addresses and routes on a link looked up once. Every link is named skt92*, every address is
/// in 10.231.92.0/24, and everything is removed in Dispose whether the test passed or not.
/// </summary>
[Collection(NetlinkHostCollection.Name)]
public sealed class NetlinkFewerRequestsTests : IDisposable
{
    private const string Bridge = "skt92br0";
    private const string HostEnd = "skt92v0";
    private static readonly IPAddress Gateway = IPAddress.Parse("10.231.92.1"), Container = IPAddress.Parse("10.231.92.2");

    private readonly string _directory = Directory.CreateTempSubdirectory("skt92-").FullName;
    private readonly RtNetlink _host = RtNetlink.Open();

    private string NamespacePath => Path.Combine(_directory, "ns");

    public void Dispose()
    {
        try
        {
            ContainerNetwork.RemoveAll(_host, "skt92", _directory);
            Assert.DoesNotContain(_host.ListLinks(), l => l.Name.StartsWith("skt92", StringComparison.Ordinal));
            Assert.DoesNotContain(_directory, File.ReadAllText("/proc/self/mountinfo"));
        }
        finally
        {
            _host.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    [RootFact]
    public void MakesTheNamespaceWithASocketInsideOnTheThreadThatMadeIt()
    {
        using var ns = NetworkNamespace.Create(NamespacePath, RtNetlink.Open, out var opened);
        using var inside = opened;
        Assert.Equal(["lo"], inside.ListLinks().Select(l => l.Name));
        Assert.Contains(_host.ListLinks(), l => l.Name != "lo");
        Assert.Contains(NamespacePath, File.ReadAllText("/proc/self/mountinfo"));
    }

    [RootFact]
    public void AFailureInsideLeavesNeitherTheFileNorAMount()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => NetworkNamespace.Create<RtNetlink>(NamespacePath, () => throw new InvalidOperationException("inside"), out _));
        Assert.Equal("inside", failure.Message);
        Assert.False(File.Exists(NamespacePath));
        Assert.DoesNotContain(NamespacePath, File.ReadAllText("/proc/self/mountinfo"));
    }

    [RootFact]
    public void MakesTheHostEndEnslavedAndUpInTheRequestThatMakesThePair()
    {
        int bridgeIndex = _host.CreateBridge(Bridge);
        _host.SetLinkUp(Bridge);
        _host.AddAddress(Bridge, Gateway, 24);
        using var ns = NetworkNamespace.Create(NamespacePath, RtNetlink.Open, out var opened);
        using var inside = opened;
        var mac = PhysicalAddress.Parse("02-92-00-00-00-02");

        _host.CreateVethPair(HostEnd, "eth0", ns, mtu: 1400, peerMac: mac, masterIndex: bridgeIndex, up: true);

        Assert.Equal((bridgeIndex, true, 1400), _host.GetLink(HostEnd) is { } h ? (h.MasterIndex, h.IsUp, h.Mtu) : default);
        var eth0 = inside.GetLink("eth0")!;
        Assert.Equal((mac, false, (int?)null), (eth0.Address, eth0.IsUp, eth0.MasterIndex));

        // One queue each way on both ends, as the kernel would cut them to, without its wait for the cut.
        Assert.Contains("numtxqueues 1 numrxqueues 1", Run("ip", "-d", "link", "show", HostEnd));
        Assert.Contains("numtxqueues 1 numrxqueues 1", Run("nsenter", $"--net={NamespacePath}", "ip", "-d", "link", "show", "eth0"));

        inside.AddAddress(eth0, Container, 24);
        inside.SetLinkUp("eth0");
        inside.AddRoute(IPNetwork.Parse("0.0.0.0/0"), Gateway, eth0);
        Assert.Contains(new AddressInfo(eth0.Index, Container, 24), inside.ListAddresses(AddressFamily.InterNetwork));
        Assert.Contains(new RouteInfo(IPNetwork.Parse("0.0.0.0/0"), Gateway, eth0.Index, 254, 1), inside.ListRoutes(AddressFamily.InterNetwork));
    }

    private static string Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }

    [RootFact]
    public void WithoutMasterOrUpBothEndsAreDownAndFree()
    {
        using var ns = NetworkNamespace.Create(NamespacePath);
        using var inside = RtNetlink.OpenIn(ns);
        _host.CreateVethPair(HostEnd, "eth0", ns);
        Assert.Equal((false, (int?)null), _host.GetLink(HostEnd) is { } h ? (h.IsUp, h.MasterIndex) : default);
        Assert.False(inside.GetLink("eth0")!.IsUp);
    }

    [RootFact]
    public void AnAddressOnALinkThatWentIsNotFound()
    {
        using var ns = NetworkNamespace.Create(NamespacePath, RtNetlink.Open, out var opened);
        using var inside = opened;
        _host.CreateVethPair(HostEnd, "eth0", ns);
        var eth0 = inside.GetLink("eth0")!;
        Assert.True(_host.DeleteLink(HostEnd));
        var error = Assert.Throws<NetlinkException>(() => inside.AddAddress(eth0, Container, 24));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains("eth0", error.Message);
    }
}
