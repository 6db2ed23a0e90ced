namespace Skiff.Interop.Tests;

/// <summary>A temporary directory laid out like the host files <see cref="SecurityModules"/> reads.</summary>
public sealed class FakeSecurityTree : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("skiff-lsm-").FullName;

    public const string SelinuxfsMountinfo = "36 25 0:31 / /sys/fs/selinux rw,nosuid,noexec,relatime shared:12 - selinuxfs selinuxfs rw\n";

    public FakeSecurityTree WithAppArmor(string enabled = "Y\n", params string[] profiles)
    {
        Write("sys/module/apparmor/parameters/enabled", enabled);
        Write("sys/kernel/security/apparmor/profiles", string.Concat(profiles.Select(p => $"{p} (enforce)\n")));
        return this;
    }

    public FakeSecurityTree WithSelinux(string mountinfo = SelinuxfsMountinfo, string context = "system_u:system_r:unconfined_t:s0\0")
    {
        Write("proc/filesystems", "nodev\tsysfs\nnodev\tproc\nnodev\tselinuxfs\n\text4\n");
        Write("proc/self/mountinfo", "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n" + mountinfo);
        Write("proc/self/attr/current", context);
        return this;
    }

    public void Write(string relativePath, string contents)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, contents);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
