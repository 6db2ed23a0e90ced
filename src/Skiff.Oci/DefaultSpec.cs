namespace Skiff.Oci;

/// <summary>The spec written by `skiff spec`: runc's <c>specconv.Example()</c> (what `runc spec` writes) with
/// hostname "skiff" and ociVersion <see cref="OciVersion"/>, and runc's <c>ToRootless</c> for `spec --rootless`.</summary>
public static class DefaultSpec
{
    /// <summary>The runtime-spec version Skiff writes.</summary>
    public const string OciVersion = "1.2.0";

    /// <summary>A fresh default spec (a new object graph on every call). Like runc, it includes a cgroup namespace
    /// only when the host uses cgroup v2 (unified hierarchy).</summary>
    public static Spec Default() => Default(cgroupNamespace: File.Exists("/sys/fs/cgroup/cgroup.controllers"));

    /// <summary>A fresh default spec, with or without the trailing cgroup namespace entry.</summary>
    public static Spec Default(bool cgroupNamespace)
    {
        string[] caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        var spec = new Spec
        {
            Version = OciVersion,
            Root = new Root { Path = "rootfs", Readonly = true },
            Process = new Process
            {
                Terminal = true,
                User = new User { UID = 0, GID = 0 },
                Args = ["sh"],
                Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                Cwd = "/",
                NoNewPrivileges = true,
                Capabilities = new LinuxCapabilities
                {
                    Bounding = [.. caps],
                    Effective = [.. caps],
                    Permitted = [.. caps],
                },
                Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
            },
            Hostname = "skiff",
            Mounts =
            [
                new Mount { Destination = "/proc", Type = "proc", Source = "proc" },
                new Mount { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                new Mount { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
                new Mount { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
                new Mount { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
                new Mount { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
                new Mount { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", "ro"] },
            ],
            Linux = new Linux
            {
                MaskedPaths =
                [
                    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/tpm",
                ],
                ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
                Resources = new LinuxResources
                {
                    Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }],
                },
                Namespaces =
                [
                    new LinuxNamespace { Type = LinuxNamespaceType.Pid },
                    new LinuxNamespace { Type = LinuxNamespaceType.Network },
                    new LinuxNamespace { Type = LinuxNamespaceType.Ipc },
                    new LinuxNamespace { Type = LinuxNamespaceType.Uts },
                    new LinuxNamespace { Type = LinuxNamespaceType.Mount },
                ],
            },
        };
        if (cgroupNamespace)
            spec.Linux.Namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.Cgroup });
        return spec;
    }

    /// <summary>Converts <paramref name="spec"/> in place for a rootless container, like runc's ToRootless:
    /// drops the network namespace (and any existing user namespace), appends a new user namespace mapping
    /// container root to (<paramref name="hostUid"/>, <paramref name="hostGid"/>), replaces the /sys mount with a
    /// read-only rbind of the host's /sys, strips uid=/gid= mount options, and removes linux.resources.</summary>
    public static void Rootless(Spec spec, uint hostUid, uint hostGid)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var linux = spec.Linux ??= new Linux();

        var namespaces = new List<LinuxNamespace>();
        foreach (var ns in linux.Namespaces ?? [])
            if (ns.Type is not (LinuxNamespaceType.Network or LinuxNamespaceType.User))
                namespaces.Add(ns);
        namespaces.Add(new LinuxNamespace { Type = LinuxNamespaceType.User });
        linux.Namespaces = namespaces;

        linux.UIDMappings = [new LinuxIDMapping { HostID = hostUid, ContainerID = 0, Size = 1 }];
        linux.GIDMappings = [new LinuxIDMapping { HostID = hostGid, ContainerID = 0, Size = 1 }];

        if (spec.Mounts is not null)
        {
            var mounts = new List<Mount>();
            foreach (var m in spec.Mounts)
            {
                if (CleanPath(m.Destination) == "/sys")
                {
                    mounts.Add(new Mount
                    {
                        Source = "/sys",
                        Destination = "/sys",
                        Type = "none",
                        Options = ["rbind", "nosuid", "noexec", "nodev", "ro"],
                    });
                    continue;
                }
                if (m.Options is not null)
                {
                    var kept = m.Options.Where(o => !o.StartsWith("gid=", StringComparison.Ordinal) && !o.StartsWith("uid=", StringComparison.Ordinal)).ToList();
                    m.Options = kept.Count > 0 ? kept : null;
                }
                mounts.Add(m);
            }
            spec.Mounts = mounts;
        }

        linux.Resources = null;
    }


    // Lexical cleanup like Go's filepath.Clean, enough to recognise "/sys", "/sys/", "//sys", "/sys/." and "/a/../sys".
    internal static string CleanPath(string path)
    {
        if (string.IsNullOrEmpty(path)) return ".";
        bool rooted = path[0] == '/';
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (!rooted) parts.Add("..");
                continue;
            }
            parts.Add(part);
        }
        var joined = string.Join('/', parts);
        return rooted ? "/" + joined : (joined.Length == 0 ? "." : joined);
    }
}
