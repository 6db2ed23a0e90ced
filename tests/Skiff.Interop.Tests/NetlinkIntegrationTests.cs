using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Skiff.Interop.Netlink;

namespace Skiff.Interop.Tests;

/// <summary>Runs only as root, which making links and namespaces needs.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Interop.Libc.GetEuid() != 0)
            Skip = "needs root";
    }
}

/// <summary>The tests that make links in the host's namespace share its names and subnet, so they take turns.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetlinkHostCollection
{
    public const string Name = "netlink on the host";
}

/// <summary>
/// Real links, addresses, routes and namespaces. Every link is named sknl*, every address is in 10.231.1.0/24 or
/// fd31:1::/64, traffic goes only between the host's sknl bridge and a namespace the test made, and everything is
/// removed in Dispose whether the test passed or not.
/// </summary>
[Collection(NetlinkHostCollection.Name)]
public sealed class NetlinkIntegrationTests : IDisposable
{
    private const string Bridge = "sknlbr0";
    private const string HostEnd = "sknlv0";
    private const string Peer = "sknlp0";
    private static readonly IPAddress BridgeV4 = IPAddress.Parse("10.231.1.1"), ContainerV4 = IPAddress.Parse("10.231.1.2");
    private static readonly IPAddress BridgeV6 = IPAddress.Parse("fd31:1::1"), ContainerV6 = IPAddress.Parse("fd31:1::2");

    private readonly string _directory = Directory.CreateTempSubdirectory("sknl-").FullName;
    private readonly RtNetlink _host = RtNetlink.Open();
    private readonly (int Links, int Mounts) _before;

    public NetlinkIntegrationTests() => _before = (OurLinks(_host), OurMounts());

    private string NamespacePath(string name = "ns") => Path.Combine(_directory, name);

    public void Dispose()
    {
        try
        {
            ContainerNetwork.RemoveAll(_host, "sknl", _directory);
            Assert.Equal((0, 0), (OurLinks(_host), OurMounts()));
        }
        finally
        {
            _host.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    [RootFact]
    public void AContainersSetUpAndTeardownLeaveNoLinkAndNoMount()
    {
        Assert.Equal((0, 0), _before);
        var links = _host.ListLinks().Count;
        var mounts = MountInfo().Length;
        _host.CreateBridge(Bridge);
        _host.SetLinkUp(Bridge);
        for (int i = 0; i < 3; i++)
        {
            var path = NamespacePath($"ns{i}");
            ContainerNetwork.SetUp(_host, path, Bridge, HostEnd, ContainerV4, BridgeV4).Dispose();
            ContainerNetwork.TearDown(_host, path, HostEnd);
        }
        Assert.True(_host.DeleteLink(Bridge));
        Assert.Equal((links, mounts), (_host.ListLinks().Count, MountInfo().Length));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory));
    }

    [RootFact]
    public void SetsUpAContainersNetworkAndCarriesTrafficBothWays()
    {
        int bridgeIndex = _host.CreateBridge(Bridge, mtu: 1400);
        _host.SetLinkUp(Bridge);
        _host.AddAddress(Bridge, BridgeV4, 24);
        _host.AddAddress(Bridge, BridgeV6, 64);

        using var ns = NetworkNamespace.Create(NamespacePath());
        using var inside = RtNetlink.OpenIn(ns);
        var mac = PhysicalAddress.Parse("02-31-00-00-00-02");
        _host.CreateVethPair(HostEnd, Peer, ns, mtu: 1400, peerMac: mac);
        Assert.Null(_host.GetLink(Peer));
        Assert.Equal(("veth", mac, 1400, false), inside.GetLink(Peer) is { } p ? (p.Kind, p.Address, p.Mtu, p.IsUp) : default);

        _host.SetMaster(HostEnd, Bridge);
        _host.SetLinkUp(HostEnd);
        var hostEnd = _host.GetLink(HostEnd)!;
        Assert.Equal((bridgeIndex, true, "veth"), (hostEnd.MasterIndex, hostEnd.IsUp, hostEnd.Kind));
        Assert.Equal(("bridge", 1400), _host.GetLink(Bridge) is { } b ? (b.Kind, b.Mtu) : default);

        inside.RenameLink(Peer, "eth0");
        inside.SetLinkUp("eth0");
        inside.SetLinkUp("lo");
        inside.AddAddress("eth0", ContainerV4, 24);
        inside.AddAddress("eth0", ContainerV6, 64);
        inside.AddRoute(IPNetwork.Parse("0.0.0.0/0"), BridgeV4, "eth0");
        inside.AddRoute(IPNetwork.Parse("::/0"), BridgeV6, "eth0");

        var eth0 = inside.GetLink("eth0")!;
        Assert.Equal(["eth0", "lo"], inside.ListLinks().Select(l => l.Name).Order());
        Assert.Contains(new AddressInfo(eth0.Index, ContainerV4, 24), inside.ListAddresses(AddressFamily.InterNetwork));
        Assert.Contains(new AddressInfo(eth0.Index, ContainerV6, 64), inside.ListAddresses(AddressFamily.InterNetworkV6));
        Assert.DoesNotContain(inside.ListAddresses(), a => a.Address.Equals(BridgeV4));
        Assert.Contains(new RouteInfo(IPNetwork.Parse("0.0.0.0/0"), BridgeV4, eth0.Index, 254, 1), inside.ListRoutes(AddressFamily.InterNetwork));
        Assert.Contains(inside.ListRoutes(AddressFamily.InterNetworkV6), r => r.Destination.PrefixLength == 0 && BridgeV6.Equals(r.Gateway) && r.OutputLinkIndex == eth0.Index);
        Assert.Contains(_host.ListRoutes(AddressFamily.InterNetwork), r => r.Destination == IPNetwork.Parse("10.231.1.0/24") && r.OutputLinkIndex == bridgeIndex);

        Connect(ns, listenInside: true, ContainerV4);
        Connect(ns, listenInside: false, BridgeV4);
        Connect(ns, listenInside: true, ContainerV6);
        Connect(ns, listenInside: false, BridgeV6);
    }

    [RootFact]
    public void ChangesAndRemovesWhatItMade()
    {
        using var ns = NetworkNamespace.Create(NamespacePath());
        using var inside = RtNetlink.OpenIn(ns);
        _host.CreateVethPair(HostEnd, Peer);
        Assert.Equal("veth", _host.GetLink(Peer)?.Kind);

        _host.SetMtu(HostEnd, 1280);
        var mac = PhysicalAddress.Parse("02-31-00-00-00-09");
        _host.SetMacAddress(HostEnd, mac);
        _host.SetLinkUp(HostEnd);
        Assert.Equal((1280, mac, true), _host.GetLink(HostEnd) is { } up ? (up.Mtu, up.Address, up.IsUp) : default);
        _host.SetLinkDown(HostEnd);
        Assert.False(_host.GetLink(HostEnd)!.IsUp);

        _host.MoveToNamespace(Peer, ns);
        Assert.Null(_host.GetLink(Peer));
        inside.SetLinkUp(Peer);
        inside.AddAddress(Peer, IPAddress.Parse("10.231.1.7"), 24);
        inside.AddRoute(IPNetwork.Parse("10.231.1.128/25"), null, Peer);
        Assert.Contains(inside.ListRoutes(AddressFamily.InterNetwork), r => r.Destination == IPNetwork.Parse("10.231.1.128/25") && r.Gateway is null);
        inside.DeleteRoute(IPNetwork.Parse("10.231.1.128/25"), null, Peer);
        Assert.DoesNotContain(inside.ListRoutes(AddressFamily.InterNetwork), r => r.Destination == IPNetwork.Parse("10.231.1.128/25"));
        inside.DeleteAddress(Peer, IPAddress.Parse("10.231.1.7"), 24);
        Assert.DoesNotContain(inside.ListAddresses(), a => a.Address.Equals(IPAddress.Parse("10.231.1.7")));

        Assert.True(_host.DeleteLink(HostEnd));
        Assert.Null(inside.GetLink(Peer));
        Assert.False(_host.DeleteLink(HostEnd));
    }

    [RootFact]
    public void RefusesWithTheRequestTheObjectAndTheKind()
    {
        _host.CreateBridge(Bridge);
        var duplicate = Assert.Throws<NetlinkException>(() => _host.CreateBridge(Bridge));
        Assert.Equal((ErrorKind.AlreadyExists, $"RTM_NEWLINK {Bridge}: File exists"), (duplicate.Kind, duplicate.Message));

        var missing = Assert.Throws<NetlinkException>(() => _host.SetLinkUp("sknlmissing0"));
        Assert.Equal((ErrorKind.NotFound, "RTM_SETLINK sknlmissing0: No such device"), (missing.Kind, missing.Message));
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<NetlinkException>(() => _host.SetMaster(Bridge, "sknlmissing0")).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<NetlinkException>(() => _host.AddAddress("sknlmissing0", BridgeV4, 24)).Kind);
        Assert.Null(_host.GetLink("sknlmissing0"));
        Assert.False(_host.DeleteLink("sknlmissing0"));

        _host.AddAddress(Bridge, BridgeV4, 24);
        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<NetlinkException>(() => _host.AddAddress(Bridge, BridgeV4, 24)).Kind);
        // The kernel's own reason comes with the errno.
        var tooLong = Assert.Throws<NetlinkException>(() => _host.CreateBridge("sknl-name-too-long-for-linux"));
        Assert.NotNull(tooLong.KernelMessage);
        Assert.Contains(tooLong.KernelMessage!, tooLong.Message);
        // The socket is still in step after refusals.
        Assert.Equal("bridge", _host.GetLink(Bridge)?.Kind);
    }

    [RootFact]
    public void CreatesANamespaceBoundToAFileAndDeletesItWithoutATrace()
    {
        var path = NamespacePath();
        string inode;
        using (var ns = NetworkNamespace.Create(path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, ModeUnderTheMount(path));
            Assert.Contains(MountInfo(), line => line.Contains($" {path} ", StringComparison.Ordinal));
            inode = ns.Run(() => Interop.Libc.ReadLink("/proc/thread-self/ns/net"));
            Assert.NotEqual(Interop.Libc.ReadLink("/proc/thread-self/ns/net"), inode);
            using var again = NetworkNamespace.Open(path);
            Assert.Equal(inode, again.Run(() => Interop.Libc.ReadLink("/proc/thread-self/ns/net")));
        }
        NetworkNamespace.Delete(path);
        Assert.False(File.Exists(path));
        Assert.DoesNotContain(MountInfo(), line => line.Contains(path, StringComparison.Ordinal));
        NetworkNamespace.Delete(path);
    }

    [RootFact]
    public void LeavesNothingWhenCreationFailsAndNeverTakesAnExistingFile()
    {
        var taken = NamespacePath("taken");
        File.WriteAllText(taken, "mine");
        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<SyscallException>(() => NetworkNamespace.Create(taken)).Kind);
        Assert.Equal("mine", File.ReadAllText(taken));
        File.Delete(taken);

        // A bind mount onto a file on a read-only file system fails after the file was made: it must go again.
        var readOnly = Path.Combine(_directory, "ro");
        Directory.CreateDirectory(readOnly);
        Interop.Mounts.Mount("tmpfs", readOnly, "tmpfs", 0, "mode=0700");
        try
        {
            File.WriteAllText(Path.Combine(readOnly, "ns"), "");
            Interop.Mounts.Mount("none", readOnly, null, Interop.Mounts.MS_REMOUNT | Interop.Mounts.MS_RDONLY, null);
            Assert.Throws<SyscallException>(() => NetworkNamespace.Create(Path.Combine(readOnly, "ns")));
            Assert.Throws<SyscallException>(() => NetworkNamespace.Create(Path.Combine(readOnly, "other")));
            Assert.DoesNotContain(MountInfo(), line => line.Contains(Path.Combine(readOnly, "n"), StringComparison.Ordinal));
        }
        finally
        {
            Interop.Mounts.Unmount(readOnly, Interop.Mounts.MNT_DETACH);
            Directory.Delete(readOnly);
        }
        Assert.Throws<SyscallException>(() => NetworkNamespace.Create(Path.Combine(_directory, "no-such-dir", "ns")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory));
    }

    [RootFact]
    public void RunsCodeInsideWithoutSwitchingTheCallersThread()
    {
        var mine = Interop.Libc.ReadLink("/proc/thread-self/ns/net");
        using var ns = NetworkNamespace.Create(NamespacePath());
        Assert.Equal("boom", Assert.Throws<InvalidOperationException>(() => ns.Run(() => throw new InvalidOperationException("boom"))).Message);
        Assert.NotEqual(mine, ns.Run(() => Interop.Libc.ReadLink("/proc/thread-self/ns/net")));
        Assert.Equal(mine, Interop.Libc.ReadLink("/proc/thread-self/ns/net"));
        using var current = NetworkNamespace.Current();
        Assert.Equal(mine, current.Run(() => Interop.Libc.ReadLink("/proc/thread-self/ns/net")));
        using var ofProcess = NetworkNamespace.OfProcess(Environment.ProcessId);
        Assert.Equal(mine, ofProcess.Run(() => Interop.Libc.ReadLink("/proc/thread-self/ns/net")));
        var uts = Assert.Throws<SyscallException>(() => NetworkNamespace.Open("/proc/self/ns/uts"));
        Assert.Equal((ErrorKind.InvalidArgument, "not a network namespace: open /proc/self/ns/uts: Invalid argument"), (uts.Kind, uts.Message));
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<SyscallException>(() => NetworkNamespace.Open("/proc/self/status")).Kind);
    }

    [RootFact]
    public void WritesSysctlsOfItsOwnNamespaceOnly()
    {
        using var ns = NetworkNamespace.Create(NamespacePath());
        var host = File.ReadAllText("/proc/sys/net/ipv6/conf/all/disable_ipv6").Trim();
        var flipped = host == "0" ? "1" : "0";
        ns.WriteSysctl("net.ipv6.conf.all.disable_ipv6", flipped);
        Assert.Equal(flipped, ns.ReadSysctl("net.ipv6.conf.all.disable_ipv6"));
        Assert.Equal(flipped, ns.ReadSysctl("net/ipv6/conf/all/disable_ipv6"));
        Assert.Equal(host, File.ReadAllText("/proc/sys/net/ipv6/conf/all/disable_ipv6").Trim());
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<SyscallException>(() => ns.WriteSysctl("net/../../etc/passwd", "x")).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<SyscallException>(() => ns.ReadSysctl("net.ipv4.no_such_key")).Kind);
    }

    [RootFact]
    public void ReadsADumpThatSpansManyDatagrams()
    {
        using var ns = NetworkNamespace.Create(NamespacePath());
        using var inside = RtNetlink.OpenIn(ns);
        for (int i = 0; i < 100; i++)
            inside.CreateVethPair($"sknla{i}", $"sknlb{i}");
        var links = inside.ListLinks();
        Assert.Equal(201, links.Count);
        Assert.Equal(201, links.Select(l => l.Index).Distinct().Count());
        Assert.Equal(100, links.Count(l => l.Name.StartsWith("sknlb", StringComparison.Ordinal) && l.Kind == "veth"));
    }

    [Fact]
    public void TakesTurnsBetweenThreadsOnOneSocket()
    {
        var lo = _host.GetLink("lo")!;
        using var start = new Barrier(4);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int i = 0; i < 100; i++)
                {
                    Assert.Equal(lo, _host.GetLink("lo"));
                    Assert.Contains(lo, _host.ListLinks());
                }
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));
        Assert.Empty(failures);
    }

    /// <summary>A TCP connection to <paramref name="address"/>, listened for inside the namespace or on the host and made from the other side.</summary>
    private static void Connect(NetworkNamespace ns, bool listenInside, IPAddress address)
    {
        // A socket belongs to the namespace of the thread that made it, whichever thread uses it afterwards.
        Func<Socket> listen = () =>
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, 0));
            socket.Listen();
            return socket;
        };
        Func<Socket> client = () => new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var listener = listenInside ? ns.Run(listen) : listen();
        using var connecting = listenInside ? client() : ns.Run(client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var accepted = listener.AcceptAsync(timeout.Token);
        connecting.ConnectAsync(listener.LocalEndPoint!, timeout.Token).AsTask().Wait();
        using var server = accepted.AsTask().Result;
        connecting.Send("ping"u8);
        var buffer = new byte[4];
        Assert.Equal(4, server.Receive(buffer));
        Assert.Equal("ping"u8.ToArray(), buffer);
    }

    /// <summary>The mode of the file a mount covers, seen through a non-recursive bind mount of its directory.</summary>
    private static UnixFileMode ModeUnderTheMount(string path)
    {
        var peek = Directory.CreateTempSubdirectory("sknl-peek-").FullName;
        try
        {
            Interop.Mounts.Mount(Path.GetDirectoryName(path)!, peek, null, Interop.Mounts.MS_BIND, null);
            try
            {
                return File.GetUnixFileMode(Path.Combine(peek, Path.GetFileName(path)));
            }
            finally
            {
                Interop.Mounts.Unmount(peek, Interop.Mounts.MNT_DETACH);
            }
        }
        finally
        {
            Directory.Delete(peek);
        }
    }

    private static int OurLinks(RtNetlink host) => host.ListLinks().Count(l => l.Name.StartsWith("sknl", StringComparison.Ordinal));

    private static int OurMounts() => MountInfo().Count(line => line.Contains("/sknl-", StringComparison.Ordinal));

    private static string[] MountInfo() => File.ReadAllLines("/proc/self/mountinfo");
}
