using Skiff.Oci;
using Skiff.Seccomp;

namespace Skiff.Seccomp.Tests;

public sealed class SeccompCompilerTests
{
    private static LinuxSeccomp Profile(params LinuxSyscall[] syscalls)
        => new() { DefaultAction = "SCMP_ACT_ALLOW", Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], Syscalls = [.. syscalls] };

    [Fact]
    public void UnknownSyscallNamesAreSkippedLikeRunc()
    {
        var skipped = new List<string>();
        var program = SeccompCompiler.Compile(Profile(new LinuxSyscall { Names = ["no_such_syscall", "mkdir"], Action = "SCMP_ACT_ERRNO" }), skipped.Add);
        Assert.Equal(["seccomp: skipping unknown syscall \"no_such_syscall\""], skipped);
        Assert.NotEmpty(program.Instructions);
    }

    [Fact]
    public void RulesWithTheDefaultActionAddNothing()
    {
        var empty = SeccompCompiler.Compile(Profile());
        var same = SeccompCompiler.Compile(Profile(new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ALLOW" }));
        Assert.Equal(empty.Instructions, same.Instructions);
    }

    [Fact]
    public void ArgumentConditionsChangeTheProgram()
    {
        var plain = SeccompCompiler.Compile(Profile(new LinuxSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO" }));
        var masked = SeccompCompiler.Compile(Profile(new LinuxSyscall
        {
            Names = ["personality"], Action = "SCMP_ACT_ERRNO",
            Args = [new LinuxSeccompArg { Index = 0, Value = 0xff, ValueTwo = 0x8, Op = "SCMP_CMP_MASKED_EQ" }],
        }));
        Assert.NotEqual(plain.Instructions, masked.Instructions);
        // The masked comparison is a BPF_ALU|BPF_AND|BPF_K (0x54) with the mask as constant.
        Assert.Contains(masked.Instructions, i => (i & 0xffff) == 0x54 && (i >> 32) == 0xff);
    }

    [Fact]
    public void RepeatedArgumentIndexesBecomeSeparateRules()
    {
        var program = SeccompCompiler.Compile(Profile(new LinuxSyscall
        {
            Names = ["clone"], Action = "SCMP_ACT_ERRNO",
            Args = [new LinuxSeccompArg { Index = 0, Value = 1, Op = "SCMP_CMP_EQ" }, new LinuxSeccompArg { Index = 0, Value = 2, Op = "SCMP_CMP_EQ" }],
        }));
        Assert.NotEmpty(program.Instructions);
    }

    [Theory]
    [InlineData("SCMP_ACT_FLY", "SCMP_CMP_EQ", "SCMP_ACT_FLY")]
    [InlineData("SCMP_ACT_ERRNO", "SCMP_CMP_ABOUT", "SCMP_CMP_ABOUT")]
    public void UnknownActionsAndOperatorsAreNamed(string action, string op, string expected)
    {
        var profile = Profile(new LinuxSyscall { Names = ["mkdir"], Action = action, Args = [new LinuxSeccompArg { Index = 0, Value = 1, Op = op }] });
        Assert.Contains(expected, Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(profile)).Message);
    }

    [Fact]
    public void FlagsAreEncodedAndUnknownOnesRejected()
    {
        var profile = Profile();
        profile.Flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"];
        Assert.Equal(5UL, SeccompCompiler.Compile(profile).Flags);
        profile.Flags = ["SECCOMP_FILTER_FLAG_BOGUS"];
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(profile)).Kind);
    }

    [Fact]
    public void NotifyRulesAskTheKernelForAListener()
    {
        var profile = Profile(new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" });
        profile.ListenerPath = "/run/agent.sock";
        var program = SeccompCompiler.Compile(profile);
        Assert.Equal(SeccompCompiler.FlagNewListener, program.Flags & SeccompCompiler.FlagNewListener);
        // SECCOMP_RET_USER_NOTIF as a return instruction (BPF_RET|BPF_K = 0x06)
        Assert.Contains(program.Instructions, i => (i & 0xffff) == 0x06 && (i >> 32) == 0x7fc00000);
        Assert.Equal(0UL, SeccompCompiler.Compile(Profile()).Flags & SeccompCompiler.FlagNewListener);
    }

    [Fact]
    public void NotifyNeedsAListenerPathAndCannotBeTheDefault()
    {
        var noListener = Profile(new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" });
        Assert.Contains("listenerPath: required", Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(noListener)).Message);
        var asDefault = new LinuxSeccomp { DefaultAction = "SCMP_ACT_NOTIFY", ListenerPath = "/run/agent.sock" };
        Assert.Contains("cannot be the default action", Assert.Throws<SeccompException>(() => SeccompCompiler.Compile(asDefault)).Message);
    }
}
