using Skiff.Cgroups;
using Skiff.Interop;
using Skiff.Oci;
using static Skiff.Oci.LinuxNames;

namespace Skiff.Runtime.Plan;

/// <summary>Everything outside config.json that shapes the plan.</summary>
public sealed record LaunchOptions
{
    public required string Bundle { get; init; }
    public int PreserveFds { get; init; }
    public bool NoPivot { get; init; }
    /// <summary>The container's cgroups; null for an exec into a container created without them.</summary>
    public required ICgroupManager? Cgroups { get; init; }
    /// <summary>The state JSON the startContainer hooks get on stdin (create only).</summary>
    public byte[]? StartContainerState { get; init; }
    /// <summary>Where compiled seccomp programs are reused from; null compiles every time.</summary>
    public SeccompCache? SeccompCache { get; init; }
    /// <summary>Which security modules can apply the config's labels and profiles.</summary>
    public SecurityModules SecurityModules { get; init; } = SecurityModules.Host;
}

/// <summary>
/// config.json → plan (native/stage0/plan.h). All policy lives here: the order of the steps,
/// which devices and symlinks a private /dev gets, how a mount's options become flags, and
/// which limits can be honoured on this host. skiff-init only executes.
/// </summary>
public static partial class PlanCompiler
{
    private static readonly string[] DefaultDevices = ["null", "zero", "full", "random", "urandom", "tty"];

    public static PlanWriter CompileCreate(Spec spec, LaunchOptions options, FdLayoutNumbers fds)
    {
        var process = spec.Process ?? throw new RuntimeException(ErrorKind.InvalidArgument, "config.json: process is required to create a container");
        var linux = spec.Linux ?? new Linux();
        var namespaces = linux.Namespaces ?? [];
        bool newUserNs = namespaces.Any(n => n.Type == "user" && string.IsNullOrEmpty(n.Path));
        bool newMountNs = namespaces.Any(n => n.Type == "mount" && string.IsNullOrEmpty(n.Path));
        if (!namespaces.Any(n => n.Type == "mount"))
            throw new RuntimeException(ErrorKind.InvalidArgument, "config.json: linux.namespaces must include a mount namespace: skiff-runtime does not change the host's root");

        var mountLabel = MountLabel(linux, options.SecurityModules);

        var plan = new PlanWriter();
        plan.Add(PlanOp.Mode, 0);
        plan.Add(PlanOp.SyncFd, (ulong)fds.Sync);
        plan.Add(PlanOp.PreserveFds, (ulong)options.PreserveFds);
        // The runtime creates the cgroups while skiff-init starts, then sends the go (Stage0.Go).
        plan.Add(PlanOp.AwaitGo);
        AddCgroupPlacement(plan, options.Cgroups);
        AddNamespaces(plan, namespaces, linux);

        var rootfs = ResolveRootfs(spec, options.Bundle);
        ulong propagation = 0;
        if (!string.IsNullOrEmpty(linux.RootfsPropagation))
        {
            if (!Propagations.TryGetValue(linux.RootfsPropagation, out propagation))
                throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: linux.rootfsPropagation: unknown value \"{linux.RootfsPropagation}\"");
        }
        plan.Add(PlanOp.Rootfs, [options.NoPivot ? 1UL : 0UL, propagation], rootfs);

        bool devIsBind = false;
        foreach (var mount in spec.Mounts ?? [])
        {
            if (mount.Destination == "/dev" && IsBind(mount))
                devIsBind = true;
            AddMount(plan, mount, options, newUserNs, namespaces, mountLabel);
        }
        if (!devIsBind)
            AddDevices(plan, linux, newUserNs, spec.Mounts ?? []);

        var hooks = spec.Hooks;
        // also the sync point where the cgroup manager registers the init, which waits there
        if (hooks?.Prestart is { Count: > 0 } || hooks?.CreateRuntime is { Count: > 0 } || hooks?.CreateContainer is { Count: > 0 }
            || options.Cgroups is { RegistersInit: true })
            plan.Add(PlanOp.Hooks);
        plan.Add(PlanOp.Pivot);

        if (process.Terminal)
        {
            if (fds.Console < 0)
                throw new RuntimeException(ErrorKind.InvalidArgument, "process.terminal is true but no --console-socket was given: pass --console-socket or set terminal to false");
            plan.Add(PlanOp.Console, [(ulong)fds.Console, process.ConsoleSize?.Height ?? 0, process.ConsoleSize?.Width ?? 0]);
        }
        // Sysctls first: readonlyPaths usually holds /proc/sys (plan.h, OP_SYSCTL).
        foreach (var (key, value) in linux.Sysctl ?? [])
            plan.Add(PlanOp.Sysctl, key, value);
        foreach (var path in linux.ReadonlyPaths ?? [])
            plan.Add(PlanOp.Readonly, RequireAbsolute(path, "linux.readonlyPaths"));
        foreach (var path in linux.MaskedPaths ?? [])
            plan.Add(PlanOp.Mask, RequireAbsolute(path, "linux.maskedPaths"), WithMountLabel("", mountLabel));
        if (!string.IsNullOrEmpty(spec.Hostname))
            plan.Add(PlanOp.Hostname, spec.Hostname);
        if (!string.IsNullOrEmpty(spec.Domainname))
            plan.Add(PlanOp.Domainname, spec.Domainname);

        AddProcess(plan, process, linux, isExec: false, options);
        // After OP_CWD: a missing cwd is created in the rootfs (as runc does) before it turns read-only.
        if (spec.Root?.Readonly == true)
            plan.Add(PlanOp.RemountReadonly, "/");
        foreach (var hook in hooks?.StartContainer ?? [])
            AddContainerHook(plan, hook, options.StartContainerState ?? []);
        plan.Add(PlanOp.ExecFifo, (ulong)fds.ExecFifo);
        return plan;
    }

    /// <summary>A process joining a running container: its namespaces (user first), its cgroups, then the process settings.</summary>
    public static PlanWriter CompileExec(Spec containerSpec, Process process, int containerPid, LaunchOptions options, FdLayoutNumbers fds)
    {
        var linux = containerSpec.Linux ?? new Linux();
        var plan = new PlanWriter();
        plan.Add(PlanOp.Mode, 1);
        plan.Add(PlanOp.SyncFd, (ulong)fds.Sync);
        plan.Add(PlanOp.PreserveFds, (ulong)options.PreserveFds);
        AddCgroupPlacement(plan, options.Cgroups);
        foreach (var ns in OrderedForJoin(linux.Namespaces ?? []))
        {
            var (flag, procName) = Namespaces[ns.Type];
            plan.Add(PlanOp.JoinNamespace, [flag], $"/proc/{containerPid}/ns/{procName}");
        }
        plan.Add(PlanOp.CloneFlags, 0);
        if (process.Terminal)
        {
            if (fds.Console < 0)
                throw new RuntimeException(ErrorKind.InvalidArgument, "exec with a terminal needs --console-socket");
            plan.Add(PlanOp.Console, [(ulong)fds.Console, process.ConsoleSize?.Height ?? 0, process.ConsoleSize?.Width ?? 0]);
        }
        AddProcess(plan, process, linux, isExec: true, options);
        return plan;
    }

    /// <summary>
    /// How skiff-init joins the container's cgroups without paying for a migration: "0" to each
    /// v1 `tasks` file moves only its own (single) thread, which skips the kernel's global
    /// threadgroup lock and its RCU grace period (~20 ms a start on this kernel), and the
    /// cgroup2 directory is entered at birth with CLONE_INTO_CGROUP.
    /// </summary>
    private static void AddCgroupPlacement(PlanWriter plan, ICgroupManager? cgroups)
    {
        foreach (var directory in cgroups?.Directories ?? [])
        {
            if (directory.IsV2)
                plan.Add(PlanOp.CgroupCloneInto, directory.Path);
            else
                plan.Add(PlanOp.CgroupProcs, directory.Path + "/tasks");
        }
    }

    /// <summary>
    /// The user namespace owns every other namespace, so it is joined first: joining it gives
    /// the capabilities needed to setns into the others (runc nsexec does the same). The mount
    /// namespace goes last because joining it changes how later /proc paths resolve.
    /// </summary>
    private static IEnumerable<LinuxNamespace> OrderedForJoin(IEnumerable<LinuxNamespace> namespaces)
        => namespaces.OrderBy(n => n.Type switch { "user" => 0, "mount" => 2, _ => 1 });

    private static void AddNamespaces(PlanWriter plan, List<LinuxNamespace> namespaces, Linux linux)
    {
        ulong cloneFlags = 0;
        bool newTime = false;
        foreach (var ns in OrderedForJoin(namespaces))
        {
            if (!Namespaces.TryGetValue(ns.Type, out var info))
                throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: linux.namespaces: unknown namespace type \"{ns.Type}\"");
            if (!string.IsNullOrEmpty(ns.Path))
            {
                if (!File.Exists(ns.Path))
                    throw new RuntimeException(ErrorKind.NotFound, $"config.json: linux.namespaces: {ns.Type} namespace path {ns.Path} does not exist");
                plan.Add(PlanOp.JoinNamespace, [info.Flag], ns.Path);
            }
            else if (info.Flag == CLONE_NEWTIME)
                newTime = true;
            else
                cloneFlags |= info.Flag;
        }
        if (newTime)
        {
            linux.TimeOffsets ??= [];
            var monotonic = linux.TimeOffsets.GetValueOrDefault("monotonic");
            var boottime = linux.TimeOffsets.GetValueOrDefault("boottime");
            plan.Add(PlanOp.TimeOffsets, [(ulong)(monotonic?.Secs ?? 0), monotonic?.Nanosecs ?? 0, (ulong)(boottime?.Secs ?? 0), boottime?.Nanosecs ?? 0]);
        }
        plan.Add(PlanOp.CloneFlags, cloneFlags);
        if ((cloneFlags & CLONE_NEWUSER) != 0)
        {
            if (linux.UIDMappings is not { Count: > 0 } || linux.GIDMappings is not { Count: > 0 })
                throw new RuntimeException(ErrorKind.InvalidArgument, "config.json: a new user namespace needs linux.uidMappings and linux.gidMappings");
            plan.Add(PlanOp.UidMap, FormatMappings(linux.UIDMappings));
            plan.Add(PlanOp.GidMap, FormatMappings(linux.GIDMappings));
        }
    }

    private static string FormatMappings(List<LinuxIDMapping> mappings)
        => string.Concat(mappings.Select(m => $"{m.ContainerID} {m.HostID} {m.Size}\n"));

    private static string ResolveRootfs(Spec spec, string bundle)
    {
        var path = spec.Root?.Path;
        if (string.IsNullOrEmpty(path))
            throw new RuntimeException(ErrorKind.InvalidArgument, "config.json: root.path is required");
        var full = Path.GetFullPath(path, bundle);
        if (!Directory.Exists(full))
            throw new RuntimeException(ErrorKind.NotFound, $"config.json: root.path {full} does not exist or is not a directory");
        // pivot_root needs the real path: a symlinked rootfs would be mounted elsewhere than expected.
        return new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    private static string RequireAbsolute(string path, string field)
        => path.StartsWith('/') ? path : throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: {field}: \"{path}\" is not an absolute path");
}

/// <summary>The fd numbers inside skiff-init that a plan refers to (-1 when absent).</summary>
public readonly record struct FdLayoutNumbers(int Sync, int ExecFifo, int Console);
