using System.Globalization;

namespace Skiff.Oci;

/// <summary>Knobs for <see cref="SpecValidator"/>.</summary>
public sealed class SpecValidationOptions
{
    /// <summary>Require <c>process</c> (true for create/run; false e.g. when only inspecting a bundle).</summary>
    public bool RequireProcess { get; init; } = true;

    /// <summary>config.md says a Linux mount destination SHOULD be absolute and runc only warns about relative ones
    /// (treating them as relative to "/"); Skiff rejects them unless this is set.</summary>
    public bool AllowRelativeMountDestinations { get; init; }

    public static SpecValidationOptions Default { get; } = new();
}

/// <summary>
/// Static checks of a parsed <see cref="Spec"/> for running on Linux, before anything touches the system.
/// Each error is one line that starts with the JSON field it is about, e.g. <c>process.cwd: must be an absolute path, got "tmp"</c>.
/// Host-dependent checks (does the kernel support time namespaces, does the rootfs exist...) are left to the runtime.
/// </summary>
public static class SpecValidator
{
    /// <summary>Returns every problem found (empty list: valid).</summary>
    public static IReadOnlyList<string> Validate(Spec spec, SpecValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var v = new Run(spec, options ?? SpecValidationOptions.Default);
        v.All();
        return v.Errors;
    }

    /// <summary>Throws <see cref="OciConfigException"/> whose message is "<paramref name="source"/>: first error"
    /// (plus a count of the others); <see cref="OciConfigException.Errors"/> has them all.</summary>
    public static void ThrowIfInvalid(Spec spec, SpecValidationOptions? options = null, string source = "config.json")
    {
        var errors = Validate(spec, options);
        if (errors.Count == 0) return;
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more error{(errors.Count > 2 ? "s" : "")})" : "";
        throw new OciConfigException($"{source}: {errors[0]}{more}") { Errors = errors };
    }

    /// <summary>True for 1.x versions: "1.0.0" ... "1.3.0", "1.0.2-dev", "1.3.0+dev", "1.4".</summary>
    public static bool IsSupportedVersion(string? version)
    {
        if (string.IsNullOrEmpty(version) || !version.StartsWith("1.", StringComparison.Ordinal)) return false;
        var rest = version.AsSpan(2);
        int cut = rest.IndexOfAny('-', '+');
        var core = cut >= 0 ? rest[..cut] : rest;
        if (cut >= 0 && cut == rest.Length - 1) return false; // "1.2.0-" has an empty suffix
        // minor[.patch], all decimal digits
        int dot = core.IndexOf('.');
        var minor = dot >= 0 ? core[..dot] : core;
        var patch = dot >= 0 ? core[(dot + 1)..] : ReadOnlySpan<char>.Empty;
        return IsDigits(minor) && (dot < 0 || IsDigits(patch));

        static bool IsDigits(ReadOnlySpan<char> s) => s.Length > 0 && !s.ContainsAnyExcept("0123456789");
    }

    private static readonly string[] KnownTimeClocks = ["monotonic", "boottime"];
    private static readonly string[] RootfsPropagations =
        ["shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"];
    private static readonly string[] SchedulerPolicies =
        ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"];
    private static readonly string[] SchedulerFlags =
    [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ];
    private static readonly string[] IOPriorityClasses = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];
    private static readonly string[] PersonalityDomains = ["LINUX", "LINUX32"];
    private static readonly string[] MemoryPolicyModes =
    [
        "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED",
        "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
    ];
    private static readonly string[] MemoryPolicyFlags = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"];

    // sysctls namespaced by the IPC namespace (same list as runc), besides the fs.mqueue.* prefix.
    private static readonly string[] IpcSysctls =
    [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced",
    ];

    private static string Q(string? s) => "\"" + (s ?? "") + "\"";

    private static string Join(IEnumerable<string> names) => string.Join(", ", names);

    private sealed class Run(Spec spec, SpecValidationOptions options)
    {
        public readonly List<string> Errors = [];
        private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal);

        private void Error(string field, string message) => Errors.Add($"{field}: {message}");

        private bool HasNs(string type) => _namespaces.Contains(type);

        public void All()
        {
            Version();
            Namespaces(); // first: later rules depend on the namespace set
            Root();
            Process();
            Hostname();
            Mounts();
            Hooks();
            Linux();
        }

        private void Version()
        {
            if (string.IsNullOrEmpty(spec.Version))
                Error("ociVersion", "missing");
            else if (!IsSupportedVersion(spec.Version))
                Error("ociVersion", $"unsupported version {Q(spec.Version)} (supported: 1.x)");
        }

        private void Root()
        {
            if (spec.Root is null) Error("root", "missing");
            else if (string.IsNullOrEmpty(spec.Root.Path)) Error("root.path", "must not be empty");
        }

        private void Process()
        {
            var p = spec.Process;
            if (p is null)
            {
                if (options.RequireProcess) Error("process", "missing (required to create a container)");
                return;
            }
            ValidateProcess(p, "process");
        }

        public void ValidateProcess(Process p, string at)
        {
            if (p.Args is null || p.Args.Count == 0)
                Error($"{at}.args", "must not be empty");
            else
            {
                for (int i = 0; i < p.Args.Count; i++)
                    if (p.Args[i] is null) Error($"{at}.args[{i}]", "must be a string, got null");
                if (p.Args[0] is "")
                    Error($"{at}.args[0]", "must not be empty");
            }

            if (p.User is null) Error($"{at}.user", "missing");

            if (string.IsNullOrEmpty(p.Cwd) || p.Cwd[0] != '/')
                Error($"{at}.cwd", $"must be an absolute path, got {Q(p.Cwd)}");

            if (p.Env is not null)
                for (int i = 0; i < p.Env.Count; i++)
                    if (p.Env[i] is null) Error($"{at}.env[{i}]", "must be a string, got null");

            if (p.ConsoleSize is not null && !p.Terminal)
                Error($"{at}.consoleSize", "only allowed with terminal: true");

            if (p.OOMScoreAdj is { } oom && (oom < -1000 || oom > 1000))
                Error($"{at}.oomScoreAdj", $"must be between -1000 and 1000, got {oom}");

            if (p.Capabilities is { } caps)
            {
                Caps(caps.Bounding, $"{at}.capabilities.bounding");
                Caps(caps.Effective, $"{at}.capabilities.effective");
                Caps(caps.Inheritable, $"{at}.capabilities.inheritable");
                Caps(caps.Permitted, $"{at}.capabilities.permitted");
                Caps(caps.Ambient, $"{at}.capabilities.ambient");
            }

            if (p.Rlimits is not null)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < p.Rlimits.Count; i++)
                {
                    var r = p.Rlimits[i];
                    var f = $"{at}.rlimits[{i}]";
                    if (r is null) { Error(f, "must be an object, got null"); continue; }
                    if (!Rlimits.TryGetResource(r.Type, out _))
                        Error($"{f}.type", $"unknown rlimit {Q(r.Type)}");
                    else if (!seen.Add(r.Type))
                        Error($"{f}.type", $"duplicate rlimit {Q(r.Type)}");
                    if (r.Soft > r.Hard)
                        Error(f, $"soft limit {r.Soft} is greater than hard limit {r.Hard}");
                }
            }

            if (p.Scheduler is { } s)
            {
                var f = $"{at}.scheduler";
                if (string.IsNullOrEmpty(s.Policy)) Error($"{f}.policy", "missing");
                else if (!SchedulerPolicies.Contains(s.Policy)) Error($"{f}.policy", $"unknown policy {Q(s.Policy)} (known: {Join(SchedulerPolicies)})");
                if (s.Nice < -20 || s.Nice > 19) Error($"{f}.nice", $"must be between -20 and 19, got {s.Nice}");
                if (s.Priority != 0 && s.Policy is not ("SCHED_FIFO" or "SCHED_RR"))
                    Error($"{f}.priority", "only allowed with SCHED_FIFO or SCHED_RR");
                if (s.Policy != "SCHED_DEADLINE" && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0))
                    Error(f, "runtime, deadline and period are only allowed with SCHED_DEADLINE");
                if (s.Flags is not null)
                    foreach (var flag in s.Flags)
                        if (!SchedulerFlags.Contains(flag)) Error($"{f}.flags", $"unknown flag {Q(flag)}");
            }

            if (p.IOPriority is { } io)
            {
                if (!IOPriorityClasses.Contains(io.Class))
                    Error($"{at}.ioPriority.class", $"unknown class {Q(io.Class)} (known: {Join(IOPriorityClasses)})");
                if (io.Priority < 0 || io.Priority > 7)
                    Error($"{at}.ioPriority.priority", $"must be between 0 and 7, got {io.Priority}");
            }
        }

        private void Caps(List<string>? set, string field)
        {
            if (set is null) return;
            for (int i = 0; i < set.Count; i++)
                if (set[i] is null || !Capabilities.TryGetNumber(set[i], out _))
                    Error($"{field}[{i}]", $"unknown capability {Q(set[i])}");
        }

        private void Hostname()
        {
            if (!string.IsNullOrEmpty(spec.Hostname) && !HasNs(LinuxNamespaceType.Uts))
                Error("hostname", "requires a new uts namespace (linux.namespaces has no \"uts\")");
            if (!string.IsNullOrEmpty(spec.Domainname) && !HasNs(LinuxNamespaceType.Uts))
                Error("domainname", "requires a new uts namespace (linux.namespaces has no \"uts\")");
        }

        private void Mounts()
        {
            if (spec.Mounts is null) return;
            for (int i = 0; i < spec.Mounts.Count; i++)
            {
                var m = spec.Mounts[i];
                var f = $"mounts[{i}]";
                if (m is null) { Error(f, "must be an object, got null"); continue; }
                if (string.IsNullOrEmpty(m.Destination))
                    Error($"{f}.destination", "must not be empty");
                else if (m.Destination[0] != '/' && !options.AllowRelativeMountDestinations)
                    Error($"{f}.destination", $"must be an absolute path, got {Q(m.Destination)}");
                Mappings(m.UIDMappings, $"{f}.uidMappings");
                Mappings(m.GIDMappings, $"{f}.gidMappings");
            }
        }

        private void Hooks()
        {
            var h = spec.Hooks;
            if (h is null) return;
            HookList(h.Prestart, "hooks.prestart");
            HookList(h.CreateRuntime, "hooks.createRuntime");
            HookList(h.CreateContainer, "hooks.createContainer");
            HookList(h.StartContainer, "hooks.startContainer");
            HookList(h.Poststart, "hooks.poststart");
            HookList(h.Poststop, "hooks.poststop");
        }

        private void HookList(List<Hook>? hooks, string field)
        {
            if (hooks is null) return;
            for (int i = 0; i < hooks.Count; i++)
            {
                var hook = hooks[i];
                if (hook is null) { Error($"{field}[{i}]", "must be an object, got null"); continue; }
                if (string.IsNullOrEmpty(hook.Path) || hook.Path[0] != '/')
                    Error($"{field}[{i}].path", $"must be an absolute path, got {Q(hook.Path)}");
                if (hook.Timeout is { } t && t <= 0)
                    Error($"{field}[{i}].timeout", $"must be greater than zero, got {t}");
            }
        }

        private void Namespaces()
        {
            var list = spec.Linux?.Namespaces;
            if (list is null) return;
            for (int i = 0; i < list.Count; i++)
            {
                var ns = list[i];
                var f = $"linux.namespaces[{i}]";
                if (ns is null) { Error(f, "must be an object, got null"); continue; }
                if (!LinuxNamespaceType.All.Contains(ns.Type))
                    Error($"{f}.type", $"unknown namespace type {Q(ns.Type)} (known: {Join(LinuxNamespaceType.All)})");
                else if (!_namespaces.Add(ns.Type))
                    Error($"{f}.type", $"duplicate namespace {Q(ns.Type)}");
                if (!string.IsNullOrEmpty(ns.Path) && ns.Path[0] != '/')
                    Error($"{f}.path", $"must be an absolute path, got {Q(ns.Path)}");
            }
        }

        private void Mappings(List<LinuxIDMapping>? maps, string field)
        {
            if (maps is null) return;
            for (int i = 0; i < maps.Count; i++)
            {
                if (maps[i] is null) Error($"{field}[{i}]", "must be an object, got null");
                else if (maps[i].Size == 0) Error($"{field}[{i}].size", "must be greater than zero");
            }
        }

        private void Linux()
        {
            var l = spec.Linux;
            if (l is null) return;

            bool userNs = HasNs(LinuxNamespaceType.User);
            if (l.UIDMappings is { Count: > 0 } && !userNs)
                Error("linux.uidMappings", "requires a user namespace (linux.namespaces has no \"user\")");
            if (l.GIDMappings is { Count: > 0 } && !userNs)
                Error("linux.gidMappings", "requires a user namespace (linux.namespaces has no \"user\")");
            Mappings(l.UIDMappings, "linux.uidMappings");
            Mappings(l.GIDMappings, "linux.gidMappings");

            if (l.TimeOffsets is { Count: > 0 })
            {
                if (!HasNs(LinuxNamespaceType.Time))
                    Error("linux.timeOffsets", "requires a time namespace (linux.namespaces has no \"time\")");
                foreach (var (clock, off) in l.TimeOffsets)
                {
                    if (!KnownTimeClocks.Contains(clock))
                        Error($"linux.timeOffsets['{clock}']", "unknown clock (known: monotonic, boottime)");
                    else if (off is not null && off.Nanosecs >= 1_000_000_000)
                        Error($"linux.timeOffsets['{clock}'].nanosecs", $"must be less than 1000000000, got {off.Nanosecs}");
                }
            }

            if (l.Sysctl is not null)
                foreach (var key in l.Sysctl.Keys.Order(StringComparer.Ordinal))
                    Sysctl(key);

            if (l.NetDevices is { Count: > 0 } && !HasNs(LinuxNamespaceType.Network))
                Error("linux.netDevices", "requires a network namespace (linux.namespaces has no \"network\")");

            if (l.Devices is not null)
                for (int i = 0; i < l.Devices.Count; i++)
                    Device(l.Devices[i], $"linux.devices[{i}]");

            if (l.Resources?.Devices is { } rules)
                for (int i = 0; i < rules.Count; i++)
                    DeviceRule(rules[i], $"linux.resources.devices[{i}]");

            PathList(l.MaskedPaths, "linux.maskedPaths");
            PathList(l.ReadonlyPaths, "linux.readonlyPaths");

            if (!string.IsNullOrEmpty(l.RootfsPropagation) && !RootfsPropagations.Contains(l.RootfsPropagation))
                Error("linux.rootfsPropagation", $"unknown propagation {Q(l.RootfsPropagation)} (known: {Join(RootfsPropagations)})");

            if (l.Personality is { } pers && !PersonalityDomains.Contains(pers.Domain))
                Error("linux.personality.domain", $"unknown domain {Q(pers.Domain)} (known: LINUX, LINUX32)");

            if (l.MemoryPolicy is { } mp)
            {
                if (!MemoryPolicyModes.Contains(mp.Mode))
                    Error("linux.memoryPolicy.mode", $"unknown mode {Q(mp.Mode)} (known: {Join(MemoryPolicyModes)})");
                if (mp.Flags is not null)
                    foreach (var flag in mp.Flags)
                        if (!MemoryPolicyFlags.Contains(flag)) Error("linux.memoryPolicy.flags", $"unknown flag {Q(flag)}");
            }

            if (l.IntelRdt?.ClosID is { } clos && (clos is "." or ".." || clos.Contains('/')))
                Error("linux.intelRdt.closID", $"invalid value {Q(clos)}");

            if (l.Seccomp is { } sc) Seccomp(sc);
        }

        private void PathList(List<string>? paths, string field)
        {
            if (paths is null || paths.Count == 0) return;
            if (!HasNs(LinuxNamespaceType.Mount))
                Error(field, "requires a mount namespace (linux.namespaces has no \"mount\")");
            for (int i = 0; i < paths.Count; i++)
                if (string.IsNullOrEmpty(paths[i]) || paths[i][0] != '/')
                    Error($"{field}[{i}]", $"must be an absolute path, got {Q(paths[i])}");
        }

        // Same policy as runc: only sysctls isolated by a namespace the container gets are allowed.
        private void Sysctl(string rawKey)
        {
            var key = SysctlDotted(rawKey);
            var f = $"linux.sysctl['{rawKey}']";
            if (IpcSysctls.Contains(key) || key.StartsWith("fs.mqueue.", StringComparison.Ordinal))
            {
                if (!HasNs(LinuxNamespaceType.Ipc)) Error(f, "requires an ipc namespace (linux.namespaces has no \"ipc\")");
                return;
            }
            if (key.StartsWith("net.", StringComparison.Ordinal))
            {
                if (!HasNs(LinuxNamespaceType.Network)) Error(f, "requires a network namespace (linux.namespaces has no \"network\")");
                return;
            }
            if (key is "kernel.hostname" or "kernel.domainname")
            {
                if (!HasNs(LinuxNamespaceType.Uts)) Error(f, "requires a uts namespace (linux.namespaces has no \"uts\")");
                else if (key == "kernel.hostname") Error(f, "not allowed: use the \"hostname\" field instead");
                return;
            }
            Error(f, "not allowed: this sysctl is not isolated by any namespace the container has");
        }

        // "net/ipv4/conf/eth0.100/rp_filter" -> "net.ipv4.conf.eth0/100.rp_filter" (sysctl.d(5)); as runc.
        private static string SysctlDotted(string key)
        {
            int first = key.IndexOfAny(['.', '/']);
            if (first < 0 || key[first] == '.') return key;
            return string.Create(key.Length, key, (span, k) =>
            {
                for (int i = 0; i < k.Length; i++)
                    span[i] = k[i] switch { '.' => '/', '/' => '.', var c => c };
            });
        }

        private void Device(LinuxDevice? d, string f)
        {
            if (d is null) { Error(f, "must be an object, got null"); return; }
            if (string.IsNullOrEmpty(d.Path) || d.Path[0] != '/')
                Error($"{f}.path", $"must be an absolute path, got {Q(d.Path)}");
            switch (d.Type)
            {
                case "c" or "b" or "u":
                    if (d.Major < 0 || d.Minor < 0)
                        Error(f, $"major and minor must not be negative, got {d.Major}:{d.Minor}");
                    else if (d.Major == 0 && d.Minor == 0)
                        Error(f, $"major and minor are required for type {Q(d.Type)}");
                    break;
                case "p":
                    break;
                default:
                    Error($"{f}.type", $"unknown device type {Q(d.Type)} (known: c, b, u, p)");
                    break;
            }
        }

        private void DeviceRule(LinuxDeviceCgroup? r, string f)
        {
            if (r is null) { Error(f, "must be an object, got null"); return; }
            if (r.Type is not (null or "" or "a" or "c" or "b"))
                Error($"{f}.type", $"unknown device type {Q(r.Type)} (known: a, c, b)");
            if (!string.IsNullOrEmpty(r.Access) && r.Access.AsSpan().ContainsAnyExcept("rwm"))
                Error($"{f}.access", $"must only contain r, w and m, got {Q(r.Access)}");
        }

        private void Seccomp(LinuxSeccomp sc)
        {
            bool notify = false;
            if (!SeccompNames.Actions.Contains(sc.DefaultAction))
                Error("linux.seccomp.defaultAction", $"unknown action {Q(sc.DefaultAction)}");
            notify |= sc.DefaultAction == SeccompNames.ActNotify;
            if (sc.DefaultErrnoRet is not null && sc.DefaultAction is not (SeccompNames.ActErrno or SeccompNames.ActTrace))
                Error("linux.seccomp.defaultErrnoRet", "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
            if (sc.Architectures is not null)
                for (int i = 0; i < sc.Architectures.Count; i++)
                    if (!SeccompNames.Architectures.Contains(sc.Architectures[i]))
                        Error($"linux.seccomp.architectures[{i}]", $"unknown architecture {Q(sc.Architectures[i])}");
            if (sc.Flags is not null)
                for (int i = 0; i < sc.Flags.Count; i++)
                    if (!SeccompNames.Flags.Contains(sc.Flags[i]))
                        Error($"linux.seccomp.flags[{i}]", $"unknown flag {Q(sc.Flags[i])}");
            if (sc.Syscalls is not null)
                for (int i = 0; i < sc.Syscalls.Count; i++)
                {
                    var s = sc.Syscalls[i];
                    var f = $"linux.seccomp.syscalls[{i}]";
                    if (s is null) { Error(f, "must be an object, got null"); continue; }
                    if (s.Names is null || s.Names.Count == 0 || s.Names.Any(string.IsNullOrEmpty))
                        Error($"{f}.names", "must be a non-empty list of syscall names");
                    if (!SeccompNames.Actions.Contains(s.Action))
                        Error($"{f}.action", $"unknown action {Q(s.Action)}");
                    notify |= s.Action == SeccompNames.ActNotify;
                    if (s.ErrnoRet is not null && s.Action is not (SeccompNames.ActErrno or SeccompNames.ActTrace))
                        Error($"{f}.errnoRet", "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
                    if (s.Args is not null)
                        for (int j = 0; j < s.Args.Count; j++)
                        {
                            var a = s.Args[j];
                            if (a is null) { Error($"{f}.args[{j}]", "must be an object, got null"); continue; }
                            if (a.Index > 5) Error($"{f}.args[{j}].index", $"must be between 0 and 5, got {a.Index.ToString(CultureInfo.InvariantCulture)}");
                            if (!SeccompNames.Operators.Contains(a.Op)) Error($"{f}.args[{j}].op", $"unknown operator {Q(a.Op)}");
                        }
                }
            if (notify && string.IsNullOrEmpty(sc.ListenerPath))
                Error("linux.seccomp.listenerPath", "required when SCMP_ACT_NOTIFY is used");
        }
    }
}
