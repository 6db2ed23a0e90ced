namespace Skiff.Interop.Tests;

public sealed class SecurityModulesTests : IDisposable
{
    private readonly FakeSecurityTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private SecurityModules Detect() => new(_tree.Root);

    [Fact]
    public void AnEmptyTreeHasNeitherModule()
    {
        var modules = Detect();
        Assert.False(modules.AppArmorEnabled);
        Assert.False(modules.SelinuxEnabled);
        Assert.False(modules.AppArmorProfileLoaded("docker-default"));
    }

    [Fact]
    public void AppArmorIsEnabledWhenItsParameterSaysYAndSecurityfsHasIt()
    {
        _tree.WithAppArmor("Y\n", "docker-default", "/usr/bin/man");
        var modules = Detect();
        Assert.True(modules.AppArmorEnabled);
        Assert.False(modules.SelinuxEnabled);
        Assert.True(modules.AppArmorProfileLoaded("docker-default"));
        Assert.True(modules.AppArmorProfileLoaded("/usr/bin/man"));
        Assert.False(modules.AppArmorProfileLoaded("docker"));
    }

    [Fact]
    public void AppArmorDisabledByItsParameterIsNotEnabled()
    {
        _tree.WithAppArmor("N\n", "docker-default");
        Assert.False(Detect().AppArmorEnabled);
        Assert.False(Detect().AppArmorProfileLoaded("docker-default"));
    }

    [Fact]
    public void AppArmorWithoutItsSecurityfsDirectoryIsNotEnabled()
    {
        _tree.Write("sys/module/apparmor/parameters/enabled", "Y\n");
        Assert.False(Detect().AppArmorEnabled);
    }

    [Fact]
    public void SelinuxIsEnabledWithAWritableSelinuxfsAndAPolicyContext()
    {
        _tree.WithSelinux();
        var modules = Detect();
        Assert.True(modules.SelinuxEnabled);
        Assert.False(modules.AppArmorEnabled);
    }

    [Fact]
    public void SelinuxfsMountedElsewhereIsFoundThroughMountinfo()
    {
        _tree.WithSelinux("40 25 0:31 / /selinux rw,relatime - selinuxfs none rw\n");
        Assert.True(Detect().SelinuxEnabled);
    }

    [Fact]
    public void ReadOnlySelinuxfsMeansDisabledHere()
    {
        _tree.WithSelinux("36 25 0:31 / /sys/fs/selinux ro,relatime shared:12 - selinuxfs selinuxfs ro\n");
        Assert.False(Detect().SelinuxEnabled);
    }

    [Fact]
    public void SelinuxWithoutALoadedPolicyIsNotEnabled()
    {
        _tree.WithSelinux(context: "kernel\0");
        Assert.False(Detect().SelinuxEnabled);
    }

    [Fact]
    public void SelinuxfsKnownButNotMountedIsNotEnabled()
    {
        _tree.WithSelinux(mountinfo: "");
        Assert.False(Detect().SelinuxEnabled);
    }
}
