namespace Skiff.Cgroups.Systemd;

/// <summary>
/// The transient unit of a container under the systemd cgroup driver, from linux.cgroupsPath
/// "slice:prefix:name" as runc's specconv reads it: slice defaults to system.slice, the unit is
/// "prefix-name.scope" ("name.scope" without prefix), or "name" itself when it is a slice.
/// </summary>
public sealed record SystemdUnit(string Slice, string Name)
{
    public const string DefaultSlice = "system.slice";

    /// <summary>Unit prefix when cgroupsPath is empty (runc uses its own name the same way).</summary>
    public const string DefaultPrefix = "skiff";

    private const int MaxUnitNameLength = 255;

    public bool IsSlice => Name.EndsWith(".slice", StringComparison.Ordinal);

    /// <summary>The unit's cgroup, below the root of every hierarchy: "/system.slice/skiff-abc.scope".</summary>
    public string CgroupPath => ExpandSlice(Slice).TrimEnd('/') + "/" + Name;

    public static SystemdUnit Parse(string containerId, string? cgroupsPath)
    {
        string slice, prefix, name;
        if (string.IsNullOrEmpty(cgroupsPath))
        {
            (slice, prefix, name) = ("", DefaultPrefix, containerId);
        }
        else
        {
            var parts = cgroupsPath.Split(':');
            if (parts.Length != 3)
                throw new CgroupException(ErrorKind.InvalidArgument, 
                    $"systemd cgroup driver: expected cgroupsPath to be of format \"slice:prefix:name\", got \"{cgroupsPath}\"");
            (slice, prefix, name) = (parts[0], parts[1], parts[2]);
        }
        if (slice.Length == 0) slice = DefaultSlice;
        ExpandSlice(slice); // validates
        if (name.Length == 0)
            throw new CgroupException(ErrorKind.InvalidArgument, $"systemd cgroup driver: cgroupsPath \"{cgroupsPath}\" has an empty name (and the container id is empty)");
        var unit = name.EndsWith(".slice", StringComparison.Ordinal) ? name
            : prefix.Length == 0 ? name + ".scope"
            : prefix + "-" + name + ".scope";
        if (unit.Length > MaxUnitNameLength || !unit.All(IsUnitNameChar))
            throw new CgroupException(ErrorKind.InvalidArgument, 
                $"systemd cgroup driver: \"{unit}\" is not a valid unit name (only letters, digits and \":-_.\\@\", at most {MaxUnitNameLength} characters)");
        if (unit.EndsWith(".slice", StringComparison.Ordinal)) ExpandSlice(unit);
        return new SystemdUnit(slice, unit);
    }

    private static bool IsUnitNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is ':' or '-' or '_' or '.' or '\\' or '@';

    /// <summary>
    /// runc's ExpandSlice: "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice", "-.slice" → "/". A slice name
    /// ends in ".slice", has no '/', and no empty component ("a--b.slice", "-a.slice").
    /// </summary>
    public static string ExpandSlice(string slice)
    {
        const string suffix = ".slice";
        if (slice.Length <= suffix.Length || !slice.EndsWith(suffix, StringComparison.Ordinal) || slice.Contains('/'))
            throw new CgroupException(ErrorKind.InvalidArgument, $"systemd cgroup driver: invalid slice name \"{slice}\" (a name like system.slice or machine-app.slice is expected)");
        var name = slice[..^suffix.Length];
        if (name == "-") return "/";
        var path = "";
        var prefix = "";
        foreach (var component in name.Split('-'))
        {
            if (component.Length == 0)
                throw new CgroupException(ErrorKind.InvalidArgument, $"systemd cgroup driver: invalid slice name \"{slice}\" (empty component between dashes)");
            path += "/" + prefix + component + suffix;
            prefix += component + "-";
        }
        return path;
    }
}
