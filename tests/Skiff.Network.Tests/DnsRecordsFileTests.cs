using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

public sealed class DnsRecordsFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("skdns-records-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    internal static DnsRecords Sample(params string[] upstreams) => new()
    {
        Networks =
        [
            new DnsNetworkRecords
            {
                Id = "aaaa", Name = "skdnsnet", Listen = ["127.31.4.1"],
                Containers = [new DnsContainerRecords { Names = ["web", "www", "0123456789ab"], IPv4 = ["10.231.4.2"], IPv6 = ["fd31:4::2"] }],
            },
        ],
        Upstreams = upstreams,
    };

    [Fact]
    public void WrittenRecordsReadBackWithPrivateModes()
    {
        var path = DnsRecordsFile.PathIn(_root);
        DnsRecordsFile.Write(path, Sample("127.31.4.2:5353", "[::1]:53", "127.0.0.1"));
        var read = DnsRecordsFile.Read(path);
        Assert.Equal(["127.31.4.2:5353", "[::1]:53", "127.0.0.1"], read.Upstreams);
        var container = Assert.Single(Assert.Single(read.Networks).Containers);
        Assert.Equal(["web", "www", "0123456789ab"], container.Names);
        Assert.Equal(["fd31:4::2"], container.IPv6);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Assert.Contains("\"IPv4\":[\"10.231.4.2\"]", File.ReadAllText(path));
    }

    [Fact]
    public void AMissingFileIsNoRecords()
        => Assert.Empty(DnsRecordsFile.Read(Path.Combine(_root, "none", "records.json")).Networks);

    [Theory]
    [InlineData("{")]
    [InlineData("null")]
    [InlineData("{\"Networks\":[{\"Id\":\"a\",\"Name\":\"n\",\"Listen\":[\"not-an-ip\"]}]}")]
    [InlineData("{\"Networks\":[{\"Id\":\"a\",\"Name\":\"n\",\"Listen\":[],\"Containers\":[{\"Names\":[],\"IPv4\":[]}]}]}")]
    [InlineData("{\"Networks\":[{\"Id\":\"a\",\"Name\":\"n\",\"Containers\":[{\"Names\":[\"x\"],\"IPv4\":[\"fd31:4::2\"]}]}]}")]
    [InlineData("{\"Networks\":[{\"Id\":\"a\",\"Name\":\"n\",\"Containers\":[{\"Names\":[null]}]}]}")]
    [InlineData("{\"Networks\":null}")]
    [InlineData("{\"Upstreams\":[\"10.231.4.1:99999\"]}")]
    public void MalformedFilesAreRefusedNamingTheFile(string json)
    {
        var path = Path.Combine(_root, "records.json");
        File.WriteAllText(path, json);
        var error = Assert.Throws<DnsException>(() => DnsRecordsFile.Read(path));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void InvalidRecordsAreNotWritten()
    {
        var path = DnsRecordsFile.PathIn(_root);
        var bad = Sample() with { Networks = [Sample().Networks[0] with { Listen = ["0.0.0.0.0"] }] };
        Assert.Throws<DnsException>(() => DnsRecordsFile.Write(path, bad));
        Assert.False(File.Exists(path));
        var sameListen = Sample() with { Networks = [Sample().Networks[0], Sample().Networks[0] with { Id = "b" }] };
        Assert.Throws<DnsException>(() => DnsRecordsFile.Write(path, sameListen));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)) && Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!).Any());
    }
}
