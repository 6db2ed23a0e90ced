using Skiff.Oci;
using Skiff.Seccomp;

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

    [ContainerFact]
    public void DockerDefaultProfileBlocksKeyctlUnshareAndMountWhileShellToolsWork()
    {
        _bundle.CompileIntoRootfs("keyctl-probe", """
            #include <errno.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/syscall.h>
            #include <unistd.h>
            int main(void) {
                /* KEYCTL_GET_KEYRING_ID of the session keyring (-3), creating it if needed */
                if (syscall(SYS_keyctl, 0, -3, 1) < 0) { printf("keyctl: %s\n", strerror(errno)); return 1; }
                printf("keyctl: ok\n");
                return 0;
            }
            """);
        var containerCapabilities = _bundle.Spec.Process!.Capabilities!.Bounding!.ToList();
        // CAP_SYS_ADMIN in the process but not in what the profile is resolved for: only seccomp can refuse
        foreach (var set in new[] { _bundle.Spec.Process.Capabilities.Bounding, _bundle.Spec.Process.Capabilities.Effective, _bundle.Spec.Process.Capabilities.Permitted })
            set!.Add("CAP_SYS_ADMIN");
        const string script = "ls / >/dev/null && echo ls-ok; sh -c 'echo sh-ok'; ps >/dev/null && echo ps-ok; keyctl-probe; "
            + "unshare -m true 2>&1; echo unshare=$?; mount -t tmpfs none /tmp 2>&1; echo mount=$?";

        var unconfined = _bundle.Run("sh", "-c", script);
        Assert.Contains("keyctl: ok", unconfined.Stdout);
        Assert.Contains("unshare=0", unconfined.Stdout);
        Assert.Contains("mount=0", unconfined.Stdout);

        _bundle.Spec.Linux!.Seccomp = DockerDefaultProfile.For(containerCapabilities);
        var confined = _bundle.Run("sh", "-c", script);
        Assert.True(confined.ExitCode == 0, confined.ToString());
        foreach (var works in new[] { "ls-ok", "sh-ok", "ps-ok" })
            Assert.Contains(works, confined.Stdout);
        Assert.Contains("keyctl: Operation not permitted", confined.Stdout);
        Assert.Contains("unshare(0x20000): Operation not permitted", confined.Stdout);
        Assert.Contains("unshare=1", confined.Stdout);
        Assert.Contains("mount: permission denied", confined.Stdout); // busybox's words for EPERM
        Assert.Contains("mount=1", confined.Stdout);
    }
}
