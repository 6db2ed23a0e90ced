using System.Net.Sockets;
using Skiff.Engine;

namespace Skiff.Api.Tests;

public sealed class ServiceAddressTests
{
    [Fact]
    public void UnixSocketsByAbsolutePath()
    {
        Assert.Equal("/run/skiff/skiff.sock", ServiceAddress.Parse(ServiceAddress.Default, insecureTcp: false).SocketPath);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => ServiceAddress.Parse("unix://relative.sock", false)).Kind);
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:2375", false, "--insecure-tcp")]
    [InlineData("tcp://0.0.0.0:2375", true, "loopback")]
    [InlineData("tcp://192.168.1.1:2375", true, "loopback")]
    [InlineData("tcp://127.0.0.1", true, "tcp://IP:PORT")]
    [InlineData("http://127.0.0.1:2375", true, "expected unix")]
    [InlineData("/run/skiff/skiff.sock", false, "expected unix")]
    public void TcpOnlyOnLoopbackAndOnlyWhenAskedFor(string uri, bool insecure, string why)
    {
        var error = Assert.Throws<EngineException>(() => ServiceAddress.Parse(uri, insecure));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void LoopbackTcpWhenAskedFor()
    {
        Assert.Equal(2375, ServiceAddress.Parse("tcp://127.0.0.1:2375", insecureTcp: true).Tcp!.Port);
        Assert.Equal(2375, ServiceAddress.Parse("tcp://[::1]:2375", insecureTcp: true).Tcp!.Port);
    }

    [Fact]
    public void AStaleSocketIsReplacedAndALiveOneRefused()
    {
        var directory = Directory.CreateTempSubdirectory("skiff-api-address-").FullName;
        try
        {
            string path = Path.Combine(directory, "sub", "api.sock");
            var address = ServiceAddress.Parse("unix://" + path, false);
            address.PrepareSocket();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute,
                File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            using (var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                live.Bind(new UnixDomainSocketEndPoint(path));
                live.Listen();
                Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<EngineException>(address.PrepareSocket).Kind);
            }
            // what a killed service leaves: its socket's file, on which nobody answers
            File.WriteAllText(path, "");
            address.PrepareSocket();
            Assert.False(File.Exists(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
