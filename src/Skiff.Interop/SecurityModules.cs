namespace Skiff.Interop;

/// <summary>
/// Which Linux security modules can confine a container on this host, read from the files runc
/// and go-selinux read, below <see cref="Root"/> ("/" on a host; a fake tree in tests).
/// AppArmor: its module parameter says 'Y' and its securityfs directory exists.
/// SELinux: a writable selinuxfs is mounted (go-selinux: a read-only one means "disabled here") and
/// the process's own context is not "kernel", which is what it is before a policy is loaded.
/// </summary>
public sealed class SecurityModules
{
    private static readonly Lazy<SecurityModules> HostModules = new(() => new SecurityModules("/"));

    public static SecurityModules Host => HostModules.Value;

    private readonly Lazy<bool> _appArmorEnabled;
    private readonly Lazy<bool> _selinuxEnabled;

    public SecurityModules(string root)
    {
        Root = root;
        // Read when first asked: a container that requests no label (nearly all) never pays for the files.
        _appArmorEnabled = new(() => Directory.Exists(Under("/sys/kernel/security/apparmor"))
            && ReadOrNull("/sys/module/apparmor/parameters/enabled") is ['Y', ..]);
        _selinuxEnabled = new(() => SelinuxfsMountedWritable()
            && ReadOrNull("/proc/self/attr/current")?.TrimEnd('\0', '\n') is { Length: > 0 } context && context != "kernel");
    }

    public string Root { get; }

    public bool AppArmorEnabled => _appArmorEnabled.Value;

    public bool SelinuxEnabled => _selinuxEnabled.Value;

    /// <summary>Whether the AppArmor profile <paramref name="name"/> is loaded (a line "NAME (mode)" of securityfs' profiles).</summary>
    public bool AppArmorProfileLoaded(string name)
    {
        if (!AppArmorEnabled)
            return false;
        var profiles = ReadOrNull("/sys/kernel/security/apparmor/profiles") ?? "";
        return profiles.Split('\n').Any(line => line.StartsWith(name + " (", StringComparison.Ordinal));
    }

    private bool SelinuxfsMountedWritable()
    {
        // /proc/filesystems is a few hundred bytes; mountinfo grows with every container's mounts,
        // so it is only scanned on kernels that have selinuxfs at all.
        if (ReadOrNull("/proc/filesystems") is not { } filesystems || !filesystems.Contains("\tselinuxfs\n", StringComparison.Ordinal))
            return false;
        foreach (var line in (ReadOrNull("/proc/self/mountinfo") ?? "").Split('\n'))
        {
            // "36 25 0:31 / /sys/fs/selinux rw,relatime shared:12 - selinuxfs selinuxfs rw": the
            // filesystem type follows " - "; field 6 holds the per-mount options.
            int separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0 || !line.AsSpan(separator + 3).StartsWith("selinuxfs "))
                continue;
            var fields = line.Split(' ');
            if (fields.Length > 5 && fields[5].Split(',').Contains("rw"))
                return true;
        }
        return false;
    }

    private string Under(string path) => Path.Join(Root, path);

    private string? ReadOrNull(string path)
    {
        try
        {
            return SmallFile.ReadAllText(Under(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Absent files mean the module is absent; EINVAL is what /proc/self/attr/current
            // answers when no module provides a context.
            return null;
        }
    }
}
