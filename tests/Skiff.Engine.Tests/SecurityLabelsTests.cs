using Skiff.Engine.Specs;
using Skiff.Interop;

namespace Skiff.Engine.Tests;

public sealed class SecurityLabelsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("skiff-lsm-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SecurityModules NoModules => new(_root);

    /// <summary>An AppArmor host (module parameter and securityfs) with these profiles loaded.</summary>
    private SecurityModules AppArmorHost(params string[] profiles)
    {
        Directory.CreateDirectory(Path.Combine(_root, "sys/module/apparmor/parameters"));
        File.WriteAllText(Path.Combine(_root, "sys/module/apparmor/parameters/enabled"), "Y\n");
        Directory.CreateDirectory(Path.Combine(_root, "sys/kernel/security/apparmor"));
        File.WriteAllText(Path.Combine(_root, "sys/kernel/security/apparmor/profiles"), string.Concat(profiles.Select(p => $"{p} (enforce)\n")));
        return new SecurityModules(_root);
    }

    private static SecurityLabels Parse(SecurityModules modules, bool privileged = false, params string[] options)
        => SecurityLabels.FromOptions(options, privileged, modules);

    [Fact]
    public void WithoutAppArmorNothingIsRequestedByDefaultAndUnconfinedIsNothingToDo()
    {
        Assert.Equal(new SecurityLabels(null, null, null), Parse(NoModules));
        Assert.Equal(new SecurityLabels(null, null, null), Parse(NoModules, privileged: true));
        Assert.Equal(new SecurityLabels(null, null, null), Parse(NoModules, false, "apparmor=unconfined", "label=disable"));
    }

    [Fact]
    public void ANamedProfileIsPassedOnForTheRuntimeToApplyOrRefuse()
    {
        Assert.Equal("my-profile", Parse(NoModules, false, "apparmor=my-profile").ApparmorProfile);
        Assert.Equal("my-profile", Parse(NoModules, false, "apparmor:my-profile").ApparmorProfile);
    }

    [Fact]
    public void DockerDefaultIsUsedOnlyWhenItIsLoaded()
    {
        Assert.Equal("docker-default", Parse(AppArmorHost("docker-default", "other")).ApparmorProfile);
        Assert.Null(Parse(AppArmorHost("other")).ApparmorProfile);
    }

    [Fact]
    public void OnAnAppArmorHostUnconfinedAndPrivilegedAreExplicit()
    {
        var host = AppArmorHost("docker-default");
        Assert.Equal("unconfined", Parse(host, false, "apparmor=unconfined").ApparmorProfile);
        Assert.Equal("unconfined", Parse(host, privileged: true).ApparmorProfile);
        Assert.Equal("mine", Parse(host, true, "apparmor=mine").ApparmorProfile);
    }

    [Fact]
    public void LabelPartsOverrideTheContainerDefaults()
    {
        Assert.Equal(new SecurityLabels(null, "system_u:system_r:spc_t:s0", null), Parse(NoModules, false, "label=type:spc_t"));
        Assert.Equal(new SecurityLabels(null, "me_u:me_r:container_t:s0:c1,c2", "system_u:object_r:container_file_t:s0:c1,c2"),
            Parse(NoModules, false, "label=user:me_u", "label:role:me_r", "label=level:s0:c1,c2"));
        Assert.Equal(new SecurityLabels(null, null, null), Parse(NoModules, false, "label=type:spc_t", "label=disable"));
    }

    [Theory]
    [InlineData("label=type:")]
    [InlineData("label=filetype:x")]
    [InlineData("label=disable:yes")]
    [InlineData("apparmor=")]
    public void MalformedOptionsNameTheOption(string option)
    {
        var error = Assert.Throws<EngineException>(() => Parse(NoModules, false, option));
        Assert.StartsWith($"security option {option}:", error.Message);
    }

    [Theory]
    [InlineData("apparmor=x", true)]
    [InlineData("label:disable", true)]
    [InlineData("seccomp=unconfined", false)]
    [InlineData("no-new-privileges", false)]
    [InlineData("apparmorx=y", false)]
    public void HandlesOnlyItsOwnOptions(string option, bool handled) => Assert.Equal(handled, SecurityLabels.Handles(option));
}
