namespace Skiff.Cgroups;

/// <summary>How cgroups are mounted on this host.</summary>
public enum CgroupMode
{
    /// <summary>Only cgroup v1 (legacy) hierarchies.</summary>
    V1,
    /// <summary>cgroup v1 controller hierarchies plus a cgroup2 mount (usually /sys/fs/cgroup/unified).</summary>
    Hybrid,
    /// <summary>Only the cgroup2 unified hierarchy.</summary>
    V2,
}

/// <summary>One mounted cgroup hierarchy, from /proc/self/mountinfo.</summary>
public sealed class CgroupHierarchy
{
    public CgroupHierarchy(string mountPoint, string mountRoot, bool isV2, IReadOnlyList<string> controllers, string? name)
    {
        MountPoint = mountPoint;
        MountRoot = mountRoot;
        IsV2 = isV2;
        Controllers = controllers;
        Name = name;
    }

    /// <summary>Where it is mounted, e.g. "/sys/fs/cgroup/cpu,cpuacct".</summary>
    public string MountPoint { get; }

    /// <summary>The cgroup of the hierarchy shown at the mount point (mountinfo field 4, usually "/").</summary>
    public string MountRoot { get; }

    public bool IsV2 { get; }

    /// <summary>v1: the controllers bound to it ("cpu", "cpuacct"); v2: empty (see cgroup.controllers).</summary>
    public IReadOnlyList<string> Controllers { get; }

    /// <summary>v1 named hierarchy without controllers ("systemd" for name=systemd), else null.</summary>
    public string? Name { get; }

    /// <summary>
    /// Stable key used in <see cref="CgroupPaths"/>: "cpu,cpuacct", "memory", "name=systemd" for v1,
    /// "unified" for the cgroup2 hierarchy.
    /// </summary>
    public string Key => IsV2 ? CgroupSystem.UnifiedKey
        : Name is not null ? "name=" + Name + (Controllers.Count > 0 ? "," + string.Join(',', Controllers) : "")
        : string.Join(',', Controllers);

    public override string ToString() => $"{Key} at {MountPoint}";
}

/// <summary>Detected cgroup layout: mode, hierarchies and the calling process's own cgroups.</summary>
public sealed class CgroupSystem
{
    public const string UnifiedKey = "unified";

    // Controllers the kernel knows for v1 (used when /proc/self/cgroup does not list one).
    private static readonly HashSet<string> KnownV1Controllers = new(StringComparer.Ordinal)
    {
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio",
        "perf_event", "hugetlb", "pids", "rdma", "misc", "debug",
    };

    private CgroupSystem(CgroupMode mode, IReadOnlyList<CgroupHierarchy> hierarchies, IReadOnlyDictionary<string, string> ownCgroups)
    {
        Mode = mode;
        Hierarchies = hierarchies;
        OwnCgroups = ownCgroups;
    }

    public CgroupMode Mode { get; }

    public IReadOnlyList<CgroupHierarchy> Hierarchies { get; }

    /// <summary>
    /// The calling process's cgroup per /proc/self/cgroup line, keyed like <see cref="CgroupHierarchy.Key"/>
    /// ("memory" → "/process_api/x", "unified" → "/").
    /// </summary>
    public IReadOnlyDictionary<string, string> OwnCgroups { get; }

    public CgroupHierarchy? Unified => Hierarchies.FirstOrDefault(h => h.IsV2);

    /// <summary>The v1 hierarchy the controller is bound to, or null.</summary>
    public CgroupHierarchy? FindV1(string controller) =>
        Hierarchies.FirstOrDefault(h => !h.IsV2 && h.Controllers.Contains(controller));

    public static CgroupSystem Detect() => Detect(CgroupFileSystem.Host);

    public static CgroupSystem Detect(CgroupFileSystem fs)
    {
        string mountinfo, selfCgroup;
        try
        {
            mountinfo = fs.ReadFile("/proc/self/mountinfo");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CgroupException($"cannot read /proc/self/mountinfo: {CgroupFileSystem.Describe(e)}", e);
        }
        try
        {
            selfCgroup = fs.ReadFile("/proc/self/cgroup");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CgroupException($"cannot read /proc/self/cgroup: {CgroupFileSystem.Describe(e)}", e);
        }
        return Parse(mountinfo, selfCgroup);
    }

    /// <summary>Builds the layout from the text of /proc/self/mountinfo and /proc/self/cgroup.</summary>
    public static CgroupSystem Parse(string mountinfo, string selfCgroup)
    {
        var own = ParseSelfCgroup(selfCgroup, out var listedControllers);
        var hierarchies = new List<CgroupHierarchy>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        foreach (var rawLine in mountinfo.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var pre = line[..sep].Split(' ');
            var post = line[(sep + 3)..].Split(' ');
            if (pre.Length < 6 || post.Length < 3) continue;
            var fsType = post[0];
            if (fsType != "cgroup" && fsType != "cgroup2") continue;
            var root = Unescape(pre[3]);
            var mountPoint = Unescape(pre[4]);

            CgroupHierarchy h;
            if (fsType == "cgroup2")
            {
                h = new CgroupHierarchy(mountPoint, root, true, [], null);
            }
            else
            {
                var controllers = new List<string>();
                string? name = null;
                foreach (var opt in post[2].Split(','))
                {
                    if (opt.StartsWith("name=", StringComparison.Ordinal)) name = opt[5..];
                    else if (listedControllers.Contains(opt) || KnownV1Controllers.Contains(opt)) controllers.Add(opt);
                }
                if (controllers.Count == 0 && name is null) continue;
                h = new CgroupHierarchy(mountPoint, root, false, controllers, name);
            }
            // the same hierarchy can be mounted more than once (bind mounts): first one wins
            if (seen.Add(h.Key)) hierarchies.Add(h);
        }

        var hasV1Controllers = hierarchies.Any(h => !h.IsV2 && h.Controllers.Count > 0);
        var hasV2 = hierarchies.Any(h => h.IsV2);
        if (!hasV1Controllers && !hasV2)
            throw new CgroupException(ErrorKind.FailedPrecondition, "no cgroup file system is mounted (no cgroup or cgroup2 entry in /proc/self/mountinfo)");
        var mode = hasV1Controllers ? (hasV2 ? CgroupMode.Hybrid : CgroupMode.V1) : CgroupMode.V2;
        return new CgroupSystem(mode, hierarchies, own);
    }

    private static Dictionary<string, string> ParseSelfCgroup(string text, out HashSet<string> controllers)
    {
        var own = new Dictionary<string, string>(StringComparer.Ordinal);
        controllers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            // "hierarchy-id:controller-list:cgroup-path"; the path may itself contain ':'
            var first = line.IndexOf(':');
            var second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0) continue;
            var list = line[(first + 1)..second];
            var path = line[(second + 1)..];
            if (list.Length == 0)
            {
                own[UnifiedKey] = path;
                continue;
            }
            var names = list.Split(',');
            string? name = null;
            var ctrls = new List<string>();
            foreach (var n in names)
            {
                if (n.StartsWith("name=", StringComparison.Ordinal)) name = n[5..];
                else { ctrls.Add(n); controllers.Add(n); }
            }
            var key = name is not null ? "name=" + name + (ctrls.Count > 0 ? "," + string.Join(',', ctrls) : "") : string.Join(',', ctrls);
            own[key] = path;
        }
        return own;
    }

    /// <summary>Own cgroup in hierarchy <paramref name="h"/> as a host directory (runc GetOwnCgroupPath).</summary>
    public string OwnCgroupDir(CgroupHierarchy h)
    {
        if (!OwnCgroups.TryGetValue(h.Key, out var cg))
        {
            // key order in /proc/self/cgroup may differ from the mount options: match by controller set
            cg = null;
            if (!h.IsV2)
            {
                foreach (var (k, v) in OwnCgroups)
                {
                    if (k == UnifiedKey) continue;
                    var set = k.Split(',').ToHashSet(StringComparer.Ordinal);
                    var want = h.Key.Split(',').ToHashSet(StringComparer.Ordinal);
                    if (set.SetEquals(want)) { cg = v; break; }
                }
            }
            if (cg is null)
                throw new CgroupException($"cannot find the runtime's own cgroup for hierarchy {h.Key} in /proc/self/cgroup");
        }
        // mountinfo root may be a sub cgroup (bind-mounted, no cgroupns): make the path relative to it
        string rel;
        if (CgroupPath.IsUnder(cg, h.MountRoot))
            rel = h.MountRoot == "/" ? cg : cg[h.MountRoot.Length..];
        else
            rel = cg;
        return CgroupPath.Join(h.MountPoint, rel);
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo
    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new System.Text.StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length
                && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                sb.Append((char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(char c) => c >= '0' && c <= '7';
}
