using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// IPv6 on an --ipv6 network, and many containers one after another, through bin/skiff. Addresses: 10.231.71.0/24,
/// 10.231.72.0/24 and fd31:72::/64, all made by these tests, and loopback.
/// </summary>
public sealed partial class EngineCliTests
{
    /// <summary>The lines of Skiff's nft table that name an address of <paramref name="subnetPrefix"/> other than the subnet itself.</summary>
    private static int FirewallEntriesFor(string subnetPrefix)
    {
        using var nft = Process.Start(new ProcessStartInfo("nft", "list table inet skiff") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var text = nft.StandardOutput.ReadToEnd();
        nft.WaitForExit();
        // Address followed by anything but "0/": a subnet's own entry (10.231.71.0/24) is the network's, not a container's.
        return Regex.Matches(text, Regex.Escape(subnetPrefix) + @"(?!0/)[0-9a-f]+\b").Count;
    }

    /// <summary>The containers the DNS records file lists on <paramref name="network"/>.</summary>
    private int DnsRecordsOf(string network)
    {
        var file = Path.Combine(Skiff.RunRootOf(Root), "dns", "records.json");
        if (!File.Exists(file))
            return 0;
        using var records = JsonDocument.Parse(File.ReadAllText(file));
        return records.RootElement.GetProperty("Networks").EnumerateArray()
            .Where(n => n.GetProperty("Name").GetString() == network)
            .Sum(n => n.GetProperty("Containers").GetArrayLength());
    }

    [Fact]
    public async Task FiftyRunsOneAfterAnotherLeakNoAddressVethRuleRecordOrNamespace()
    {
        var network = (await Ok("network", "create", "--subnet", "10.231.71.0/24", "cycles")).Stdout.Trim();
        int Veths() => HostLinks().Count(l => l.StartsWith("vsk", StringComparison.Ordinal) && l.EndsWith(network[..6], StringComparison.Ordinal));
        string netnsDir = Path.Combine(Skiff.RunRootOf(Root), "netns");
        int Namespaces() => Directory.Exists(netnsDir) ? Directory.GetFiles(netnsDir).Length : 0;
        try
        {
            // A neighbour that stays: its records and rules must survive the 50 others coming and going.
            await Ok("run", "-d", "--name", "stayer", "--network", "cycles", "-p", "127.0.0.1::80", Image, "sleep", "120");
            var before = (Veths(), FirewallEntriesFor("10.231.71."), DnsRecordsOf("cycles"), Namespaces());
            Assert.Equal(1, before.Item1);
            Assert.True(before.Item2 > 0, "the neighbour's published port has no rule");
            Assert.Equal(1, before.Item3);

            var seen = new HashSet<string>();
            for (int cycle = 0; cycle < 50; cycle++)
            {
                // -p makes DNAT entries, the network its records; some runs removed by rm -f while running.
                string name = $"cycle{cycle}";
                if (cycle % 5 == 4)
                {
                    await Ok("run", "-d", "--name", name, "--network", "cycles", "-p", "127.0.0.1::80", Image, "sleep", "60");
                    await Ok("rm", "-f", name);
                    continue;
                }
                var run = await Ok("run", "--rm", "--name", name, "--network", "cycles", "-p", "127.0.0.1::80", Image, "busybox", "ip", "-o", "-4", "addr", "show", "eth0");
                seen.Add(run.Stdout.Split("inet ")[1].Split('/')[0]);
            }
            // As docker's IPAM, the next free address after the last one given, not the one just freed (a peer's ARP cache may still hold it).
            Assert.Equal(40, seen.Count);

            for (int attempt = 0; attempt < 100 && Veths() > before.Item1; attempt++)
                await Task.Delay(20); // the kernel removes the pairs with their namespaces, shortly after
            Assert.Equal(before, (Veths(), FirewallEntriesFor("10.231.71."), DnsRecordsOf("cycles"), Namespaces()));
            var containers = JsonDocument.Parse((await Ok("network", "inspect", "cycles")).Stdout).RootElement[0].GetProperty("Containers");
            Assert.Single(containers.EnumerateObject());
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "stayer");
            await Skiff.RunAsync(Root, "network", "rm", "cycles");
        }
        Assert.Equal(0, FirewallEntriesFor("10.231.71."));
    }

    [Fact]
    public async Task AnIpv6NetworkGivesContainersIpv6AddressesRoutesNamesAndPublishedPorts()
    {
        await Ok("network", "create", "--ipv6", "--subnet", "10.231.72.0/24", "--subnet", "fd31:72::/64", "six");
        try
        {
            await StartWebServer("sixweb", "--network", "six", "-p", "[::]::80");
            await Ok("run", "-d", "--name", "sixpeer", "--network", "six", "--ip6", "fd31:72::50", Image, "sleep", "60");

            var settings = JsonDocument.Parse((await Ok("inspect", "sixweb")).Stdout).RootElement[0].GetProperty("NetworkSettings").GetProperty("Networks").GetProperty("six");
            var address = settings.GetProperty("GlobalIPv6Address").GetString()!;
            Assert.StartsWith("fd31:72::", address);
            Assert.Equal(64, settings.GetProperty("GlobalIPv6PrefixLen").GetInt32());
            Assert.Equal("fd31:72::1", settings.GetProperty("IPv6Gateway").GetString());
            var networkInspect = JsonDocument.Parse((await Ok("network", "inspect", "six")).Stdout).RootElement[0];
            Assert.True(networkInspect.GetProperty("EnableIPv6").GetBoolean());
            Assert.Contains(networkInspect.GetProperty("IPAM").GetProperty("Config").EnumerateArray(), c => c.GetProperty("Subnet").GetString() == "fd31:72::/64");

            Assert.Contains($"inet6 {address}/64", (await Ok("exec", "sixweb", "busybox", "ip", "-o", "-6", "addr", "show", "eth0")).Stdout);
            Assert.Contains("default via fd31:72::1 dev eth0", (await Ok("exec", "sixpeer", "busybox", "ip", "-6", "route")).Stdout);
            // Container to container by address and by name (AAAA from the network's resolver), and the host to the container.
            Assert.Equal(0, (await Skiff.RunAsync(Root, "exec", "sixpeer", "busybox", "ping", "-6", "-c", "1", "-W", "2", address)).ExitCode);
            var lookup = await Skiff.RunAsync(Root, "exec", "sixpeer", "busybox", "nslookup", "-type=AAAA", "sixweb");
            Assert.True(lookup.ExitCode == 0 && lookup.Stdout.Contains(address), lookup.Stdout + lookup.Stderr);
            var fromPeer = await Skiff.RunAsync(Root, "exec", "sixpeer", "sh", "-c", $"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {address} 80");
            Assert.Contains("hello from sixweb", fromPeer.Stdout);
            Assert.Equal("hello from sixweb\n", await Fetch($"http://[{address}]:80/"));

            // The port published on every IPv6 address, fetched through one of the host's: the network's gateway.
            var published = (await Ok("port", "sixweb", "80")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var v6 = published.Single(line => line.StartsWith("[::]:", StringComparison.Ordinal));
            Assert.Equal("hello from sixweb\n", await Fetch($"http://[fd31:72::1]:{v6.Split(':')[^1]}/"));

            await Ok("rm", "-f", "sixweb", "sixpeer");
            Assert.Equal(0, FirewallEntriesFor("fd31:72::"));
            Assert.Equal(0, FirewallEntriesFor("10.231.72."));
            Assert.Empty(JsonDocument.Parse((await Ok("network", "inspect", "six")).Stdout).RootElement[0].GetProperty("Containers").EnumerateObject());
        }
        finally
        {
            await Skiff.RunAsync(Root, "rm", "-f", "sixweb", "sixpeer");
            await Skiff.RunAsync(Root, "network", "rm", "six");
        }
    }
}
