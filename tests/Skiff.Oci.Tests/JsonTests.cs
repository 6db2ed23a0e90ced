using System.Text.Json.Nodes;

namespace Skiff.Oci.Tests;

public class JsonTests
{
    [Fact]
    public void FullConfig_ParsesEveryField()
    {
        var s = OciJson.ParseSpec(TestData.FullConfig);

        Assert.Equal("1.2.0", s.Version);
        var p = Assert.IsType<Process>(s.Process);
        Assert.True(p.Terminal);
        Assert.Equal(80u, p.ConsoleSize!.Width);
        Assert.Equal(1000u, p.User.UID);
        Assert.Equal(18u, p.User.Umask);
        Assert.Equal([5u, 6u], p.User.AdditionalGids!);
        Assert.Equal(["/bin/app", "--serve", "0.0.0.0:8080"], p.Args!);
        Assert.Equal("/srv/app", p.Cwd);
        Assert.Equal(["CAP_NET_BIND_SERVICE"], p.Capabilities!.Ambient!);
        Assert.Equal(ulong.MaxValue, p.Rlimits![1].Hard);
        Assert.True(p.NoNewPrivileges);
        Assert.Equal(-500, p.OOMScoreAdj);
        Assert.Equal("SCHED_FIFO", p.Scheduler!.Policy);
        Assert.Equal(10, p.Scheduler.Priority);
        Assert.Equal("IOPRIO_CLASS_BE", p.IOPriority!.Class);
        Assert.Equal("0-1", p.ExecCPUAffinity!.Initial);

        Assert.True(s.Root!.Readonly);
        Assert.Equal("app-1", s.Hostname);
        Assert.Equal(3, s.Mounts!.Count);
        Assert.Equal(100000u, s.Mounts[2].UIDMappings![0].HostID);
        Assert.Equal(5, s.Hooks!.CreateRuntime![0].Timeout);
        Assert.Equal("latest", s.Annotations!["org.opencontainers.image.ref.name"]);

        var l = s.Linux!;
        Assert.Equal(65536u, l.UIDMappings![0].Size);
        Assert.Equal("1", l.Sysctl!["net.ipv4.ip_forward"]);
        var r = l.Resources!;
        Assert.False(r.Devices![0].Allow);
        Assert.Null(r.Devices[0].Major);
        Assert.Equal(229, r.Devices[1].Minor);
        Assert.Equal(536870912, r.Memory!.Limit);
        Assert.Equal(-1, r.Memory.KernelTCP);
        Assert.Equal(0ul, r.Memory.Swappiness); // pointer to 0 stays distinct from unset
        Assert.False(r.Memory.DisableOOMKiller);
        Assert.Equal(50000, r.CPU!.Quota);
        Assert.Equal(100000ul, r.CPU.Period);
        Assert.Equal("0-3", r.CPU.Cpus);
        Assert.Equal(32768, r.Pids!.Limit);
        Assert.Equal((ushort)500, r.BlockIO!.WeightDevice![0].Weight);
        Assert.Equal(8, r.BlockIO.WeightDevice[0].Major);
        Assert.Equal(16, r.BlockIO.ThrottleWriteBpsDevice![0].Minor);
        Assert.Equal(2000ul, r.BlockIO.ThrottleWriteIOPSDevice![0].Rate);
        Assert.Equal("2MB", r.HugepageLimits![0].Pagesize);
        Assert.Equal(1048577u, r.Network!.ClassID);
        Assert.Equal(10000u, r.Rdma!["mlx5_1"].HcaObjects);
        Assert.Equal("400000000", r.Unified!["memory.high"]);
        Assert.Equal("/skiff/app-1", l.CgroupsPath);
        Assert.Equal(8, l.Namespaces!.Count);
        Assert.Equal("/var/run/netns/app", l.Namespaces[1].Path);
        Assert.Equal(438u, l.Devices![0].FileMode);
        Assert.Equal("data0", l.NetDevices!["eth1"].Name);
        Assert.Equal("SCMP_ACT_ERRNO", l.Seccomp!.DefaultAction);
        Assert.Equal(1u, l.Seccomp.DefaultErrnoRet);
        Assert.Equal(4294967295ul, l.Seccomp.Syscalls![1].Args![0].Value);
        Assert.Equal("SCMP_CMP_MASKED_EQ", l.Seccomp.Syscalls[2].Args![0].Op);
        Assert.Equal("rslave", l.RootfsPropagation);
        Assert.Equal("guaranteed_group", l.IntelRdt!.ClosID);
        Assert.Equal("MPOL_INTERLEAVE", l.MemoryPolicy!.Mode);
        Assert.Equal("LINUX", l.Personality!.Domain);
        Assert.Equal(3600, l.TimeOffsets!["monotonic"].Secs);
        Assert.Equal(-60, l.TimeOffsets["boottime"].Secs);
    }

    [Fact]
    public void FullConfig_RoundTripsToTheSameDocument()
    {
        var spec = OciJson.ParseSpec(TestData.FullConfig);
        var written = OciJson.SerializeSpec(spec);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(TestData.FullConfig), JsonNode.Parse(written)),
            "round trip changed the document:\n" + written);
        // and it is stable
        Assert.Equal(written, OciJson.SerializeSpec(OciJson.ParseSpec(written)));
    }

    [Fact]
    public void Serialize_OmitsNullsAndGoOmitemptyZeros_ButKeepsRequiredZeros()
    {
        var spec = new Spec
        {
            Version = "1.2.0",
            Process = new Process { Args = ["sh"], Cwd = "/" },
            Root = new Root { Path = "rootfs" },
            Linux = new Linux { Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["x"], Action = "SCMP_ACT_ERRNO", Args = [new LinuxSeccompArg { Index = 0, Value = 0, Op = "SCMP_CMP_EQ" }] }] } },
        };
        var json = JsonNode.Parse(OciJson.SerializeSpec(spec, indented: false))!.AsObject();
        var process = json["process"]!.AsObject();
        Assert.False(process.ContainsKey("terminal"));       // bool omitempty
        Assert.False(process.ContainsKey("noNewPrivileges"));
        Assert.False(process.ContainsKey("env"));            // null list
        Assert.False(process.ContainsKey("oomScoreAdj"));    // null pointer
        Assert.Equal(0, (int)process["user"]!["uid"]!);      // uid is not omitempty
        Assert.False(json["root"]!.AsObject().ContainsKey("readonly"));
        Assert.False(json.ContainsKey("hostname"));
        var arg = json["linux"]!["seccomp"]!["syscalls"]![0]!["args"]![0]!.AsObject();
        Assert.Equal(0, (int)arg["value"]!);                 // value is required
        Assert.False(arg.ContainsKey("valueTwo"));           // valueTwo is omitempty
    }

    [Fact]
    public void IndentedOutput_UsesTabs_CompactHasNoWhitespace()
    {
        var spec = new Spec { Version = "1.2.0", Root = new Root { Path = "rootfs" } };
        Assert.Equal("{\n\t\"ociVersion\": \"1.2.0\",\n\t\"root\": {\n\t\t\"path\": \"rootfs\"\n\t}\n}",
            OciJson.SerializeSpec(spec).ReplaceLineEndings("\n"));
        Assert.Equal("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}}", OciJson.SerializeSpec(spec, indented: false));
    }

    [Fact]
    public void UnknownProperties_AreIgnored_AtEveryLevel()
    {
        var s = OciJson.ParseSpec("""
            {"ociVersion":"1.2.0","future":{"a":[1,2,{"b":null}]},
             "process":{"args":["sh"],"cwd":"/","user":{"uid":1,"gid":2,"sid":"S-1"},"newThing":true},
             "windows":{"layerFolders":["C:\\x"]},"vm":{"kernel":{"path":"/k"}},
             "linux":{"namespaces":[{"type":"pid","flags":7}],"futureLinux":1}}
            """);
        Assert.Equal(["sh"], s.Process!.Args!);
        Assert.Equal(2u, s.Process.User.GID);
        Assert.Equal("pid", s.Linux!.Namespaces![0].Type);
    }

    [Fact]
    public void PropertyNames_MatchCaseInsensitively_LikeGo()
    {
        var s = OciJson.ParseSpec("""{"OCIVERSION":"1.0.0","Process":{"Args":["a"],"Cwd":"/","User":{"UID":3,"GID":4}}}""");
        Assert.Equal("1.0.0", s.Version);
        Assert.Equal(3u, s.Process!.User.UID);
    }

    [Fact]
    public void Runtime12And13Shapes_BothParse()
    {
        var s = OciJson.ParseSpec("""
            {"ociVersion":"1.2.0","linux":{"intelRdt":{"closID":"c","enableCMT":true,"enableMBM":true,"enableMonitoring":true,"schemata":["L3:0=ff"]},
             "resources":{"pids":{"limit":0}}}}
            """);
        Assert.True(s.Linux!.IntelRdt!.EnableCMT);
        Assert.True(s.Linux.IntelRdt.EnableMonitoring);
        Assert.Equal(["L3:0=ff"], s.Linux.IntelRdt.Schemata!);
        Assert.Equal(0, s.Linux.Resources!.Pids!.Limit);
    }

    [Theory]
    [InlineData("""{"ociVersion":"1.2.0","process":{"args":"sh","cwd":"/","user":{"uid":0,"gid":0}}}""",
        "config.json: $.process.args: expected an array of strings, got a string")]
    [InlineData("""{"ociVersion":"1.2.0","process":{"args":["sh",1],"cwd":"/","user":{"uid":0,"gid":0}}}""",
        "config.json: $.process.args[1]: expected a string, got 1")]
    [InlineData("""{"ociVersion":"1.2.0","process":{"user":{"uid":-1,"gid":0}}}""",
        "config.json: $.process.user.uid: expected an unsigned integer (32-bit), got -1")]
    [InlineData("""{"ociVersion":"1.2.0","process":{"user":{"uid":"0"}}}""",
        "config.json: $.process.user.uid: expected an unsigned integer (32-bit), got a string")]
    [InlineData("""{"ociVersion":"1.2.0","process":{"terminal":"yes"}}""",
        "config.json: $.process.terminal: expected true or false, got a string")]
    [InlineData("""{"ociVersion":"1.2.0","process":{"user":null}}""",
        "config.json: $.process.user: expected an object, got null")]
    [InlineData("""{"ociVersion":1}""",
        "config.json: $.ociVersion: expected a string, got 1")]
    [InlineData("""{"ociVersion":"1.2.0","linux":{"resources":{"memory":{"limit":"1g"}}}}""",
        "config.json: $.linux.resources.memory.limit: expected an integer (64-bit), got a string")]
    [InlineData("""{"ociVersion":"1.2.0","linux":{"resources":{"cpu":{"shares":1.5}}}}""",
        "config.json: $.linux.resources.cpu.shares: expected an unsigned integer (64-bit), got 1.5")]
    [InlineData("""{"ociVersion":"1.2.0","linux":{"sysctl":{"net.ipv4.ip_forward":1}}}""",
        "config.json: $.linux.sysctl['net.ipv4.ip_forward']: expected a string, got 1")]
    [InlineData("""{"ociVersion":"1.2.0","linux":{"namespaces":{"type":"pid"}}}""",
        "config.json: $.linux.namespaces: expected an array of objects, got an object")]
    [InlineData("""{"ociVersion":"1.2.0","mounts":[{"destination":"/x"},"tmpfs"]}""",
        "config.json: $.mounts[1]: expected an object, got a string")]
    [InlineData("""{"ociVersion":"1.2.0","linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":70000}]}}}}""",
        "config.json: $.linux.resources.blockIO.weightDevice[0].weight: expected an unsigned integer (16-bit), got 70000")]
    [InlineData("[]", "config.json: $: expected an object, got an array")]
    [InlineData("null", "config.json: $: expected an object, got null")]
    public void WrongTypes_GiveOneLineErrorWithJsonPath(string json, string expected)
    {
        var e = Assert.Throws<OciConfigException>(() => OciJson.ParseSpec(json));
        Assert.Equal(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"ociVersion":"1.2.0",}""", "config.json: invalid JSON at line 1, column 23: ")]
    [InlineData("{\n  \"ociVersion\": \"1.2.0\"\n  \"root\": {}\n}", "config.json: invalid JSON at line 3, column 3: ")]
    [InlineData("""{"ociVersion":"1.2.0" /* c */}""", "config.json: invalid JSON at line 1, column 23: ")]
    [InlineData("", "config.json: invalid JSON at line 1, column 1: ")]
    public void MalformedJson_GivesLineAndColumn(string json, string expectedPrefix)
    {
        var e = Assert.Throws<OciConfigException>(() => OciJson.ParseSpec(json));
        Assert.StartsWith(expectedPrefix, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("Path:", e.Message);
    }

    [Fact]
    public void ReadSpec_NamesTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("skiff-oci-");
        try
        {
            var path = Path.Combine(dir.FullName, "config.json");
            File.WriteAllText(path, """{"ociVersion":"1.2.0","process":{"args":[true]}}""");
            var e = Assert.Throws<OciConfigException>(() => OciJson.ReadSpec(path));
            Assert.Equal($"{path}: $.process.args[0]: expected a string, got true", e.Message);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);

            var missing = Path.Combine(dir.FullName, "nope.json");
            var notFound = Assert.Throws<OciConfigException>(() => OciJson.ReadSpec(missing));
            Assert.Equal($"{missing}: no such file or directory", notFound.Message);
            Assert.Equal(ErrorKind.NotFound, notFound.Kind);

            OciJson.WriteSpec(path, DefaultSpec.Default(cgroupNamespace: true));
            var back = OciJson.ReadSpec(path);
            Assert.Equal("skiff", back.Hostname);
            Assert.Single(Directory.GetFiles(dir.FullName)); // no temp file left behind
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void State_SerializesLikeRunc()
    {
        var st = new State { Version = "1.2.0", ID = "app", Status = ContainerState.Created, Pid = 4242, Bundle = "/b", Annotations = new() { ["k"] = "v" } };
        Assert.Equal("""{"ociVersion":"1.2.0","id":"app","status":"created","pid":4242,"bundle":"/b","annotations":{"k":"v"}}""",
            OciJson.SerializeState(st, indented: false));

        var stopped = new State { Version = "1.2.0", ID = "x", Status = ContainerState.Stopped, Bundle = "/b" };
        Assert.Equal("""{"ociVersion":"1.2.0","id":"x","status":"stopped","bundle":"/b"}""", OciJson.SerializeState(stopped, indented: false));

        var back = OciJson.ParseState(OciJson.SerializeState(st));
        Assert.Equal(4242, back.Pid);
        Assert.Equal("v", back.Annotations!["k"]);

        Assert.Equal("[]", OciJson.SerializeStates([]));
        Assert.StartsWith("""[{"ociVersion":"1.2.0","id":"app",""", OciJson.SerializeStates([st, stopped]));
    }

    [Fact]
    public void ContainerProcessState_HasRequiredFields()
    {
        var cps = new ContainerProcessState
        {
            Version = "1.2.0", Fds = ["seccompFd"], Pid = 7, Metadata = "m",
            State = new State { Version = "1.2.0", ID = "a", Status = "creating", Pid = 7, Bundle = "/b" },
        };
        Assert.Equal("""{"ociVersion":"1.2.0","fds":["seccompFd"],"pid":7,"metadata":"m","state":{"ociVersion":"1.2.0","id":"a","status":"creating","pid":7,"bundle":"/b"}}""",
            OciJson.SerializeContainerProcessState(cps));
    }

    [Fact]
    public void Features_RoundTrip_NullMeansUnknown()
    {
        var f = new Features
        {
            OCIVersionMin = "1.0.0", OCIVersionMax = "1.2.0",
            Hooks = ["prestart", "createRuntime"], MountOptions = ["ro", "rbind"],
            Linux = new LinuxFeatures
            {
                Namespaces = ["pid", "user"], Capabilities = ["CAP_CHOWN"],
                Cgroup = new CgroupFeatures { V1 = false, V2 = true },
                Seccomp = new SeccompFeatures { Enabled = true, Actions = ["SCMP_ACT_ALLOW"], SupportedFlags = [] },
                MountExtensions = new MountExtensionsFeatures { IDMap = new IDMapFeatures { Enabled = true } },
                IntelRdt = new IntelRdtFeatures { Enabled = false, Schemata = true },
                MemoryPolicy = new MemoryPolicyFeatures { Modes = ["MPOL_BIND"] },
                NetDevices = new NetDevicesFeatures { Enabled = true },
            },
            Annotations = new() { ["org.opencontainers.runc.version"] = "x" },
            PotentiallyUnsafeConfigAnnotations = ["com.example."],
        };
        var json = OciJson.SerializeFeatures(f, indented: false);
        var node = JsonNode.Parse(json)!;
        Assert.False((bool)node["linux"]!["cgroup"]!["v1"]!);
        Assert.False(node["linux"]!["cgroup"]!.AsObject().ContainsKey("systemd")); // unknown stays absent
        Assert.Empty(node["linux"]!["seccomp"]!["supportedFlags"]!.AsArray()); // empty is "none", kept
        Assert.True((bool)node["linux"]!["mountExtensions"]!["idmap"]!["enabled"]!);
        var back = OciJson.ParseFeatures(json);
        Assert.Equal(json, OciJson.SerializeFeatures(back, indented: false));
    }

    [Fact]
    public void ProcessAndResources_ParseStandalone()
    {
        var p = OciJson.ParseProcess("""{"args":["ls"],"cwd":"/tmp","user":{"uid":1,"gid":1}}""");
        Assert.Equal("/tmp", p.Cwd);
        var r = OciJson.ParseResources("""{"memory":{"limit":1024},"pids":{"limit":10}}""");
        Assert.Equal(10, r.Pids!.Limit);
        var e = Assert.Throws<OciConfigException>(() => OciJson.ParseResources("""{"cpu":{"quota":"max"}}"""));
        Assert.Equal("resources: $.cpu.quota: expected an integer (64-bit), got a string", e.Message);
    }
}
