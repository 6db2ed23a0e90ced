using System.Globalization;
using Skiff.Oci;

namespace Skiff.Cgroups;

/// <summary>
/// cgroupfs manager for v1, hybrid and v2 hosts. One instance covers every hierarchy the container
/// joins: each v1 controller hierarchy plus name=systemd (v1/hybrid), plus the cgroup2 one (hybrid/v2).
/// A controller is configured in its v1 hierarchy when it has one, otherwise in the cgroup2 hierarchy
/// when it is available there (v2, or e.g. hugetlb on a hybrid host).
/// </summary>
public sealed partial class CgroupManager : ICgroupManager
{
    private readonly CgroupFileSystem _fs;
    private readonly List<Node> _nodes;
    /// <summary>Ancestors of the leaves that <see cref="Create"/> made, in creation order: a rollback removes them too.</summary>
    private readonly List<string> _createdAncestors = new();

    private sealed class Node
    {
        public required string Key { get; init; }
        public required string Dir { get; init; }
        public required bool IsV2 { get; init; }
        /// <summary>v1 controllers; empty for v2 and named hierarchies.</summary>
        public required IReadOnlyList<string> Controllers { get; init; }
        private string? _mountPoint;
        private bool _mountPointKnown;

        /// <summary>Host mount point of the hierarchy, when known; looked up on first use through <see cref="FindMountPoint"/>.</summary>
        public string? MountPoint
        {
            get
            {
                if (!_mountPointKnown)
                {
                    _mountPoint = FindMountPoint?.Invoke();
                    _mountPointKnown = true;
                }
                return _mountPoint;
            }
            init
            {
                _mountPoint = value;
                _mountPointKnown = true;
            }
        }

        public Func<string?>? FindMountPoint { get; init; }
    }

    private CgroupManager(CgroupFileSystem fs, CgroupMode mode, List<Node> nodes)
    {
        _fs = fs;
        Mode = mode;
        _nodes = nodes;
    }

    public CgroupMode Mode { get; }

    /// <summary>Manager for a new container on the real host.</summary>
    public static CgroupManager Create(string containerId, string? cgroupsPath) =>
        Create(CgroupFileSystem.Host, containerId, cgroupsPath);

    /// <summary>Manager for a new container; detection and all I/O go through <paramref name="fs"/>.</summary>
    public static CgroupManager Create(CgroupFileSystem fs, string containerId, string? cgroupsPath)
    {
        var inner = CgroupPathResolver.ResolveInner(containerId, cgroupsPath);
        var system = CgroupSystem.Detect(fs);
        var nodes = new List<Node>();
        foreach (var h in system.Hierarchies)
        {
            if (h.IsV2 && system.Mode == CgroupMode.V1) continue; // not reachable, kept for clarity
            if (!h.IsV2 && h.Controllers.Count == 0 && h.Name != "systemd") continue; // foreign named hierarchy
            nodes.Add(new Node
            {
                Key = h.Key,
                Dir = CgroupPathResolver.HierarchyDir(system, h, inner),
                IsV2 = h.IsV2,
                Controllers = h.Controllers,
                MountPoint = h.MountPoint,
            });
        }
        return new CgroupManager(fs, system.Mode, nodes);
    }

    /// <summary>Rebuilds a manager from <see cref="Paths"/> saved by an earlier process.</summary>
    public static CgroupManager FromPaths(CgroupPaths paths) => FromPaths(CgroupFileSystem.Host, paths);

    public static CgroupManager FromPaths(CgroupFileSystem fs, CgroupPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        // Mount points are only needed for MountSources: kill, delete, ps and exec, which rebuild
        // the manager from saved paths, must not parse mountinfo for nothing.
        var system = new Lazy<CgroupSystem?>(() =>
        {
            try { return CgroupSystem.Detect(fs); }
            catch (CgroupException) { return null; }
        });

        var nodes = new List<Node>();
        foreach (var (key, dir) in paths.Paths)
        {
            if (!dir.StartsWith('/') || CgroupPath.Clean(dir) != dir)
                throw new CgroupException($"invalid saved cgroup path for {key}: \"{dir}\"");
            var isV2 = key == CgroupSystem.UnifiedKey;
            nodes.Add(new Node
            {
                Key = key,
                Dir = dir,
                IsV2 = isV2,
                Controllers = isV2 ? [] : key.Split(',').Where(c => !c.StartsWith("name=", StringComparison.Ordinal)).ToArray(),
                FindMountPoint = () => system.Value?.Hierarchies.FirstOrDefault(x => x.Key == key)?.MountPoint,
            });
        }
        return new CgroupManager(fs, paths.Mode, nodes);
    }

    public CgroupPaths Paths
    {
        get
        {
            var p = new CgroupPaths { Mode = Mode };
            foreach (var n in _nodes) p.Paths[n.Key] = n.Dir;
            return p;
        }
    }

    public IReadOnlyList<string> ProcsFiles => _nodes.Select(n => CgroupPath.Join(n.Dir, "cgroup.procs")).ToArray();

    public IReadOnlyList<CgroupDirectory> Directories => _nodes.Select(n => new CgroupDirectory(n.Dir, n.IsV2)).ToArray();

    public bool EnforcesDeviceRules => UsesDeviceFilter || _nodes.Any(n => !n.IsV2 && n.Controllers.Contains("devices"));

    /// <summary>Pure cgroup v2: device rules become an eBPF program on the container's cgroup2 directory.</summary>
    private bool UsesDeviceFilter => Mode == CgroupMode.V2 && _nodes.Any(n => n.IsV2);

    public IReadOnlyList<CgroupMountSource> MountSources
    {
        get
        {
            var list = new List<CgroupMountSource>();
            foreach (var n in _nodes)
            {
                if (n.IsV2)
                {
                    var containerPath = Mode == CgroupMode.V2
                        ? "/sys/fs/cgroup"
                        : "/sys/fs/cgroup/" + BaseName(n.MountPoint ?? "/sys/fs/cgroup/unified");
                    list.Add(new CgroupMountSource(containerPath, n.Dir, [], true, []));
                    continue;
                }
                var name = BaseName(n.MountPoint ?? n.Key);
                var controllers = n.Controllers.Count > 0 ? n.Controllers : [n.Key];
                var symlinks = n.Controllers.Count > 1 ? n.Controllers.Where(c => c != name).ToArray() : [];
                list.Add(new CgroupMountSource("/sys/fs/cgroup/" + name, n.Dir, controllers, false, symlinks));
            }
            return list;
        }
    }

    private static string BaseName(string path)
    {
        var t = path.TrimEnd('/');
        var i = t.LastIndexOf('/');
        return i < 0 ? t : t[(i + 1)..];
    }

    // ---------------------------------------------------------------- create / destroy

    public void Create()
    {
        var created = new List<string>();
        try
        {
            foreach (var n in _nodes)
            {
                var before = created.Count;
                MkdirAll(n, created);
                if (!n.IsV2 && n.Controllers.Contains("cpuset"))
                {
                    // a new v1 cpuset cgroup has empty cpus/mems and refuses tasks: inherit the parent's
                    for (var i = before; i < created.Count; i++) CpusetCopyFromParent(created[i]);
                }
            }
            var leaves = _nodes.Select(n => n.Dir).ToHashSet(StringComparer.Ordinal);
            _createdAncestors.AddRange(created.Where(d => !leaves.Contains(d)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CgroupException)
        {
            for (var i = created.Count - 1; i >= 0; i--)
            {
                try { _fs.RemoveDirectory(created[i]); }
                catch (Exception re) when (re is IOException or UnauthorizedAccessException) { /* best effort */ }
            }
            if (e is CgroupException) throw;
            throw new CgroupException($"cannot create cgroup: {e.Message}", e);
        }
    }

    private void MkdirAll(Node n, List<string> created)
    {
        var start = n.MountPoint is not null && CgroupPath.IsUnder(n.Dir, n.MountPoint) ? n.MountPoint : "/";
        if (!_fs.DirectoryExists(start))
            throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot create cgroup {n.Dir}: hierarchy {n.Key} is not mounted at {start}");
        var current = start;
        foreach (var part in n.Dir[start.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            // v2: enable the controllers in the parent before creating the child (runc fs2 CreateCgroupPath)
            if (n.IsV2) EnableControllers(current);
            current = CgroupPath.Join(current, part);
            if (_fs.DirectoryExists(current)) continue;
            try
            {
                _fs.CreateDirectory(current);
                created.Add(current);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (CgroupFileSystem.Errno(e) == Errnos.EEXIST && _fs.DirectoryExists(current)) continue;
                throw new CgroupException($"cannot create cgroup: mkdir {current}: {CgroupFileSystem.Describe(e)}", e);
            }
        }
    }

    private void CpusetCopyFromParent(string dir)
    {
        var parent = CgroupPath.Parent(dir);
        foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
        {
            var own = CgroupPath.Join(dir, file);
            if (!_fs.FileExists(own)) continue;
            if (ReadTrimmed(own).Length != 0) continue;
            var value = ReadTrimmed(CgroupPath.Join(parent, file));
            if (value.Length == 0) continue;
            Write("cannot initialise cpuset", own, value);
        }
    }

    /// <summary>runc fs2 CreateCgroupPath: enable every available controller in the subtree_control of
    /// each ancestor of the leaf (best effort, one by one when the batch is refused, e.g. EBUSY because
    /// the ancestor has processes).</summary>
    private void EnableControllers(string dir)
    {
        var controllersFile = CgroupPath.Join(dir, "cgroup.controllers");
        var subtree = CgroupPath.Join(dir, "cgroup.subtree_control");
        if (!_fs.FileExists(controllersFile) || !_fs.FileExists(subtree)) return;
        var available = ReadTrimmed(controllersFile).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var enabled = ReadTrimmed(subtree).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var missing = available.Where(c => !enabled.Contains(c)).ToArray();
        if (missing.Length == 0) return;
        try { _fs.WriteFile(subtree, string.Join(' ', missing.Select(c => "+" + c))); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var c in missing)
            {
                try { _fs.WriteFile(subtree, "+" + c); }
                catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException) { }
            }
        }
    }

    public void Destroy()
    {
        var errors = new List<string>();
        foreach (var n in _nodes)
        {
            if (TryRemoveLeaf(n.Dir)) continue;
            var order = new List<string>();
            try { CollectPostOrder(n.Dir, order); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { order.Add(n.Dir); }
            foreach (var dir in order)
            {
                var error = RemoveWithRetry(dir);
                if (error is not null) errors.Add(error);
            }
        }
        if (errors.Count > 0)
            throw new CgroupException("cannot remove cgroup: " + string.Join("; ", errors));
        // Parents this instance created (the rollback of a failed create) go too, unless another
        // container has moved in meanwhile; parents found existing are never touched (runc's delete).
        for (var i = _createdAncestors.Count - 1; i >= 0; i--)
        {
            try { _fs.RemoveDirectory(_createdAncestors[i]); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* in use or gone: not ours to remove */ }
        }
        _createdAncestors.Clear();
    }

    /// <summary>
    /// One rmdir, which is all a container's cgroup needs when it has no child cgroups (the usual case):
    /// listing every directory first costs an open and two getdents per controller. False when the
    /// directory is still busy (children or processes), for the walk with retries.
    /// </summary>
    private bool TryRemoveLeaf(string dir)
    {
        try
        {
            _fs.RemoveDirectory(dir);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CgroupFileSystem.Errno(e) == Errnos.ENOENT;
        }
    }

    private void CollectPostOrder(string dir, List<string> order)
    {
        IReadOnlyList<string> children;
        try { children = _fs.GetDirectories(dir); }
        catch (DirectoryNotFoundException) { return; }
        foreach (var c in children) CollectPostOrder(c, order);
        order.Add(dir);
    }

    private string? RemoveWithRetry(string dir)
    {
        var delay = 10;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                _fs.RemoveDirectory(dir);
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var errno = CgroupFileSystem.Errno(e);
                if (errno == Errnos.ENOENT) return null;
                if (errno == Errnos.EBUSY && attempt < 6)
                {
                    Thread.Sleep(delay);
                    delay *= 2;
                    continue;
                }
                return $"rmdir {dir}: {CgroupFileSystem.Describe(e)}";
            }
        }
    }

    // ---------------------------------------------------------------- processes

    /// <summary>cgroupfs needs nothing more than skiff-init placing the init in <see cref="Directories"/>.</summary>
    public bool RegistersInit => false;

    public void RegisterInit(int pid)
    {
    }

    public void AddProcess(int pid)
    {
        if (pid <= 0) throw new ArgumentOutOfRangeException(nameof(pid));
        var value = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var file in ProcsFiles)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    _fs.WriteFile(file, value);
                    break;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // EINVAL: the task may still be in TASK_NEW state; runc retries
                    if (CgroupFileSystem.Errno(e) == Errnos.EINVAL && attempt < 5)
                    {
                        Thread.Sleep(30);
                        continue;
                    }
                    throw new CgroupException($"cannot add process {pid} to cgroup: write {value} to {file}: {CgroupFileSystem.Describe(e)}", e);
                }
            }
        }
    }

    public IReadOnlyList<int> GetPids()
    {
        var node = PidsNode();
        if (node is null || !_fs.DirectoryExists(node.Dir)) return [];
        var result = new List<int>();
        var seen = new HashSet<int>();
        var stack = new Stack<string>();
        stack.Push(node.Dir);
        while (stack.Count > 0)
        {
            var dir = stack.Pop();
            string text;
            try { text = _fs.ReadFile(CgroupPath.Join(dir, "cgroup.procs")); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { continue; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CgroupException($"cannot read {CgroupPath.Join(dir, "cgroup.procs")}: {CgroupFileSystem.Describe(e)}", e);
            }
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && seen.Add(pid))
                    result.Add(pid);
            }
            IReadOnlyList<string> children;
            try { children = _fs.GetDirectories(dir); }
            catch (DirectoryNotFoundException) { continue; }
            foreach (var c in children) stack.Push(c);
        }
        return result;
    }

    private Node? PidsNode()
    {
        if (Mode == CgroupMode.V2) return _nodes.FirstOrDefault(n => n.IsV2);
        foreach (var c in new[] { "pids", "memory", "freezer", "devices", "cpu" })
        {
            var n = _nodes.FirstOrDefault(x => !x.IsV2 && x.Controllers.Contains(c));
            if (n is not null) return n;
        }
        return _nodes.FirstOrDefault(n => !n.IsV2) ?? _nodes.FirstOrDefault();
    }

    // ---------------------------------------------------------------- freezer

    public void Freeze() => SetFrozen(true);

    public void Thaw() => SetFrozen(false);

    private void SetFrozen(bool frozen)
    {
        var what = frozen ? "cannot freeze cgroup" : "cannot thaw cgroup";
        var v1 = _nodes.FirstOrDefault(n => !n.IsV2 && n.Controllers.Contains("freezer"));
        if (v1 is not null)
        {
            var file = CgroupPath.Join(v1.Dir, "freezer.state");
            var want = frozen ? "FROZEN" : "THAWED";
            for (var i = 0; i < 1000; i++)
            {
                // runc writes repeatedly: a freeze can stay in FREEZING while new tasks fork
                Write(what, file, want);
                var state = ReadTrimmed(file);
                if (state == want) return;
                Thread.Sleep(i < 10 ? 1 : 10);
            }
            if (frozen) { try { Write(what, file, "THAWED"); } catch (CgroupException) { } }
            throw new CgroupException($"{what}: {file} did not reach {want}");
        }
        // cgroup v2 (or a hybrid host without a v1 freezer): the core cgroup.freeze file, kernel >= 5.2
        var v2 = _nodes.FirstOrDefault(n => n.IsV2);
        if (v2 is not null && (Mode == CgroupMode.V2 || _fs.FileExists(CgroupPath.Join(v2.Dir, "cgroup.freeze"))))
        {
            var file = CgroupPath.Join(v2.Dir, "cgroup.freeze");
            if (!_fs.FileExists(file)) throw new CgroupException(ErrorKind.FailedPrecondition, $"{what}: {file} does not exist (kernel older than 5.2?)");
            Write(what, file, frozen ? "1" : "0");
            var events = CgroupPath.Join(v2.Dir, "cgroup.events");
            var want = frozen ? "frozen 1" : "frozen 0";
            for (var i = 0; i < 500; i++)
            {
                if (!_fs.FileExists(events)) return;
                var text = _fs.ReadFile(events);
                if (text.Split('\n').Any(l => l.Trim() == want)) return;
                Thread.Sleep(10);
            }
            throw new CgroupException($"{what}: {events} did not report \"{want}\"");
        }
        throw new CgroupException(ErrorKind.FailedPrecondition, $"{what}: no freezer controller is available");
    }

    // ---------------------------------------------------------------- file helpers

    private string ReadTrimmed(string path) => _fs.ReadFile(path).Trim();

    /// <summary>Write one value; failures become "{what}: write {value} to {path}: {strerror}".</summary>
    private void Write(string what, string path, string value)
    {
        try
        {
            _fs.WriteFile(path, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException
                ? "No such file or directory"
                : CgroupFileSystem.Describe(e);
            throw new CgroupException($"{what}: write {value} to {path}: {reason}", e);
        }
    }

    private static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Str(ulong v) => v.ToString(CultureInfo.InvariantCulture);
}
