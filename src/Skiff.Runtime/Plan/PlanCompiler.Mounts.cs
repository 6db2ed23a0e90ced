using Skiff.Cgroups;
using Skiff.Oci;
using Libc = Skiff.Interop.Interop.Libc;
using static Skiff.Oci.LinuxNames;

namespace Skiff.Runtime.Plan;

public static partial class PlanCompiler
{
    private const ulong MountMkdir = 0x1, MountMkfile = 0x2, MountRemount = 0x4, MountPropagationRecursive = 0x10, MountCopyUp = 0x20;

    /// <summary>
    /// What a mount's option list means: kernel flags, propagation, runc's extensions (tmpcopyup, the recursive
    /// r* attributes) and the rest as filesystem data.
    /// </summary>
    internal sealed record ParsedMountOptions(ulong Flags, ulong Propagation, bool Bind, bool Recursive, string Data,
        bool CopyUp = false, ulong AttributesSet = 0, ulong AttributesClear = 0);

    internal static ParsedMountOptions ParseMountOptions(IEnumerable<string>? options)
    {
        ulong flags = 0, propagation = 0, attributesSet = 0, attributesClear = 0;
        bool bind = false, recursive = false, copyUp = false;
        var data = new List<string>();
        foreach (var option in options ?? [])
        {
            if (option is "bind" or "rbind")
            {
                bind = true;
                recursive |= option == "rbind";
            }
            else if (MountFlags.TryGetValue(option, out var flag))
                flags = flag.Clear ? flags & ~flag.Flag : flags | flag.Flag;
            else if (Propagations.TryGetValue(option, out var p))
                propagation = p;
            else if (RecursiveMountAttributes.TryGetValue(option, out var attribute))
            {
                attributesSet = (attributesSet & ~attribute.Clear & ~attribute.Set) | attribute.Set;
                attributesClear = (attributesClear & ~attribute.Set) | attribute.Clear;
            }
            else if (option == "tmpcopyup")
                copyUp = true;
            else if (option is "idmap" or "ridmap")
                // runc 1.1 refuses them too; an id-mapped mount needs the mount API (open_tree + mount_setattr).
                throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: mount option \"{option}\" is not supported by skiff-runtime yet");
            else
                data.Add(option);
        }
        return new ParsedMountOptions(flags, propagation, bind, recursive, string.Join(',', data), copyUp, attributesSet, attributesClear);
    }

    private static bool IsBind(Mount mount) => mount.Type == "bind" || ParseMountOptions(mount.Options).Bind;

    private static void AddMount(PlanWriter plan, Mount mount, LaunchOptions options, bool newUserNs, List<LinuxNamespace> namespaces, string? mountLabel)
    {
        var destination = RequireAbsolute(mount.Destination, "mounts[].destination");
        var parsed = ParseMountOptions(mount.Options);
        var type = mount.Type ?? "";
        ulong propagationRecursive = (parsed.Propagation & MS_REC) != 0 ? MountPropagationRecursive : 0;
        ulong propagation = parsed.Propagation & ~MS_REC;

        if (type is "cgroup" or "cgroup2" && !parsed.Bind)
        {
            AddCgroupMount(plan, destination, parsed, options.Cgroups, mountLabel);
            return;
        }
        bool bind = parsed.Bind || type == "bind";
        CheckProcMount(destination, type, bind && !string.IsNullOrEmpty(mount.Source) ? Path.GetFullPath(mount.Source, options.Bundle) : null);
        bool hasOwnNetNs = namespaces.Any(n => n.Type == "network");
        if (type == "sysfs" && newUserNs && !hasOwnNetNs)
        {
            // sysfs can only be mounted by the owner of the network namespace; a user-namespaced
            // container sharing the host's network gets the host's /sys bound instead (as runc).
            AddBind(plan, "/sys", destination, sourceIsDirectory: true, parsed with { Recursive = true }, propagation, propagationRecursive);
            return;
        }
        if (bind)
        {
            if (string.IsNullOrEmpty(mount.Source))
                throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: bind mount on {destination} has no source");
            var source = Path.GetFullPath(mount.Source, options.Bundle);
            if (!File.Exists(source) && !Directory.Exists(source))
                throw new RuntimeException(ErrorKind.NotFound, $"config.json: mount source {source} for {destination} does not exist");
            AddBind(plan, source, destination, Directory.Exists(source), parsed, propagation, propagationRecursive);
            AddRecursiveAttributes(plan, destination, parsed);
            return;
        }
        if (type.Length == 0)
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: mount on {destination} has no type");
        // mqueue's superblock belongs to the IPC namespace and already has its labels, so a context=
        // option conflicts with them: runc mounts it plain and relabels the mount point instead.
        bool labelAfterMount = type == "mqueue" && mountLabel is not null;
        var data = type is "proc" or "sysfs" || labelAfterMount ? parsed.Data : WithMountLabel(parsed.Data, mountLabel);
        // runc copies up into tmpfs mounts only, and ignores the option elsewhere.
        ulong copyUp = parsed.CopyUp && type == "tmpfs" ? MountCopyUp : 0;
        plan.Add(PlanOp.Mount, [parsed.Flags, propagation, MountMkdir | propagationRecursive | copyUp],
            mount.Source ?? type, destination, type, data);
        if (labelAfterMount)
            plan.Add(PlanOp.FileLabel, destination, mountLabel!);
        AddRecursiveAttributes(plan, destination, parsed);
    }

    private static void AddRecursiveAttributes(PlanWriter plan, string destination, ParsedMountOptions parsed)
    {
        if ((parsed.AttributesSet | parsed.AttributesClear) != 0)
            plan.Add(PlanOp.MountSetattr, [parsed.AttributesSet, parsed.AttributesClear], destination);
    }

    private static void AddBind(PlanWriter plan, string source, string destination, bool sourceIsDirectory, ParsedMountOptions parsed, ulong propagation, ulong propagationRecursive)
    {
        ulong extra = (sourceIsDirectory ? MountMkdir : MountMkfile) | propagationRecursive;
        // A bind mount ignores every flag but MS_BIND|MS_REC: read-only and friends need a remount.
        if ((parsed.Flags & ~MS_REMOUNT) != 0)
            extra |= MountRemount;
        ulong flags = MS_BIND | (parsed.Recursive ? MS_REC : 0) | (parsed.Flags & ~MS_REMOUNT);
        plan.Add(PlanOp.Mount, [flags, propagation, extra], source, destination, "bind", "");
    }

    /// <summary>
    /// A `cgroup` mount shows the container its own cgroups, never the host's root: on v2 a bind of
    /// the container's directory; on v1/hybrid a tmpfs with one bind per hierarchy plus symlinks
    /// for co-mounted controllers (cpu → cpu,cpuacct), as runc does. The directories are being created
    /// while the plan is compiled: nothing here may look at them.
    /// </summary>
    private static void AddCgroupMount(PlanWriter plan, string destination, ParsedMountOptions parsed, ICgroupManager? cgroups, string? mountLabel)
    {
        if (cgroups is null)
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: cgroup mount on {destination} needs the container's cgroups");
        var sources = cgroups.MountSources;
        var root = destination.TrimEnd('/');
        var inherited = parsed with { Recursive = false, Flags = parsed.Flags | MS_NOSUID | MS_NODEV | MS_NOEXEC };
        if (sources.Count == 1 && sources[0].IsV2)
        {
            AddBind(plan, sources[0].HostDirectory, destination, sourceIsDirectory: true, inherited, 0, 0);
            return;
        }
        var tmpfsData = WithMountLabel("mode=755", mountLabel);
        plan.Add(PlanOp.Mount, [MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, MountMkdir], "tmpfs", destination, "tmpfs", tmpfsData);
        foreach (var source in sources)
        {
            var name = Path.GetFileName(source.ContainerPath.TrimEnd('/'));
            AddBind(plan, source.HostDirectory, $"{root}/{name}", sourceIsDirectory: true, inherited, 0, 0);
            foreach (var link in source.Symlinks)
                plan.Add(PlanOp.Symlink, name, $"{root}/{link}");
        }
        if ((parsed.Flags & MS_RDONLY) != 0)
            plan.Add(PlanOp.Mount, [MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0], "tmpfs", destination, "tmpfs", tmpfsData);
    }

    /// <summary>The default devices every private /dev gets (runtime-spec config-linux.md#default-devices), then linux.devices.</summary>
    private static void AddDevices(PlanWriter plan, Linux linux, bool newUserNs, List<Mount> mounts)
    {
        var requested = linux.Devices ?? [];
        var explicitPaths = requested.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
        // Inside a user namespace mknod is refused for real devices: bind the host's node instead.
        ulong bind = newUserNs ? 1UL : 0UL;
        (string Name, uint Major, uint Minor)[] defaults = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)];
        foreach (var (name, major, minor) in defaults)
        {
            var path = "/dev/" + name;
            if (!explicitPaths.Contains(path))
                plan.Add(PlanOp.Device, [S_IFCHR | 0x1B6 /* 0666 */, major, minor, 0, 0, bind], path, path);
        }
        foreach (var device in requested)
        {
            var path = RequireAbsolute(device.Path, "linux.devices[].path");
            uint type = device.Type switch
            {
                "c" or "u" => S_IFCHR,
                "b" => S_IFBLK,
                "p" => S_IFIFO,
                _ => throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: linux.devices: {path}: unknown device type \"{device.Type}\" (expected c, b, u or p)"),
            };
            uint mode = type | ((device.FileMode ?? 0x1B6) & 0xFFF);
            plan.Add(PlanOp.Device, [mode, (ulong)device.Major, (ulong)device.Minor, device.UID ?? 0, device.GID ?? 0, type == S_IFIFO ? 0 : bind], path, path);
        }
        plan.Add(PlanOp.Symlink, "/proc/self/fd", "/dev/fd");
        plan.Add(PlanOp.Symlink, "/proc/self/fd/0", "/dev/stdin");
        plan.Add(PlanOp.Symlink, "/proc/self/fd/1", "/dev/stdout");
        plan.Add(PlanOp.Symlink, "/proc/self/fd/2", "/dev/stderr");
        if (File.Exists("/proc/kcore"))
            plan.Add(PlanOp.Symlink, "/proc/kcore", "/dev/core");
        if (mounts.Any(m => m.Destination.TrimEnd('/') == "/dev/pts"))
            plan.Add(PlanOp.Symlink, "pts/ptmx", "/dev/ptmx");
    }

    /// <summary>The files under /proc that lxcfs emulates and runc lets a mount cover.</summary>
    private static readonly HashSet<string> LxcfsProcFiles =
    [
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime", "/proc/loadavg",
        "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
    ];

    /// <summary>
    /// runc's checkProcMount, refused up front as runc does: /proc takes only a procfs (a proc mount, or a bind of
    /// one), and nothing is mounted inside it but the files lxcfs emulates. Anything else over /proc hides the
    /// kernel's files that masked paths, the exec'd process's /proc/self and sysctls rely on (CVE-2019-16884 and
    /// CVE-2019-19921 came through such mounts); accepted, it only failed later, half set up.
    /// </summary>
    private static void CheckProcMount(string destination, string type, string? bindSource)
    {
        if (type == "proc")
            return;
        var path = Path.GetFullPath(destination);
        if (path == "/proc")
        {
            if (bindSource is not null && Path.Exists(bindSource) && Libc.FileSystemMagic(bindSource) == Libc.PROC_SUPER_MAGIC)
                return;
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: {destination} cannot be mounted because it is not of type proc");
        }
        if (path.StartsWith("/proc/", StringComparison.Ordinal) && !LxcfsProcFiles.Contains(path))
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: {destination} cannot be mounted because it is inside /proc");
    }
}
