using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Skiff.Build.Context;

namespace Skiff.Build.Tests.Context;

/// <summary>ADD of a URL, against an HTTP server this test runs on 127.0.0.1 (nothing leaves the machine).</summary>
public sealed class RemoteSourceTests : IDisposable
{
    private const string Body = "#!/bin/sh\necho fetched\n";
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _server;
    private readonly HttpClient _client = new();

    public RemoteSourceTests()
    {
        _listener.Start();
        _server = Task.Run(Serve);
    }

    private string Url(string path) => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}";

    private async Task Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            using (client)
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII);
                var request = await reader.ReadLineAsync() ?? "";
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
                {
                }
                var path = request.Split(' ')[1];
                var response = path.StartsWith("/files/", StringComparison.Ordinal)
                    ? $"HTTP/1.1 200 OK\r\nContent-Length: {Body.Length}\r\nLast-Modified: Tue, 15 Nov 1994 08:12:31 GMT\r\nConnection: close\r\n\r\n{Body}"
                    : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _server.Wait(TimeSpan.FromSeconds(5));
        _client.Dispose();
    }

    [Fact]
    public async Task A_url_is_fetched_0600_named_after_it_and_copied_as_a_source()
    {
        using var s = new Scratch();
        s.Dir("root");
        string directory;
        using (var fetched = await RemoteSource.FetchAsync(_client, Url("/files/tool.sh"), null, s["tmp"]))
        {
            directory = fetched.Tree.Root;
            Assert.Equal("tool.sh", fetched.Name);
            Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(Body))), fetched.Digest);
            var plan = fetched.Tree.Plan([fetched.Name], [], parents: false, "ADD");
            CopyApplier.Apply(fetched.Tree, plan, s["root"], "/usr/local/bin/", "/", new CopyOptions { Instruction = "ADD" });
        }
        Assert.False(Directory.Exists(directory));
        Assert.Equal(Body, File.ReadAllText(s["root/usr/local/bin/tool.sh"]));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(s["root/usr/local/bin/tool.sh"]));
        Assert.Equal(new DateTime(1994, 11, 15, 8, 12, 31, DateTimeKind.Utc), File.GetLastWriteTimeUtc(s["root/usr/local/bin/tool.sh"]));
    }

    [Fact]
    public async Task The_checksum_is_verified_and_a_mismatch_leaves_nothing()
    {
        using var s = new Scratch();
        var good = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(Body)));
        using (await RemoteSource.FetchAsync(_client, Url("/files/a"), good, s["tmp"]))
        {
        }
        var bad = "sha256:" + new string('0', 64);
        var error = await Assert.ThrowsAsync<BuildException>(() => RemoteSource.FetchAsync(_client, Url("/files/a"), bad, s["tmp"]));
        Assert.Contains("checksum", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
        await Assert.ThrowsAsync<BuildException>(() => RemoteSource.FetchAsync(_client, Url("/files/a"), "md5:abc", s["tmp"]));
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
    }

    [Fact]
    public async Task Refusals_are_clear_errors()
    {
        using var s = new Scratch();
        var missing = await Assert.ThrowsAsync<BuildException>(() => RemoteSource.FetchAsync(_client, Url("/missing/x"), null, s["tmp"]));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.Contains("404", missing.Message);

        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        int port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var refused = await Assert.ThrowsAsync<BuildException>(() => RemoteSource.FetchAsync(_client, $"http://127.0.0.1:{port}/x", null, s["tmp"]));
        Assert.Equal(ErrorKind.Unavailable, refused.Kind);
        Assert.Contains($"127.0.0.1:{port}", refused.Message);

        await Assert.ThrowsAsync<BuildException>(() => RemoteSource.FetchAsync(_client, Url("/"), null, s["tmp"]));
        await Assert.ThrowsAsync<BuildException>(() => RemoteSource.FetchAsync(_client, "ftp://127.0.0.1/x", null, s["tmp"]));
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
    }
}
