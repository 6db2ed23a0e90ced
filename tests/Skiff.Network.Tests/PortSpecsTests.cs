using Skiff.Network;

namespace Skiff.Network.Tests;

public class PortSpecsTests
{
    [Theory]
    [InlineData("80", "tcp", 80, "", 0, 0)]
    [InlineData("8080:80", "tcp", 80, "", 8080, 8080)]
    [InlineData("127.0.0.1:8080:80/udp", "udp", 80, "127.0.0.1", 8080, 8080)]
    [InlineData("127.0.0.1::80", "tcp", 80, "127.0.0.1", 0, 0)]
    [InlineData("[::1]:8080:80", "tcp", 80, "::1", 8080, 8080)]
    [InlineData("8000-8010:80", "tcp", 80, "", 8000, 8010)]
    [InlineData("53:53/SCTP", "sctp", 53, "", 53, 53)]
    public void OnePortSpecs(string spec, string protocol, int containerPort, string hostIp, int first, int last)
    {
        var request = Assert.Single(PortSpecs.ParsePublish(spec));
        Assert.Equal(new PortRequest(protocol, containerPort, hostIp, first, last), request);
    }

    [Fact]
    public void RangesPairUpPortByPort()
    {
        var requests = PortSpecs.ParsePublish("8000-8002:80-82/udp");
        Assert.Equal([new("udp", 80, "", 8000, 8000), new("udp", 81, "", 8001, 8001), new PortRequest("udp", 82, "", 8002, 8002)], requests);
        Assert.Equal(["80/tcp", "81/tcp"], PortSpecs.ParsePublish("80-81").Select(r => r.Key));
    }

    [Theory]
    [InlineData("0", "not a number from 1 to 65535")]
    [InlineData("65536:80", "not a number from 1 to 65535")]
    [InlineData("80/icmp", "is not tcp, udp or sctp")]
    [InlineData("8000-8001:80-82", "must be the same size")]
    [InlineData("90-80", "ends before it starts")]
    [InlineData("nothere:80:80", "is not an IP address")]
    [InlineData("[::1:80:80", "in brackets")]
    [InlineData("", "not a number")]
    public void BadSpecsAreRefusedWithTheReason(string spec, string reason)
    {
        var error = Assert.Throws<NetworkException>(() => PortSpecs.ParsePublish(spec));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains($"\"{spec}\"", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void ExposeTakesRanges()
    {
        Assert.Equal([(80, "tcp")], PortSpecs.ParseExpose("80"));
        Assert.Equal([(53, "udp"), (54, "udp")], PortSpecs.ParseExpose("53-54/udp"));
    }

    [Fact]
    public void ReserveRefusesAPortAProcessHolds()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int held = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var error = Assert.Throws<NetworkException>(() => PortSpecs.Reserve(new PortRequest("tcp", 80, "127.0.0.1", held, held)));
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains($"port {held}/tcp on 127.0.0.1 is already in use", error.Message);
        // A range moves past the held port.
        var binding = PortSpecs.Reserve(new PortRequest("tcp", 80, "127.0.0.1", held, held + 1));
        Assert.Equal(held + 1, binding.HostPort);
    }

    [Fact]
    public void ReserveWithoutAPortGetsAFreeOneAndSkipsTakenOnes()
    {
        var taken = new HashSet<(string, int)>();
        var a = PortSpecs.Reserve(new PortRequest("tcp", 80, "", 0, 0), taken);
        var b = PortSpecs.Reserve(new PortRequest("tcp", 81, "", 0, 0), taken);
        Assert.NotEqual(0, a.HostPort);
        Assert.NotEqual(a.HostPort, b.HostPort);
    }
}
