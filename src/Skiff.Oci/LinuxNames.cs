namespace Skiff.Oci;

/// <summary>Kernel numbers for the names config.json uses: asm-generic values, which x86-64 and arm64 share.</summary>
public static class LinuxNames
{
    public const ulong CLONE_NEWTIME = 0x00000080;
    public const ulong CLONE_NEWNS = 0x00020000;
    public const ulong CLONE_NEWCGROUP = 0x02000000;
    public const ulong CLONE_NEWUTS = 0x04000000;
    public const ulong CLONE_NEWIPC = 0x08000000;
    public const ulong CLONE_NEWUSER = 0x10000000;
    public const ulong CLONE_NEWPID = 0x20000000;
    public const ulong CLONE_NEWNET = 0x40000000;

    /// <summary>Namespace type → (clone flag, name under /proc/PID/ns).</summary>
    public static readonly IReadOnlyDictionary<string, (ulong Flag, string ProcName)> Namespaces = new Dictionary<string, (ulong, string)>
    {
        ["pid"] = (CLONE_NEWPID, "pid"),
        ["network"] = (CLONE_NEWNET, "net"),
        ["mount"] = (CLONE_NEWNS, "mnt"),
        ["ipc"] = (CLONE_NEWIPC, "ipc"),
        ["uts"] = (CLONE_NEWUTS, "uts"),
        ["user"] = (CLONE_NEWUSER, "user"),
        ["cgroup"] = (CLONE_NEWCGROUP, "cgroup"),
        ["time"] = (CLONE_NEWTIME, "time"),
    };

    public const int CAP_SYS_RESOURCE = 24;

    public const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16, MS_REMOUNT = 32,
        MS_MANDLOCK = 64, MS_DIRSYNC = 128, MS_NOSYMFOLLOW = 256, MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_BIND = 4096,
        MS_REC = 16384, MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20,
        MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24, MS_LAZYTIME = 1 << 25;

    /// <summary>Propagation names for mounts and linux.rootfsPropagation.</summary>
    public static readonly IReadOnlyDictionary<string, ulong> Propagations = new Dictionary<string, ulong>
    {
        ["private"] = MS_PRIVATE, ["rprivate"] = MS_PRIVATE | MS_REC,
        ["shared"] = MS_SHARED, ["rshared"] = MS_SHARED | MS_REC,
        ["slave"] = MS_SLAVE, ["rslave"] = MS_SLAVE | MS_REC,
        ["unbindable"] = MS_UNBINDABLE, ["runbindable"] = MS_UNBINDABLE | MS_REC,
    };

    /// <summary>mount(8) option → (flags to set, true if the option clears them instead).</summary>
    public static readonly IReadOnlyDictionary<string, (ulong Flag, bool Clear)> MountFlags = new Dictionary<string, (ulong, bool)>
    {
        ["ro"] = (MS_RDONLY, false), ["rw"] = (MS_RDONLY, true),
        ["nosuid"] = (MS_NOSUID, false), ["suid"] = (MS_NOSUID, true),
        ["nodev"] = (MS_NODEV, false), ["dev"] = (MS_NODEV, true),
        ["noexec"] = (MS_NOEXEC, false), ["exec"] = (MS_NOEXEC, true),
        ["sync"] = (MS_SYNCHRONOUS, false), ["async"] = (MS_SYNCHRONOUS, true),
        ["dirsync"] = (MS_DIRSYNC, false),
        ["mand"] = (MS_MANDLOCK, false), ["nomand"] = (MS_MANDLOCK, true),
        ["noatime"] = (MS_NOATIME, false), ["atime"] = (MS_NOATIME, true),
        ["nodiratime"] = (MS_NODIRATIME, false), ["diratime"] = (MS_NODIRATIME, true),
        ["relatime"] = (MS_RELATIME, false), ["norelatime"] = (MS_RELATIME, true),
        ["strictatime"] = (MS_STRICTATIME, false), ["nostrictatime"] = (MS_STRICTATIME, true),
        ["lazytime"] = (MS_LAZYTIME, false), ["nolazytime"] = (MS_LAZYTIME, true),
        ["nosymfollow"] = (MS_NOSYMFOLLOW, false), ["symfollow"] = (MS_NOSYMFOLLOW, true),
        ["remount"] = (MS_REMOUNT, false),
        ["defaults"] = (0, false),
    };

    private const ulong MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4, MOUNT_ATTR_NOEXEC = 0x8,
        MOUNT_ATTR_ATIME_MASK = 0x70, MOUNT_ATTR_RELATIME = 0x0, MOUNT_ATTR_NOATIME = 0x10, MOUNT_ATTR_STRICTATIME = 0x20,
        MOUNT_ATTR_NODIRATIME = 0x80, MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

    /// <summary>
    /// runc's recursive mount options → mount_setattr(AT_RECURSIVE) attributes to set and to clear. The atime
    /// modes are one field: changing it clears the whole field, and the "no" forms fall back to relatime.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (ulong Set, ulong Clear)> RecursiveMountAttributes = new Dictionary<string, (ulong, ulong)>
    {
        ["rro"] = (MOUNT_ATTR_RDONLY, 0), ["rrw"] = (0, MOUNT_ATTR_RDONLY),
        ["rnosuid"] = (MOUNT_ATTR_NOSUID, 0), ["rsuid"] = (0, MOUNT_ATTR_NOSUID),
        ["rnodev"] = (MOUNT_ATTR_NODEV, 0), ["rdev"] = (0, MOUNT_ATTR_NODEV),
        ["rnoexec"] = (MOUNT_ATTR_NOEXEC, 0), ["rexec"] = (0, MOUNT_ATTR_NOEXEC),
        ["rnodiratime"] = (MOUNT_ATTR_NODIRATIME, 0), ["rdiratime"] = (0, MOUNT_ATTR_NODIRATIME),
        ["rnosymfollow"] = (MOUNT_ATTR_NOSYMFOLLOW, 0), ["rsymfollow"] = (0, MOUNT_ATTR_NOSYMFOLLOW),
        ["rnoatime"] = (MOUNT_ATTR_NOATIME, MOUNT_ATTR_ATIME_MASK), ["ratime"] = (MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK),
        ["rrelatime"] = (MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK), ["rnorelatime"] = (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_ATIME_MASK),
        ["rstrictatime"] = (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_ATIME_MASK), ["rnostrictatime"] = (MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK),
    };

    public const uint S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFBLK = 0x6000;

    public const int SIGKILL = 9;

    /// <summary>Signal names runc accepts (with or without SIG prefix) → numbers (the same on x86-64 and arm64).</summary>
    public static readonly IReadOnlyDictionary<string, int> Signals = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["IOT"] = 6, ["BUS"] = 7,
        ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13, ["ALRM"] = 14,
        ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17, ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20, ["TTIN"] = 21,
        ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25, ["VTALRM"] = 26, ["PROF"] = 27, ["WINCH"] = 28,
        ["IO"] = 29, ["POLL"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    /// <summary>Parses "KILL", "SIGKILL", "9" or "SIGRTMIN+3"; null if it is not a signal.</summary>
    public static int? ParseSignal(string text)
    {
        if (int.TryParse(text, out var number))
            return number is > 0 and <= 64 ? number : null;
        var name = text.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? text[3..] : text;
        if (Signals.TryGetValue(name, out var signal))
            return signal;
        // glibc reserves the first two real-time signals, so SIGRTMIN is 34 and SIGRTMAX 64.
        if (name.StartsWith("RTMIN", StringComparison.OrdinalIgnoreCase))
            return OffsetFrom(34, name[5..]);
        if (name.StartsWith("RTMAX", StringComparison.OrdinalIgnoreCase))
            return OffsetFrom(64, name[5..]);
        return null;
    }

    private static int? OffsetFrom(int baseSignal, string rest)
    {
        if (rest.Length == 0)
            return baseSignal;
        if (int.TryParse(rest, out var offset) && baseSignal + offset is >= 34 and <= 64)
            return baseSignal + offset;
        return null;
    }
}
