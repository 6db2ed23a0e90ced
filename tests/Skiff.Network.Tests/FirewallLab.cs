using System.Diagnostics;
using System.Security.Cryptography;

namespace Skiff.Network.Tests;

/// <summary>Root and the nft and busybox programs the firewall's integration tests drive.</summary>
public sealed class FirewallFactAttribute : FactAttribute
{
    public FirewallFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root";
        else if (!File.Exists("/usr/sbin/nft") || !File.Exists("/bin/busybox")) Skip = "needs nft and busybox-static";
    }
}

/// <summary>
/// Bridges, "containers" (network namespaces with a veth into a bridge) and routed namespaces (the outside world, a
/// client host) made with ip, for one test, all named sknft* with one random suffix and removed on Dispose even when
/// the test failed. Only the subnets 10.231.2.0/24, 10.231.12.0/24 and 10.231.22.0/24 are used; none of them has a
/// default route out of the namespaces made here, so no test packet can leave the machine.
/// </summary>
public sealed class FirewallLab : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];
    private readonly List<Process> _servers = [];
    private readonly List<string> _dirs = [];

    public string Suffix { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
    public string Table => $"skiff_t_{Suffix}";

    /// <summary>A bridge with <paramref name="gateway"/>/<paramref name="prefix"/> on it, and an IPv6 gateway/64 when given.</summary>
    public string Bridge(int n, string gateway, int prefix, string? gateway6 = null)
    {
        var name = $"sknftb{n}{Suffix}";
        _links.Add(name);
        Sh($"ip link add {name} type bridge && ip addr add {gateway}/{prefix} dev {name} && ip link set {name} up" +
           (gateway6 is null ? "" : $" && ip addr add {gateway6}/64 dev {name} nodad"));
        return name;
    }

    /// <summary>A container's namespace on <paramref name="bridge"/>: eth0 with <paramref name="address"/>, default route via the gateway, as the bridge driver makes it.</summary>
    public string Container(string name, string bridge, string address, int prefix, string gateway, string? address6 = null)
    {
        var ns = Namespace(name);
        var host = $"sknftv{name}{Suffix}";
        _links.Add(host);
        // Hairpin, as docker sets on its ports: with br_netfilter, a container's packet DNAT'd back to itself is bridged
        // out of the port it came in by, which a bridge refuses otherwise.
        Sh($"ip link add {host} type veth peer name eth0 netns {ns} && ip link set {host} master {bridge} up && " +
           $"ip link set {host} type bridge_slave hairpin on && " +
           $"ip -n {ns} addr add {address}/{prefix} dev eth0 && ip -n {ns} link set eth0 up && ip -n {ns} route add default via {gateway}" +
           (address6 is null ? "" : $" && ip -n {ns} addr add {address6}/64 dev eth0 nodad"));
        return ns;
    }

    /// <summary>A namespace routed to the host through its own veth (host .1, namespace .2 of a /24), with no default route.</summary>
    public string Routed(string name, string subnet24)
    {
        var ns = Namespace(name);
        var host = $"sknftr{name}{Suffix}";
        _links.Add(host);
        Sh($"ip link add {host} type veth peer name eth0 netns {ns} && ip addr add {subnet24}.1/24 dev {host} && ip link set {host} up && " +
           $"ip -n {ns} addr add {subnet24}.2/24 dev eth0 && ip -n {ns} link set eth0 up");
        return ns;
    }

    /// <summary>busybox httpd in <paramref name="ns"/> whose /cgi-bin/ip answers the client's address as the server saw it.</summary>
    public void Httpd(string ns, int port)
    {
        var dir = Directory.CreateTempSubdirectory("sknft-www-").FullName;
        _dirs.Add(dir);
        Directory.CreateDirectory($"{dir}/cgi-bin");
        File.WriteAllText($"{dir}/cgi-bin/ip", "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n");
        File.SetUnixFileMode($"{dir}/cgi-bin/ip", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var server = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", ns, "/bin/busybox", "httpd", "-f", "-p", port.ToString(), "-h", dir])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
        _servers.Add(server);
        for (var i = 0; i < 50; i++)
        {
            if (Run($"ip netns exec {ns} /bin/busybox netstat -ltn").Output.Contains($":{port} ")) return;
            Thread.Sleep(20);
        }
        throw new InvalidOperationException($"httpd in {ns} did not listen on {port}");
    }

    /// <summary>The address the server at <paramref name="address"/>:<paramref name="port"/> saw, fetched from <paramref name="ns"/> (null: the host); null when unreachable.</summary>
    public string? Fetch(string? ns, string address, int port)
    {
        var client = $"printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | {(ns is null ? "" : $"ip netns exec {ns} ")}/bin/busybox nc -w 2 {address} {port}";
        var (code, output) = Run(client);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // httpd listens on both families and writes an IPv4 client as [::ffff:a.b.c.d].
        return code == 0 && lines.Length > 0 && lines[0].Contains("200") ? lines[^1].Trim('[', ']').Replace("::ffff:", "") : null;
    }

    public bool Ping(string ns, string address) => Run($"ip netns exec {ns} /bin/busybox ping -c 1 -W 1 {address}").Code == 0;

    /// <summary>Tracked connections of the host DNAT'd from <paramref name="hostPort"/> to <paramref name="container"/>:<paramref name="containerPort"/>, read from /proc as an independent witness.</summary>
    public static int TrackedTo(int hostPort, string container, int containerPort = 80) => File.ReadAllLines("/proc/net/nf_conntrack")
        .Count(l => l.Contains($" dport={hostPort} ") && l.Contains($" src={container} ") && l.Contains($" sport={containerPort} "));

    /// <summary>The table as nft lists it, or null when it does not exist.</summary>
    public string? ListTable()
    {
        var (code, output) = Run($"nft list table inet {Table}");
        return code == 0 ? output : null;
    }

    public static string Sh(string command)
    {
        var (code, output) = Run(command);
        if (code != 0) throw new InvalidOperationException($"`{command}` failed ({code}): {output}");
        return output;
    }

    public static (int Code, string Output) Run(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command + " 2>&1"]) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    private string Namespace(string name)
    {
        var ns = $"sknft-{name}-{Suffix}";
        _namespaces.Add(ns);
        Sh($"ip netns add {ns} && ip -n {ns} link set lo up");
        return ns;
    }

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            try { server.Kill(entireProcessTree: true); server.WaitForExit(); } catch (InvalidOperationException) { }
            server.Dispose();
        }
        Run($"nft delete table inet {Table}");
        foreach (var link in _links) Run($"ip link del {link}");
        foreach (var ns in _namespaces) Run($"ip netns del {ns}");
        foreach (var dir in _dirs) Directory.Delete(dir, recursive: true);
    }
}
