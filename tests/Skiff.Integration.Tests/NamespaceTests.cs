using Skiff.Oci;
using static Skiff.Integration.Tests.ContainerHelpers;

namespace Skiff.Integration.Tests;

/// <summary>Each namespace kind, created or joined, checked from inside the container.</summary>
public sealed class NamespaceTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    private static string HostNs(string kind) => new FileInfo($"/proc/self/ns/{kind}").LinkTarget!;

    [ContainerFact]
    public void PidNamespaceMakesTheProgramPid1()
    {
        var output = _bundle.Sh("echo $$; readlink /proc/self/ns/pid; ls /proc | grep -c '^[0-9]'");
        var lines = output.Split('\n');
        Assert.Equal("1", lines[0]);
        Assert.NotEqual(HostNs("pid"), lines[1]);
        // only the shell and the ls/grep it started: no host process is visible
        Assert.True(int.Parse(lines[2]) <= 3, output);
    }

    [ContainerFact]
    public void UtsNamespaceSetsHostnameAndDomainnameWithoutTouchingTheHost()
    {
        var hostName = File.ReadAllText("/proc/sys/kernel/hostname");
        var hostDomain = File.ReadAllText("/proc/sys/kernel/domainname");
        _bundle.Spec.Hostname = "skiff-uts-test";
        _bundle.Spec.Domainname = "example.test";
        var output = _bundle.Sh("hostname; cat /proc/sys/kernel/domainname; readlink /proc/self/ns/uts");
        Assert.Equal(["skiff-uts-test", "example.test"], output.Split('\n')[..2]);
        Assert.NotEqual(HostNs("uts"), output.Split('\n')[2]);
        Assert.Equal(hostName, File.ReadAllText("/proc/sys/kernel/hostname"));
        Assert.Equal(hostDomain, File.ReadAllText("/proc/sys/kernel/domainname"));
    }

    [ContainerFact]
    public void MountsInsideTheMountNamespaceAreInvisibleOnTheHost()
    {
        var hostBefore = File.ReadAllText("/proc/self/mountinfo");
        _bundle.Spec.Mounts!.Add(new Mount { Destination = "/inner-tmpfs", Type = "tmpfs", Source = "skiff-inner" });
        var id = _bundle.NewId();
        int pid = _bundle.CreateSleeping(id);
        var container = File.ReadAllText($"/proc/{pid}/mountinfo");
        Assert.Single(MountInfoLines(container, "/inner-tmpfs"));
        Assert.NotEqual(HostNs("mnt"), new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget);

        // Nothing the container mounted (its rootfs bind, /proc, the tmpfs) shows on the host.
        var hostAfter = File.ReadAllText("/proc/self/mountinfo");
        Assert.DoesNotContain(_bundle.Rootfs, hostAfter);
        Assert.DoesNotContain("skiff-inner", hostAfter);
        // (No count comparison: tests of other classes mount on the host in parallel.)
        Assert.DoesNotContain(_bundle.Rootfs, hostBefore);
    }

    [ContainerFact]
    public void NetworkNamespaceHasOnlyADownLoopback()
    {
        var output = _bundle.Sh("ls /sys/class/net; echo ---; cat /sys/class/net/lo/flags; echo ---; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
        var parts = output.Split("---\n");
        Assert.Equal("lo\n", parts[0]);
        // IFF_UP is bit 0: a fresh network namespace's loopback is down (runc leaves it so too).
        var flags = Convert.ToInt32(parts[1].Trim(), 16);
        Assert.True((flags & 1) == 0, $"lo flags {parts[1]}");
        Assert.Equal("lo\n", parts[2]);
    }

    [ContainerFact]
    public void IpcNamespaceHidesTheHostsSysVObjects()
    {
        var shmid = Host("ipcmk", "-M", "4096", "-p", "0600").Trim().Split(' ').Last();
        try
        {
            Assert.Contains($" {shmid} ", File.ReadAllText("/proc/sysvipc/shm"));
            var output = _bundle.Sh("readlink /proc/self/ns/ipc; tail -n +2 /proc/sysvipc/shm | wc -l");
            var lines = output.Split('\n');
            Assert.NotEqual(HostNs("ipc"), lines[0]);
            Assert.Equal("0", lines[1].Trim());
        }
        finally
        {
            HostQuiet("ipcrm", "-m", shmid);
        }
    }

    [ContainerFact]
    public void UserNamespaceMapsRootToAHostRange()
    {
        // The mapped root (host 100000) must reach the rootfs: open up the bundle and give it the rootfs.
        Host("chmod", "755", _bundle.Directory);
        Host("chown", "-R", "100000:100000", _bundle.Rootfs);
        var shared = Directory.CreateTempSubdirectory("skiff-userns-").FullName;
        try
        {
            Host("chmod", "777", shared);
            _bundle.Spec.Root!.Readonly = false;
            _bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = LinuxNamespaceType.User });
            _bundle.Spec.Linux.UIDMappings = [new LinuxIDMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
            _bundle.Spec.Linux.GIDMappings = [new LinuxIDMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
            _bundle.Spec.Mounts!.Add(new Mount { Destination = "/shared", Type = "bind", Source = shared, Options = ["rbind"] });
            var output = _bundle.Sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /shared/made-inside; touch /made-in-rootfs; readlink /proc/self/ns/user");
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["0 100000 65536", "0 100000 65536"], lines[..2].Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
            Assert.Equal(["0", "0"], lines[2..4]);
            Assert.NotEqual(HostNs("user"), lines[4]);
            Assert.Equal("100000:100000", Host("stat", "-c", "%u:%g", Path.Combine(shared, "made-inside")).Trim());
            Assert.Equal("100000:100000", Host("stat", "-c", "%u:%g", Path.Combine(_bundle.Rootfs, "made-in-rootfs")).Trim());
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [ContainerFact]
    public void CgroupNamespaceShowsRootPaths()
    {
        _bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = LinuxNamespaceType.Cgroup });
        var output = _bundle.Sh("cat /proc/self/cgroup; readlink /proc/self/ns/cgroup");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEqual(HostNs("cgroup"), lines[^1]);
        var cgroupLines = lines[..^1];
        Assert.NotEmpty(cgroupLines);
        // The container's cgroup (/skiff-test/<id>) is the namespace root in every hierarchy.
        Assert.All(cgroupLines, l => Assert.EndsWith(":/", l));
    }

    [ContainerFact]
    public void TimeNamespaceOffsetsBoottime()
    {
        const long offset = 10 * 86400;
        _bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = LinuxNamespaceType.Time });
        _bundle.Spec.Linux.TimeOffsets = new()
        {
            ["boottime"] = new LinuxTimeOffset { Secs = offset },
            ["monotonic"] = new LinuxTimeOffset { Secs = 7 * 86400 },
        };
        var hostBefore = HostUptime();
        var output = _bundle.Sh("cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time");
        var hostAfter = HostUptime();
        var lines = output.Split('\n');
        var inside = double.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(inside, hostBefore + offset, hostAfter + offset + 1);
        Assert.NotEqual(HostNs("time"), lines[1]);
    }

    private static double HostUptime()
        => double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    [ContainerFact]
    public void JoinsAnExistingNetworkNamespaceByPath()
    {
        var name = Unique("skiff-test");
        Host("ip", "netns", "add", name);
        try
        {
            // A bridge rather than a dummy: this host's kernel has no dummy driver.
            Host("ip", "-n", name, "link", "add", "skiffbr0", "type", "bridge");
            var path = $"/var/run/netns/{name}";
            var inode = Host("stat", "-L", "-c", "%i", path).Trim();
            _bundle.Spec.Linux!.Namespaces!.Single(n => n.Type == LinuxNamespaceType.Network).Path = path;
            var output = _bundle.Sh("ls /sys/class/net | tr '\\n' ' '; echo; readlink /proc/self/ns/net");
            var lines = output.Split('\n');
            Assert.Equal("lo skiffbr0 ", lines[0]);
            Assert.Equal($"net:[{inode}]", lines[1]);
        }
        finally
        {
            HostQuiet("ip", "netns", "delete", name);
        }
    }

    [ContainerFact]
    public void JoinsAnotherContainersNamespacesByPath()
    {
        _bundle.Spec.Hostname = "first-container";
        var first = _bundle.NewId("first");
        int pid = _bundle.CreateSleeping(first);
        var uts = new FileInfo($"/proc/{pid}/ns/uts").LinkTarget!;
        var ipc = new FileInfo($"/proc/{pid}/ns/ipc").LinkTarget!;

        _bundle.Spec.Hostname = null; // the joined uts namespace keeps its name; setting one would change the first's
        var namespaces = _bundle.Spec.Linux!.Namespaces!;
        namespaces.Single(n => n.Type == LinuxNamespaceType.Uts).Path = $"/proc/{pid}/ns/uts";
        namespaces.Single(n => n.Type == LinuxNamespaceType.Ipc).Path = $"/proc/{pid}/ns/ipc";
        var output = _bundle.Sh("hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc");
        Assert.Equal(["first-container", uts, ipc], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [ContainerFact]
    public void MissingNamespacePathIsAClearError()
    {
        _bundle.Spec.Linux!.Namespaces!.Single(n => n.Type == LinuxNamespaceType.Network).Path = "/var/run/netns/skiff-does-not-exist";
        var result = _bundle.Run("true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/var/run/netns/skiff-does-not-exist", result.Stderr);
    }
}
