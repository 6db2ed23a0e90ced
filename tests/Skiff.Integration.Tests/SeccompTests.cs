using Skiff.Oci;

namespace Skiff.Integration.Tests;

public sealed class SeccompTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [ContainerFact]
    public void ErrnoRuleMakesMkdirFailWithEperm()
    {
        _bundle.Spec.Root!.Readonly = false;
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO" }],
        };
        var result = _bundle.Run("sh", "-c", "mkdir /tmp/x; echo status=$?; touch /tmp/y && echo touched");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Operation not permitted", result.Stderr);
        Assert.Contains("status=1", result.Stdout);
        Assert.Contains("touched", result.Stdout);
    }

    [ContainerFact]
    public void ArgumentFilterOnlyMatchesTheGivenValue()
    {
        // personality(0xffffffff) only queries; block exactly that argument value with EACCES.
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["kill"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13, Args = [new LinuxSeccompArg { Index = 1, Value = 10, Op = "SCMP_CMP_EQ" }] }],
        };
        var result = _bundle.Run("sh", "-c", "kill -USR1 $$ 2>&1; echo usr1=$?; kill -0 $$; echo zero=$?");
        Assert.Contains("Permission denied", result.Stdout);
        Assert.Contains("usr1=1", result.Stdout);
        Assert.Contains("zero=0", result.Stdout);
    }

    [ContainerFact]
    public void NoNewPrivilegesFalseStillLoadsTheFilter()
    {
        _bundle.Spec.Process!.NoNewPrivileges = false;
        _bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO" }],
        };
        var result = _bundle.Run("sh", "-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/x");
        Assert.Contains("Seccomp:\t2", result.Stdout);
        Assert.Contains("NoNewPrivs:\t0", result.Stdout);
        Assert.NotEqual(0, result.ExitCode);
    }
}
