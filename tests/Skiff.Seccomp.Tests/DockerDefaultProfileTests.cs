using System.Text;
using Skiff.Oci;
using Skiff.Seccomp;

namespace Skiff.Seccomp.Tests;

public sealed class DockerDefaultProfileTests
{
    /// <summary>Docker's default capability set (moby oci/caps DefaultCapabilities).</summary>
    internal static readonly string[] DockerCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    private static readonly Version Kernel = new(6, 1);

    private static IEnumerable<LinuxSyscall> RulesFor(LinuxSeccomp profile, string name) => profile.Syscalls!.Where(r => r.Names!.Contains(name));

    [Fact]
    public void DefaultCapabilitiesOnAmd64DenyByDefaultAndKeepPrivilegedCallsOut()
    {
        var profile = DockerDefaultProfile.For(DockerCapabilities, "amd64", Kernel);

        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], profile.Architectures!);
        foreach (var privileged in new[] { "mount", "umount2", "unshare", "setns", "keyctl", "add_key", "reboot", "bpf" })
            Assert.Empty(RulesFor(profile, privileged));
        Assert.Single(RulesFor(profile, "chroot")); // CAP_SYS_CHROOT is in the set
        Assert.Single(RulesFor(profile, "arch_prctl"));
        Assert.Empty(RulesFor(profile, "s390_runtime_instr"));
        Assert.Single(RulesFor(profile, "ptrace")); // minKernel 4.8
        // clone without namespace flags only, clone3 refused with ENOSYS so libcs fall back to clone
        var clone = Assert.Single(RulesFor(profile, "clone"));
        var namespaceFlags = Assert.Single(clone.Args!);
        Assert.Equal((0u, 2114060288UL, "SCMP_CMP_MASKED_EQ"), (namespaceFlags.Index, namespaceFlags.Value, namespaceFlags.Op));
        Assert.Equal(38u, Assert.Single(RulesFor(profile, "clone3")).ErrnoRet);
    }

    [Fact]
    public void SysAdminAllowsMountAndUnshareAndPlainClone()
    {
        var profile = DockerDefaultProfile.For([.. DockerCapabilities, "CAP_SYS_ADMIN"], "amd64", Kernel);
        Assert.Single(RulesFor(profile, "mount"));
        Assert.Single(RulesFor(profile, "unshare"));
        var clone = Assert.Single(RulesFor(profile, "clone"));
        Assert.Null(clone.Args);
        Assert.DoesNotContain(RulesFor(profile, "clone3"), r => r.Action == "SCMP_ACT_ERRNO");
    }

    [Fact]
    public void ArchitectureAndKernelConditionsSelectRules()
    {
        var s390 = DockerDefaultProfile.For(DockerCapabilities, "s390x", Kernel);
        Assert.Equal(["SCMP_ARCH_S390X", "SCMP_ARCH_S390"], s390.Architectures!);
        Assert.Equal(1u, Assert.Single(Assert.Single(RulesFor(s390, "clone")).Args!).Index);
        Assert.Empty(RulesFor(s390, "arch_prctl"));

        var old = DockerDefaultProfile.For(DockerCapabilities, "amd64", new Version(4, 4));
        Assert.Empty(RulesFor(old, "ptrace"));
    }

    [Fact]
    public void ResolvedProfileCompilesWithLibseccomp()
    {
        var program = SeccompCompiler.Compile(DockerDefaultProfile.For(DockerCapabilities));
        Assert.True(program.Instructions.Length > 100);
    }

    [Fact]
    public void ConflictingFieldsAreRefused()
    {
        var both = DockerSeccompProfile.Parse(Encoding.UTF8.GetBytes("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","names":["rmdir"],"action":"SCMP_ACT_ERRNO"}]}"""), "p.json");
        Assert.Contains("both 'name'", Assert.Throws<SeccompException>(() => both.Resolve([], "amd64", Kernel)).Message);
        var arches = DockerSeccompProfile.Parse(Encoding.UTF8.GetBytes("""{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"""), "p.json");
        Assert.Contains("both 'architectures' and 'archMap'", Assert.Throws<SeccompException>(() => arches.Resolve([], "amd64", Kernel)).Message);
        Assert.StartsWith("p.json: invalid seccomp profile", Assert.Throws<SeccompException>(() => DockerSeccompProfile.Parse("{\"defaultAction\": 3}"u8, "p.json")).Message);
    }
}
