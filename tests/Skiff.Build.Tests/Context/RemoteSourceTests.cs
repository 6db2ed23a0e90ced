using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Skiff.Build.Context;
using Skiff.Build.Dockerfile;
using Skiff.Build.Execution;

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
            catch (Exception stopped) when (stopped is OperationCanceledException or ObjectDisposedException)
            {
                // Disposed before it accepted anything (a test that needs no server): the listener is already stopped.
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

    [Theory]
    [InlineData("http://h/a/b/tool.tar.gz?v=1#top", "tool.tar.gz")]
    [InlineData("http://h/a/dir/", "dir")]
    [InlineData("http://h/a%20b/c%2Fd", "d")]
    [InlineData("http://h/", "__unnamed__")]
    [InlineData("http://h", "__unnamed__")]
    public void A_fetched_file_is_named_as_BuildKit_names_it(string url, string name) => Assert.Equal(name, RemoteSource.NameOf(new Uri(url)));

    [Theory]
    [InlineData("https://example.test/org/repo.git", true)]
    [InlineData("https://example.test/org/repo.git#v1.0:sub", true)]
    [InlineData("git://example.test/repo", true)]
    [InlineData("ssh://git@example.test/repo", true)]
    [InlineData("git@example.test:org/repo.git", true)]
    [InlineData("https://example.test/files/app.tar.gz", false)]
    [InlineData("https://example.test/dir.git/file.txt", false)]
    [InlineData("local.git", false)]
    public void A_git_repository_is_told_from_a_file_url_as_BuildKit_tells_it(string source, bool repository)
        => Assert.Equal(repository, RemoteSource.IsGitRepository(source));

    [Fact]
    public async Task An_ADD_of_a_git_repository_is_refused_before_anything_is_fetched()
    {
        using var s = new Scratch();
        s.Dir("ctx");
        var context = new SourceTree(s["ctx"], SourceScope.Context, IgnorePatterns.None);
        string repository = Url("/org/repo.git");
        var add = Assert.IsType<AddInstruction>(DockerfileParser.Parse($"FROM a\nADD {repository} /src/\n", "Dockerfile").Stages[0].Instructions[0]);
        int fetches = 0;
        var error = await Assert.ThrowsAsync<BuildException>(() => CopySources.OpenAsync(add, add.Sources, add.Sources, '\\',
            new Dictionary<string, string>(), context, "context", s["tmp"], _ => { fetches++; throw new InvalidOperationException("fetched"); }));
        Assert.Contains("git repository", error.Message);
        Assert.Contains(repository, error.Message);
        Assert.Equal(0, fetches);
    }

    [Fact]
    public async Task Several_urls_and_local_sources_of_one_ADD_are_each_a_source_in_order_and_each_download_is_in_the_key_by_content()
    {
        using var s = new Scratch();
        s.Write("ctx/local.txt", "local\n");
        s.Dir("root");
        var context = new SourceTree(s["ctx"], SourceScope.Context, IgnorePatterns.None);
        var add = Assert.IsType<AddInstruction>(DockerfileParser.Parse($"FROM a\nADD {Url("/files/one.sh")} local.txt {Url("/files/sub/two.sh")} /dest/\n", "Dockerfile").Stages[0].Instructions[0]);
        var fetched = new List<string>();
        string[] temporary;
        using (var sources = await CopySources.OpenAsync(add, add.Sources, add.Sources, '\\', new Dictionary<string, string>(), context, "context", s["tmp"],
            url => { fetched.Add(url); return RemoteSource.FetchAsync(_client, url, null, s["tmp"]); }))
        {
            Assert.Equal([Url("/files/one.sh"), "context", Url("/files/sub/two.sh")], sources.Groups.Select(g => g.Origin));
            Assert.Equal([false, true, false], sources.Groups.Select(g => g.Extract));
            Assert.Equal([Url("/files/one.sh"), Url("/files/sub/two.sh")], fetched);
            foreach (var group in sources.Groups)
            {
                var plan = group.Tree.Plan(group.Sources, [], parents: false, "ADD") with { SourceCount = add.Sources.Count };
                CopyApplier.Apply(group.Tree, plan, s["root"], add.Destination, "/", new CopyOptions { Instruction = "ADD", ExtractArchives = group.Extract });
            }
            temporary = Directory.GetFileSystemEntries(s["tmp"]);
            Assert.Equal(2, temporary.Length);
        }
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
        Assert.Equal(Body, File.ReadAllText(s["root/dest/one.sh"]));
        Assert.Equal(Body, File.ReadAllText(s["root/dest/two.sh"]));
        Assert.Equal("local\n", File.ReadAllText(s["root/dest/local.txt"]));

        // Several sources want a directory: "/dest" without its slash is refused, as docker's.
        using var again = await CopySources.OpenAsync(add, add.Sources, add.Sources, '\\', new Dictionary<string, string>(), context, "context", s["tmp"],
            url => RemoteSource.FetchAsync(_client, url, null, s["tmp"]));
        var first = again.Groups[0];
        var error = Assert.Throws<BuildException>(() => CopyApplier.Apply(first.Tree, first.Tree.Plan(first.Sources, [], false, "ADD") with { SourceCount = 3 }, s["root"], "/dest", "/", new CopyOptions { Instruction = "ADD" }));
        Assert.Contains("ending in /", error.Message);
    }

    [Fact]
    public async Task A_failed_download_among_several_leaves_nothing()
    {
        using var s = new Scratch();
        s.Dir("ctx");
        var add = Assert.IsType<AddInstruction>(DockerfileParser.Parse($"FROM a\nADD {Url("/files/one.sh")} {Url("/missing")} /dest/\n", "Dockerfile").Stages[0].Instructions[0]);
        var error = await Assert.ThrowsAsync<BuildException>(() => CopySources.OpenAsync(add, add.Sources, add.Sources, '\\', new Dictionary<string, string>(),
            new SourceTree(s["ctx"], SourceScope.Context, IgnorePatterns.None), "context", s["tmp"], url => RemoteSource.FetchAsync(_client, url, null, s["tmp"])));
        Assert.Contains("404", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
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
