using System.Diagnostics;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Traffic between containers and other machines through bin/skiff: namespaces these tests make stand for them,
/// linked to the host by veths of their own (10.231.80.0/24, 10.231.83.0/24). A container on a user network reaches
/// the outside with the host's address as its source (MASQUERADE), one on an --internal network not at all, and
/// another machine reaches a published port through the host's address.
/// </summary>
public sealed partial class EngineCliTests
{
    private static void Ip(params string[] args)
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", args) { RedirectStandardError = true })!;
        var error = ip.StandardError.ReadToEnd();
        ip.WaitForExit();
        Assert.True(ip.ExitCode == 0, $"ip {string.Join(' ', args)}: {error}");
    }

    /// <summary>
    /// Namespace <paramref name="name"/> linked to the host by veth <paramref name="hostEnd"/>: the host NET.1/24, the
    /// namespace NET.2/24 on its eth0. Made first, so the caller's finally removes it even when a step fails.
    /// </summary>
    private static void NamespaceOnVeth(string name, string hostEnd, string net)
    {
        Ip("netns", "add", name);
        Ip("link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", name);
        Ip("addr", "add", net + ".1/24", "dev", hostEnd);
        Ip("link", "set", hostEnd, "up");
        Ip("-n", name, "addr", "add", net + ".2/24", "dev", "eth0");
        Ip("-n", name, "link", "set", "eth0", "up");
        Ip("-n", name, "link", "set", "lo", "up");
    }

    [Fact]
    public async Task TrafficLeavingANetworkIsMasqueradedAndAnInternalNetworkHasNoWayOut()
    {
        string outside = $"skout{Environment.ProcessId % 10000}";
        var cgi = Path.Combine(_temp.Path, "outside-www", "cgi-bin");
        Directory.CreateDirectory(cgi);
        File.WriteAllText(Path.Combine(cgi, "who"), "#!/bin/busybox sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n");
        File.SetUnixFileMode(Path.Combine(cgi, "who"), (UnixFileMode)0x1ed);
        Process? server = null;
        try
        {
            NamespaceOnVeth(outside, "skouth0", "10.231.80");
            server = Process.Start("ip", ["netns", "exec", outside, "busybox", "httpd", "-f", "-p", "8080", "-h", Path.GetDirectoryName(cgi)!]);

            await Ok("network", "create", "--subnet", "10.231.81.0/24", "egress");
            await Ok("network", "create", "--subnet", "10.231.82.0/24", "--internal", "sealed");
            // busybox's nc, not its wget: the static wget resolves even a literal address through glibc's NSS, which
            // crashes without the NSS libraries in the image.
            string[] ask = ["sh", "-c", "printf 'GET /cgi-bin/who HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 10.231.80.2 8080"];
            var seen = "";
            for (int attempt = 0; attempt < 20 && !seen.Contains("10.231.80."); attempt++)
            {
                seen = (await Skiff.RunAsync(Root, ["run", "--rm", "--network", "egress", Image, .. ask])).Stdout;
                if (!seen.Contains("10.231.80."))
                    await Task.Delay(100); // httpd starting
            }
            // The outside sees the host's address on its link (httpd shows it IPv4-mapped), not the container's.
            Assert.Contains("10.231.80.1]", seen);
            Assert.DoesNotContain("10.231.81.", seen);

            var sealedRun = await Skiff.RunAsync(Root, ["run", "--rm", "--network", "sealed", Image, .. ask]);
            Assert.Contains("Network is unreachable", sealedRun.Stderr);
            Assert.DoesNotContain("default", (await Ok("run", "--rm", "--network", "sealed", Image, "busybox", "ip", "route")).Stdout);
        }
        finally
        {
            server?.Kill(entireProcessTree: true);
            await Skiff.RunAsync(Root, "network", "rm", "egress", "sealed");
            using (var del = Process.Start("ip", ["link", "del", "skouth0"]))
                del?.WaitForExit();
            using (var del = Process.Start("ip", ["netns", "del", outside]))
                del?.WaitForExit();
        }
    }

    [Fact]
    public async Task APublishedPortIsReachedFromAnotherHostsNamespaceThroughTheHostsAddress()
    {
        string client = $"skcl{Environment.ProcessId % 10000}";
        try
        {
            // Another machine, as far as the host can tell: its own namespace, on a link of its own to the host.
            NamespaceOnVeth(client, "skclh0", "10.231.83");
            await StartWebServer("public", "-p", "80");
            int port = int.Parse((await Ok("port", "public", "80")).Stdout.Split('\n')[0].Split(':')[^1]);
            string answer = "";
            for (int attempt = 0; attempt < 20 && !answer.Contains("hello from public"); attempt++)
            {
                using var nc = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", client, "sh", "-c", $"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 10.231.83.1 {port}"])
                    { RedirectStandardOutput = true })!;
                answer = await nc.StandardOutput.ReadToEndAsync();
                await nc.WaitForExitAsync();
                if (!answer.Contains("hello from public"))
                    await Task.Delay(100); // httpd starting
            }
            Assert.Contains("hello from public", answer);
            await Ok("rm", "-f", "public");
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "public");
            using (var del = Process.Start("ip", ["link", "del", "skclh0"]))
                del?.WaitForExit();
            using (var del = Process.Start("ip", ["netns", "del", client]))
                del?.WaitForExit();
            await Skiff.RunAsync(Root, "network", "prune", "-f");
        }
    }
}
