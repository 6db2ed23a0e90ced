using System.Text.Json.Nodes;

namespace Skiff.Oci.Tests;

public class DefaultSpecTests
{
    // The document `runc spec` writes on a cgroup v2 host (runc's specconv.Example), with Skiff's two
    // deliberate changes: ociVersion 1.2.0 and hostname "skiff".
    private const string RuncSpecOutput = """
    {
    	"ociVersion": "1.2.0",
    	"process": {
    		"terminal": true,
    		"user": { "uid": 0, "gid": 0 },
    		"args": [ "sh" ],
    		"env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
    		"cwd": "/",
    		"capabilities": {
    			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
    			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
    			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
    		},
    		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    		"noNewPrivileges": true
    	},
    	"root": { "path": "rootfs", "readonly": true },
    	"hostname": "skiff",
    	"mounts": [
    		{ "destination": "/proc", "type": "proc", "source": "proc" },
    		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": [ "nosuid", "noexec", "nodev" ] },
    		{ "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
    	],
    	"linux": {
    		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    		"namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" } ],
    		"maskedPaths": [
    			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    			"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/tpm"
    		],
    		"readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
    	}
    }
    """;

    [Fact]
    public void Default_MatchesRuncSpec()
    {
        var written = OciJson.SerializeSpec(DefaultSpec.Default(cgroupNamespace: true));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(RuncSpecOutput), JsonNode.Parse(written)), written);
        Assert.Contains("\n\t\"ociVersion\": \"1.2.0\"", written.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Default_WithoutCgroupNamespace_ForCgroupV1Hosts()
    {
        var s = DefaultSpec.Default(cgroupNamespace: false);
        Assert.Equal(["pid", "network", "ipc", "uts", "mount"], s.Linux!.Namespaces!.Select(n => n.Type));
    }

    [Fact]
    public void Default_AutoDetectsCgroupV2()
    {
        bool v2 = File.Exists("/sys/fs/cgroup/cgroup.controllers");
        Assert.Equal(v2, DefaultSpec.Default().Linux!.Namespaces!.Any(n => n.Type == "cgroup"));
    }

    [Fact]
    public void Default_IsValid_AndRoundTrips()
    {
        var s = DefaultSpec.Default(cgroupNamespace: true);
        Assert.Empty(SpecValidator.Validate(s));
        var json = OciJson.SerializeSpec(s);
        Assert.Equal(json, OciJson.SerializeSpec(OciJson.ParseSpec(json)));
    }

    [Fact]
    public void Default_ReturnsIndependentObjects()
    {
        var a = DefaultSpec.Default(true);
        a.Process!.Args!.Add("-c");
        a.Process.Capabilities!.Bounding!.Add("CAP_SYS_ADMIN");
        var b = DefaultSpec.Default(true);
        Assert.Equal(["sh"], b.Process!.Args!);
        Assert.Equal(3, b.Process.Capabilities!.Bounding!.Count);
        Assert.Equal(3, b.Process.Capabilities.Effective!.Count);
    }

    [Fact]
    public void Rootless_DoesWhatRuncToRootlessDoes()
    {
        var s = DefaultSpec.Default(cgroupNamespace: true);
        DefaultSpec.Rootless(s, hostUid: 1000, hostGid: 1001);

        var l = s.Linux!;
        Assert.Equal(["pid", "ipc", "uts", "mount", "cgroup", "user"], l.Namespaces!.Select(n => n.Type));
        var uid = Assert.Single(l.UIDMappings!);
        Assert.Equal((0u, 1000u, 1u), (uid.ContainerID, uid.HostID, uid.Size));
        var gid = Assert.Single(l.GIDMappings!);
        Assert.Equal((0u, 1001u, 1u), (gid.ContainerID, gid.HostID, gid.Size));
        Assert.Null(l.Resources);

        var sys = Assert.Single(s.Mounts!, m => m.Destination == "/sys");
        Assert.Equal("/sys", sys.Source);
        Assert.Equal("none", sys.Type);
        Assert.Equal(["rbind", "nosuid", "noexec", "nodev", "ro"], sys.Options!);
        Assert.Equal(7, s.Mounts!.Count);
        Assert.Equal(5, s.Mounts.FindIndex(m => m.Destination == "/sys")); // same position

        var devpts = s.Mounts.Single(m => m.Destination == "/dev/pts");
        Assert.Equal(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"], devpts.Options!);
        Assert.DoesNotContain(s.Mounts.SelectMany(m => m.Options ?? []), o => o.StartsWith("gid=") || o.StartsWith("uid="));
        Assert.Null(s.Mounts.Single(m => m.Destination == "/proc").Options);

        Assert.Empty(SpecValidator.Validate(s));
    }

    [Fact]
    public void Rootless_ReplacesExistingUserNamespace_AndOptionsThatBecomeEmpty()
    {
        var s = TestData.Minimal();
        s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user", Path = "/proc/1/ns/user" });
        s.Linux.Namespaces.Add(new LinuxNamespace { Type = "network" });
        s.Mounts = [new Mount { Destination = "/sys/", Type = "sysfs" }, new Mount { Destination = "/x", Options = ["uid=0", "gid=0"] }];
        DefaultSpec.Rootless(s, 5, 6);
        Assert.Equal(["pid", "mount", "user"], s.Linux.Namespaces!.Select(n => n.Type));
        Assert.Null(s.Linux.Namespaces![2].Path);
        Assert.Equal("none", s.Mounts![0].Type);
        Assert.Null(s.Mounts[1].Options);
    }

    [Theory]
    [InlineData("/sys", "/sys")]
    [InlineData("/sys/", "/sys")]
    [InlineData("//sys/.", "/sys")]
    [InlineData("/proc/../sys", "/sys")]
    [InlineData("/..", "/")]
    [InlineData("sys/../x", "x")]
    [InlineData("", ".")]
    public void CleanPath_LikeGo(string input, string expected) => Assert.Equal(expected, DefaultSpec.CleanPath(input));
}
