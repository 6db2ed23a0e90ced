namespace Skiff.Cgroups;

/// <summary>
/// linux.cgroupsPath handling, as runc's specconv + fs/fs2 managers do it:
/// <list type="bullet">
/// <item>absolute ("/skiff/abc") → that path below the root of every hierarchy;</item>
/// <item>relative ("skiff/abc") → below the runtime's own cgroup in every hierarchy
/// (cgroup v2: below the parent of the runtime's own cgroup, which must not have processes);</item>
/// <item>empty → the container id, as a relative path (runc: Name = id, Path = "").</item>
/// </list>
/// The systemd driver's "slice:prefix:name" is <see cref="Systemd.SystemdUnit"/>.
/// </summary>
public static class CgroupPathResolver
{
    /// <summary>The cleaned inner path: starts with '/' when absolute, relative otherwise.</summary>
    public static string ResolveInner(string containerId, string? cgroupsPath)
    {
        var raw = string.IsNullOrEmpty(cgroupsPath) ? containerId : cgroupsPath;
        if (string.IsNullOrEmpty(raw))
            throw new CgroupException(ErrorKind.InvalidArgument, "cannot derive a cgroup path: both cgroupsPath and the container id are empty");
        if (raw.Contains('\0'))
            throw new CgroupException(ErrorKind.InvalidArgument, "cgroupsPath contains a NUL byte");
        var cleaned = CgroupPath.Clean(raw)
            ?? throw new CgroupException(ErrorKind.InvalidArgument, raw.StartsWith('/')
                ? $"cgroupsPath \"{raw}\" escapes the cgroup hierarchy root (\"..\" above \"/\")"
                : $"cgroupsPath \"{raw}\" escapes the runtime's cgroup (\"..\" above the relative base)");
        if (cleaned == "/" || cleaned.Length == 0)
            throw new CgroupException(ErrorKind.InvalidArgument, $"cgroupsPath \"{raw}\" resolves to the root of the hierarchy; refusing to use it");
        return cleaned;
    }

    /// <summary>The host directory of the container cgroup in hierarchy <paramref name="h"/>.</summary>
    public static string HierarchyDir(CgroupSystem system, CgroupHierarchy h, string inner)
    {
        if (inner.StartsWith('/'))
            return CgroupPath.Join(h.MountPoint, inner);
        var own = system.OwnCgroupDir(h);
        if (h.IsV2)
        {
            // runc fs2: the runtime's own cgroup most probably has processes in it, which makes it
            // impossible to enable controllers for a child; use its parent (never above the mount point).
            if (own != h.MountPoint && CgroupPath.IsUnder(own, h.MountPoint))
                own = CgroupPath.Parent(own);
        }
        return CgroupPath.Join(own, inner);
    }
}
