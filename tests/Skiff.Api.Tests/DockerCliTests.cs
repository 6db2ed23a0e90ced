using System.Diagnostics;
using System.Net.Sockets;
using SkiffCli = Skiff.Cli.Tests.EndToEnd.Skiff;

namespace Skiff.Api.Tests;

/// <summary>
/// Debian's `docker` CLI (docker.io, client only: no dockerd runs) against `skiff system service` on a socket of a
/// temp directory, with a store of its own holding the CLI tests' busybox image. Every container is removed and the
/// service stopped at the end, whatever the test did.
/// </summary>
public sealed class DockerCliTests : IDisposable
{
    private const string DockerClient = "/usr/bin/docker";
    private const string Image = "local/busybox:test";
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-api-docker-").FullName;
    private readonly Process _service;

    private string Root => Path.Combine(_directory, "root");
    private string Socket => Path.Combine(_directory, "docker.sock");

    public DockerCliTests()
    {
        if (!File.Exists(DockerClient))
            throw new InvalidOperationException($"{DockerClient} is missing: install Debian's docker.io (make deps-test), without starting dockerd");
        string tarball = Path.Combine(_directory, "rootfs.tar");
        Cli.Tests.EndToEnd.BusyboxRootfs.WriteTarball(Path.Combine(_directory, "rootfs"), tarball);
        var import = SkiffCli.RunAsync(Root, "import", "-c", "CMD [\"sh\"]", tarball, Image).GetAwaiter().GetResult();
        Assert.True(import.ExitCode == 0, import.Stderr);
        _service = SkiffCli.Start(Root, "system", "service", "--time", "0", "unix://" + Socket);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Answers(Socket))
        {
            if (_service.HasExited)
                Assert.Fail($"skiff system service exited: {_service.StandardError.ReadToEnd()}");
            Assert.True(DateTime.UtcNow < deadline, "skiff system service did not listen within 30 s");
            Thread.Sleep(50);
        }
    }

    private static bool Answers(string path)
    {
        using var probe = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            var ids = SkiffCli.RunAsync(Root, "ps", "-aq", "--no-trunc").GetAwaiter().GetResult().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var id in ids)
                SkiffCli.RunAsync(Root, "rm", "-f", id).GetAwaiter().GetResult();
            if (File.Exists(Path.Combine(Root, "networks.db")))
                SkiffCli.RunAsync(Root, "network", "prune", "-f").GetAwaiter().GetResult();
        }
        finally
        {
            if (!_service.HasExited)
            {
                _service.Kill();
                _service.WaitForExit();
            }
            _service.Dispose();
            Skiff.Interop.FileTree.Delete(_directory);
        }
    }

    private sealed record Result(int ExitCode, string Stdout, string Stderr);

    private Result Run(string? input, params string[] args)
    {
        var start = new ProcessStartInfo(DockerClient)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["DOCKER_HOST"] = "unix://" + Socket;
        // the client's own configuration of the test, not the machine's (contexts, credentials)
        start.Environment["DOCKER_CONFIG"] = Path.Combine(_directory, "docker-config");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
            process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException($"docker {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private Result Docker(params string[] args) => Run(null, args);

    private Result Ok(params string[] args)
    {
        var result = Docker(args);
        Assert.True(result.ExitCode == 0, $"docker {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}");
        return result;
    }

    [Fact]
    public void VersionNegotiates()
    {
        var version = Ok("version", "--format", "{{.Client.APIVersion}} {{.Server.Platform.Name}} {{.Server.APIVersion}}");
        Assert.Equal("1.41 Skiff Engine 1.47\n", version.Stdout);
        Assert.Contains("linux", Ok("info", "--format", "{{.OSType}}").Stdout);
    }

    [Fact]
    public void RunRemovesTheContainerAndReturnsItsExitCode()
    {
        var failed = Docker("run", "--rm", "--network", "none", Image, "sh", "-c", "echo out; echo err >&2; exit 13");
        Assert.Equal(13, failed.ExitCode);
        Assert.Equal("out\n", failed.Stdout);
        Assert.Equal("err\n", failed.Stderr);
        Assert.Equal("hi\n", Ok("run", "--rm", "--network", "none", Image, "echo", "hi").Stdout);
        Assert.Equal("", Ok("ps", "-aq").Stdout);
    }

    [Fact]
    public void RunPassesStdinUntilTheClientHalfCloses()
    {
        var result = Run("line one\nline two\n", "run", "--rm", "-i", "--network", "none", Image, "cat");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("line one\nline two\n", result.Stdout);
    }

    [Fact]
    public void DetachedLifecycle()
    {
        string id = Ok("run", "-d", "--name", "web", "--network", "none", Image, "sh", "-c", "echo started; exec sleep 60").Stdout.Trim();
        Assert.Equal(64, id.Length);
        Assert.Contains("web", Ok("ps", "--format", "{{.Names}} {{.Status}}").Stdout);
        Assert.Equal("true /web none\n", Ok("inspect", "--format", "{{.State.Running}} {{.Name}} {{.HostConfig.NetworkMode}}", "web").Stdout);
        string logs = "";
        for (int attempt = 0; attempt < 100 && !logs.Contains("started"); attempt++, Thread.Sleep(50))
            logs = Ok("logs", "web").Stdout;
        Assert.Equal("started\n", logs);
        var refused = Docker("rm", "web");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("web", refused.Stderr);
        Ok("stop", "-t", "1", "web");
        Assert.StartsWith("Exited (", Ok("ps", "-a", "--filter", "name=web", "--format", "{{.Status}}").Stdout);
        Ok("rm", "-f", "web");
        Assert.Equal("", Ok("ps", "-aq").Stdout);
        var missing = Docker("inspect", "web");
        Assert.Equal(1, missing.ExitCode);
    }

    [Fact]
    public void KillAndWait()
    {
        Ok("run", "-d", "--name", "sleeper", "--network", "none", Image, "sleep", "60");
        Ok("kill", "sleeper");
        Assert.Equal("137\n", Ok("wait", "sleeper").Stdout);
        Ok("rm", "sleeper");
    }

    [Fact]
    public void ImagesListsTheStore()
    {
        Assert.Contains("local/busybox:test", Ok("images", "--format", "{{.Repository}}:{{.Tag}}").Stdout);
        Assert.Equal("linux\n", Ok("image", "inspect", "--format", "{{.Os}}", Image).Stdout);
    }

    [Fact]
    public void VolumesAreCreatedFilteredUsedRemovedAndPruned()
    {
        Assert.Equal("data\n", Ok("volume", "create", "--label", "tier=db", "data").Stdout);
        Ok("volume", "create", "scratch");
        Assert.Equal("local data db\n", Ok("volume", "inspect", "--format", "{{.Driver}} {{.Name}} {{.Labels.tier}}", "data").Stdout);
        Assert.Equal("data\n", Ok("volume", "ls", "-q", "--filter", "label=tier=db").Stdout);
        Assert.Equal("data\nscratch\n", Ok("volume", "ls", "-q").Stdout);
        var badFilter = Docker("volume", "ls", "--filter", "dangling=maybe");
        Assert.Equal(1, badFilter.ExitCode);
        Assert.Contains("invalid filter", badFilter.Stderr);

        Ok("run", "--rm", "--network", "none", "-v", "data:/data", Image, "sh", "-c", "echo kept > /data/f");
        Assert.Equal("kept\n", Ok("run", "--rm", "--network", "none", "-v", "data:/data", Image, "cat", "/data/f").Stdout);
        Ok("create", "--name", "holder", "--network", "none", "-v", "data:/data", Image, "true");
        Assert.Equal("scratch\n", Ok("volume", "ls", "-q", "--filter", "dangling=true").Stdout);
        var inUse = Docker("volume", "rm", "data");
        Assert.Equal(1, inUse.ExitCode);
        Assert.Contains("holder", inUse.Stderr);
        Ok("rm", "holder");
        Ok("volume", "rm", "data");
        Assert.Equal(1, Docker("volume", "inspect", "data").ExitCode);

        var driver = Docker("volume", "create", "-d", "nfs", "remote");
        Assert.Equal(1, driver.ExitCode);
        Assert.Contains("local driver only", driver.Stderr);
        // Debian's client speaks API 1.41, where a prune takes named volumes too.
        Ok("volume", "prune", "-f");
        Assert.Equal("", Ok("volume", "ls", "-q").Stdout);
    }

    [Fact]
    public void NetworksAreCreatedListedJoinedLeftAndRemoved()
    {
        // 10.231.93.0/24: this test's own subnet, covered by no route of the host; traffic stays on the bridge.
        string id = Ok("network", "create", "--subnet", "10.231.93.0/24", "--gateway", "10.231.93.1", "--label", "team=api", "skt93net").Stdout.Trim();
        Assert.Equal(64, id.Length);
        Assert.Equal("skt93net 10.231.93.0/24 10.231.93.1 api\n",
            Ok("network", "inspect", "--format", "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels.team}}", "skt93net").Stdout);
        Assert.Equal("skt93net\n", Ok("network", "ls", "--filter", "label=team=api", "--format", "{{.Name}}").Stdout);
        Assert.Equal(1, Docker("network", "create", "--subnet", "10.231.93.0/24", "skt93net").ExitCode);

        Ok("run", "-d", "--name", "member", "--network", "skt93net", Image, "sleep", "60");
        Assert.StartsWith("member 10.231.93.", Ok("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "skt93net").Stdout);
        var inUse = Docker("network", "rm", "skt93net");
        Assert.Equal(1, inUse.ExitCode);
        Ok("network", "disconnect", "skt93net", "member");
        Assert.Equal("\n", Ok("network", "inspect", "--format", "{{range .Containers}}{{.Name}}{{end}}", "skt93net").Stdout);
        Ok("network", "connect", "--alias", "db", "skt93net", "member");
        Assert.Contains("db", Ok("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.Aliases}}{{end}}", "member").Stdout);
        Ok("rm", "-f", "member");
        Ok("network", "rm", "skt93net");
        Assert.Equal("", Ok("network", "ls", "-q", "--filter", "name=skt93net").Stdout);
        Assert.Equal(1, Docker("network", "inspect", "skt93net").ExitCode);
    }

    [Fact]
    public void AnImageThatCannotBePulledFailsTheRunWithNothingLeft()
    {
        // a registry on a closed loopback port: the pull fails at once, and no packet leaves the machine
        var result = Docker("run", "--rm", "--network", "none", "127.0.0.1:1/nosuch:1", "true");
        Assert.Equal(125, result.ExitCode);
        Assert.Contains("Unable to find image", result.Stderr);
        Assert.Equal("", Ok("ps", "-aq").Stdout);
    }
}
