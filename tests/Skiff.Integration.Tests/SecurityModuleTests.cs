using Skiff.Engine;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime;
using Skiff.Runtime.Launch;
using Skiff.Runtime.Plan;

namespace Skiff.Integration.Tests;

/// <summary>
/// AppArmor and SELinux on a host that runs neither (the machines Skiff is tested on): a requested
/// profile or label is refused with one line naming it, and leaves nothing behind; empty ones are
/// no request at all. Where a module runs, these errors cannot happen, so the tests are skipped.
/// </summary>
public sealed class SecurityModuleTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    [WithoutSecurityModulesTheory]
    [InlineData("apparmor", "process.apparmorProfile \"docker-default\"", "AppArmor")]
    [InlineData("selinux", "process.selinuxLabel \"system_u:system_r:container_t:s0:c1,c2\"", "SELinux")]
    [InlineData("mount", "linux.mountLabel \"system_u:object_r:container_file_t:s0:c1,c2\"", "SELinux")]
    public void ARequestedProfileFailsCreateClearlyAndLeavesNothing(string which, string field, string module)
    {
        switch (which)
        {
            case "apparmor": _bundle.Spec.Process!.ApparmorProfile = "docker-default"; break;
            case "selinux": _bundle.Spec.Process!.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"; break;
            default: _bundle.Spec.Linux!.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"; break;
        }
        var id = _bundle.NewId("lsm");
        _bundle.AssertFailedCleanly(id, _bundle.Create(id), $"config.json: {field} requested but {module} is not enabled on this host");
    }

    [WithoutSecurityModulesFact]
    public void EmptyProfileAndLabelsAreNoRequest()
    {
        _bundle.Spec.Process!.ApparmorProfile = "";
        _bundle.Spec.Process.SelinuxLabel = "";
        _bundle.Spec.Linux!.MountLabel = "";
        var run = _bundle.Run("sh", "-c", "echo confined-by-nothing");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("confined-by-nothing\n", run.Stdout);
    }

    [WithoutSecurityModulesFact]
    public void ExecWithAProfileFailsClearlyAndTheContainerRunsOn()
    {
        var id = _bundle.NewId("lsm");
        _bundle.Spec.Process!.Args = ["sleep", "1000"];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        var before = _bundle.Pids(id);

        var apparmor = _bundle.Runtime("exec", "--apparmor", "docker-default", id, "true");
        Assert.True(apparmor.ExitCode != 0, apparmor.ToString());
        Assert.Contains("exec: process.apparmorProfile \"docker-default\" requested but AppArmor is not enabled on this host", Leftovers.SingleLine(apparmor.Stderr));

        var processFile = Path.Combine(_bundle.Directory, "process.json");
        File.WriteAllText(processFile, """{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "selinuxLabel": "system_u:system_r:container_t:s0"}""");
        var selinux = _bundle.Runtime("exec", "--process", processFile, id);
        Assert.True(selinux.ExitCode != 0, selinux.ToString());
        Assert.Contains("exec: process.selinuxLabel \"system_u:system_r:container_t:s0\" requested but SELinux is not enabled on this host", Leftovers.SingleLine(selinux.Stderr));

        var empty = _bundle.Runtime("exec", "--apparmor", "", "--process-label", "", id, "echo", "ok");
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.Equal("ok\n", empty.Stdout);
        Assert.Equal("running", _bundle.Status(id));
        Assert.Equal(before, _bundle.Pids(id));
    }

    [ContainerFact]
    public void FeaturesReportWhatThisHostRuns()
    {
        var linux = System.Text.Json.JsonDocument.Parse(_bundle.Runtime("features").Stdout).RootElement.GetProperty("linux");
        Assert.Equal(SecurityModules.Host.AppArmorEnabled, linux.GetProperty("apparmor").GetProperty("enabled").GetBoolean());
        Assert.Equal(SecurityModules.Host.SelinuxEnabled, linux.GetProperty("selinux").GetProperty("enabled").GetBoolean());
    }

    [WithoutSecurityModulesFact]
    public void TheEngineFailsStartWith125AndTheRuntimesMessage()
    {
        using var engine = new TestEngine(TestEngine.SkiffRuntime);
        var container = engine.Create(["true"], options: new RunOptions { SecurityLabels = new SecurityLabels("my-profile", null, null) });
        var error = Assert.Throws<EngineException>(() => engine.Containers.Start(container.Id));
        Assert.Equal((ErrorKind.Internal, false), (error.Kind, error.ContainerCommand));
        Assert.Contains("process.apparmorProfile \"my-profile\" requested but AppArmor is not enabled on this host", error.Message);
        Assert.Empty(Leftovers.ProcessesOf(container.Id));
        Assert.Empty(Leftovers.CgroupDirs(container.Id));
        engine.Containers.Remove(container.Id);
        engine.AssertGone(container.Id);

        // unconfined and label=disable ask nothing of this host.
        var labels = SecurityLabels.FromOptions(["apparmor=unconfined", "label=disable"], privileged: false, SecurityModules.Host);
        var unconfined = engine.Create(["true"], options: new RunOptions { SecurityLabels = labels });
        using var session = engine.Containers.Start(unconfined.Id, attach: true)!;
        Assert.Equal(0, session.CopyOutput(Stream.Null, Stream.Null));
        engine.Containers.Remove(unconfined.Id);
        engine.AssertGone(unconfined.Id);
    }
}

/// <summary>
/// skiff-init's OP_EXEC_LABEL against this kernel: with no LSM to take it, the kernel refuses the
/// label, and the error shows which attr file skiff-init opened (the module's own directory, or the
/// shared attr/exec it falls back to) and that it passed the procfs check and reached the write.
/// What the module then does with the label needs a host where it runs.
/// </summary>
public sealed class ExecLabelWriteTests
{
    [WithoutSecurityModulesFact]
    public void TheLabelReachesTheProcAttrFileAndTheKernelsAnswerIsReported()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SKIFF_INIT")))
            Environment.SetEnvironmentVariable("SKIFF_INIT", Path.Combine(Repo.Root, "bin", Stage0.HelperName));
        var layout = new FdLayout(0, null, null);
        // An exec-mode plan that joins nothing: the process would run /bin/true on the host as root.
        var plan = new PlanWriter()
            .Add(PlanOp.Mode, 1).Add(PlanOp.SyncFd, (ulong)layout.Sync).Add(PlanOp.PreserveFds, 0).Add(PlanOp.CloneFlags, 0)
            .Add(PlanOp.ExecLabel, "apparmor/exec", "exec", "exec skiff-test-profile")
            .Add(PlanOp.Env, "PATH=/usr/bin:/bin").Add(PlanOp.Args, "true");
        var attr = Directory.Exists("/proc/thread-self/attr/apparmor") ? "apparmor/exec" : "exec";

        using var stage0 = Stage0.Start(plan, layout);
        try
        {
            var error = Assert.Throws<RuntimeException>(() => stage0.RunProtocol(waitForReady: false, onHooks: null));
            Assert.Equal($"write \"exec skiff-test-profile\" to /proc/thread-self/attr/{attr}: Invalid argument", error.Message);
        }
        finally
        {
            stage0.Abort();
        }
    }
}

/// <summary>A container test that only means something where neither AppArmor nor SELinux is enabled.</summary>
public sealed class WithoutSecurityModulesFactAttribute : FactAttribute
{
    public WithoutSecurityModulesFactAttribute() => Skip = WithoutSecurityModulesTheoryAttribute.SkipReason;
}

/// <summary>A <see cref="WithoutSecurityModulesFactAttribute"/> with data rows.</summary>
public sealed class WithoutSecurityModulesTheoryAttribute : TheoryAttribute
{
    public WithoutSecurityModulesTheoryAttribute() => Skip = SkipReason;

    internal static string? SkipReason => ContainerFactAttribute.SkipReason
        ?? (SecurityModules.Host.AppArmorEnabled || SecurityModules.Host.SelinuxEnabled ? "AppArmor or SELinux runs here: requests cannot fail for its absence" : null);
}
