using System.Globalization;
using Skiff.Interop;
using Skiff.Oci;

namespace Skiff.Cgroups;

public sealed partial class CgroupManager
{
    /// <summary>
    /// Writes <paramref name="resources"/> to the container's cgroups, controller by controller in runc's
    /// order (cpuset, devices, memory, cpu, pids, blkio/io, hugetlb, net_cls, net_prio, rdma, unified).
    /// Everything is validated before the first write.
    /// </summary>
    public void Apply(LinuxResources? resources)
    {
        if (resources is null) return;
        Validate(resources);
        // compiled up front: a rule set cgroup v1 would refuse must fail before the first write
        var deviceFilter = UsesDeviceFilter && resources.Devices is { Count: > 0 } ? DeviceFilter.Compile(resources.Devices) : null;

        ApplyCpuset(resources.CPU);
        ApplyDevices(resources.Devices, deviceFilter);
        ApplyMemory(resources.Memory);
        ApplyCpu(resources.CPU);
        ApplyPids(resources.Pids);
        ApplyBlockIO(resources.BlockIO);
        ApplyHugetlb(resources.HugepageLimits);
        ApplyNetwork(resources.Network);
        ApplyRdma(resources.Rdma);
        ApplyUnified(resources.Unified);
    }

    // ---------------------------------------------------------------- validation

    private static void Validate(LinuxResources r)
    {
        if (r.Memory is { } m)
        {
            CheckNotNegative("memory limit", m.Limit);
            CheckNotNegative("memory reservation", m.Reservation);
            CheckNotNegative("memory swap", m.Swap);
            CheckNotNegative("kernel memory limit", m.Kernel);
            CheckNotNegative("kernel TCP memory limit", m.KernelTCP);
            var limit = m.Limit ?? 0;
            var swap = m.Swap ?? 0;
            if (swap > 0)
            {
                if (limit == 0 || limit == -1)
                    throw new CgroupException(ErrorKind.InvalidArgument, $"invalid memory resources: a swap limit ({swap}) needs a memory limit (memory.swap is memory+swap)");
                if (swap < limit)
                    throw new CgroupException(ErrorKind.InvalidArgument, $"invalid memory resources: memory+swap limit ({swap}) should be >= memory limit ({limit})");
            }
            if (m.Swappiness is > 100)
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid memory resources: swappiness {m.Swappiness} is out of range 0-100");
        }
        if (r.CPU is { } c)
        {
            CheckNotNegative("cpu quota", c.Quota);
            CheckNotNegative("cpu realtime runtime", c.RealtimeRuntime);
            if (c.Idle is { } idle && idle != 0 && idle != 1)
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid cpu resources: idle must be 0 or 1, got {idle}");
        }
        if (r.Devices is { } devices)
        {
            foreach (var d in devices)
            {
                var type = string.IsNullOrEmpty(d.Type) ? "a" : d.Type;
                if (type != "a" && type != "b" && type != "c")
                    throw new CgroupException(ErrorKind.InvalidArgument, $"invalid device rule: type \"{type}\" is not one of a, b, c");
                if (d.Major is < 0 || d.Minor is < 0)
                    throw new CgroupException(ErrorKind.InvalidArgument, "invalid device rule: negative major/minor number");
                var access = d.Access;
                if (!string.IsNullOrEmpty(access) && access.Any(ch => ch != 'r' && ch != 'w' && ch != 'm'))
                    throw new CgroupException(ErrorKind.InvalidArgument, $"invalid device rule: access \"{access}\" is not a combination of r, w, m");
            }
        }
        if (r.BlockIO is { } b)
        {
            foreach (var list in new[] { b.ThrottleReadBpsDevice, b.ThrottleWriteBpsDevice, b.ThrottleReadIOPSDevice, b.ThrottleWriteIOPSDevice })
                foreach (var t in list ?? [])
                    if (t.Major < 0 || t.Minor < 0) throw new CgroupException(ErrorKind.InvalidArgument, "invalid blockIO resources: negative major/minor number");
            foreach (var w in b.WeightDevice ?? [])
                if (w.Major < 0 || w.Minor < 0) throw new CgroupException(ErrorKind.InvalidArgument, "invalid blockIO resources: negative major/minor number");
        }
        foreach (var h in r.HugepageLimits ?? [])
        {
            var ps = h.Pagesize;
            if (string.IsNullOrEmpty(ps) || ps.Contains('/') || ps.Contains(".."))
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid hugepage limit: page size \"{ps}\"");
        }
        foreach (var (key, _) in r.Unified ?? [])
        {
            if (key.Length == 0 || key.Contains('/') || key == "." || key == "..")
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid unified resource key \"{key}\"");
        }
    }

    private static void CheckNotNegative(string what, long? value)
    {
        if (value is < -1)
            throw new CgroupException(ErrorKind.InvalidArgument, $"invalid resources: {what} {value} is negative (only -1, meaning unlimited, is allowed)");
    }

    // ---------------------------------------------------------------- controller lookup

    private Node? V1(string controller) => _nodes.FirstOrDefault(n => !n.IsV2 && n.Controllers.Contains(controller));

    private Node? V2Node => _nodes.FirstOrDefault(n => n.IsV2);

    /// <summary>The node that handles <paramref name="controller"/>: its v1 hierarchy, else the cgroup2
    /// hierarchy (always on a v2 host; on a hybrid host only if listed in its cgroup.controllers).</summary>
    private Node? Target(string controller)
    {
        var v1 = V1(controller);
        if (v1 is not null) return v1;
        var v2 = V2Node;
        if (v2 is null) return null;
        if (Mode == CgroupMode.V2) return v2;
        var file = CgroupPath.Join(v2.Dir, "cgroup.controllers");
        if (!_fs.FileExists(file)) return null;
        return ReadTrimmed(file).Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(controller) ? v2 : null;
    }

    private Node Require(string controller, string what) =>
        Target(controller) ?? throw new CgroupException(ErrorKind.FailedPrecondition, 
            $"cannot set {what}: the {controller} cgroup controller is not available on this host " +
            $"(no v1 hierarchy mounted for it{(V2Node is null ? "" : " and not enabled in the cgroup2 hierarchy")})");

    private static string F(Node n, string file) => CgroupPath.Join(n.Dir, file);

    private void Set(string what, Node n, string file, string value) => Write("cannot set " + what, F(n, file), value);

    private static string Max(long v) => v == -1 ? "max" : Str(v);

    // ---------------------------------------------------------------- cpuset

    private void ApplyCpuset(LinuxCPU? c)
    {
        if (c is null) return;
        var cpus = c.Cpus;
        var mems = c.Mems;
        if (string.IsNullOrEmpty(cpus) && string.IsNullOrEmpty(mems)) return;
        var n = Require("cpuset", "cpuset");
        if (!string.IsNullOrEmpty(cpus)) Set("cpuset cpus", n, "cpuset.cpus", cpus);
        if (!string.IsNullOrEmpty(mems)) Set("cpuset mems", n, "cpuset.mems", mems);
    }

    // ---------------------------------------------------------------- devices

    private void ApplyDevices(List<LinuxDeviceCgroup>? devices, ulong[]? deviceFilter)
    {
        if (devices is null || devices.Count == 0) return;
        if (deviceFilter is not null)
        {
            var v2 = V2Node!;
            try
            {
                _fs.AttachDeviceFilter(v2.Dir, deviceFilter);
            }
            catch (SyscallException e)
            {
                throw new CgroupException($"cannot set device rules: {e.Message}", e);
            }
            return;
        }
        var n = V1("devices");
        if (n is null) return; // a hybrid host without a v1 devices hierarchy: EnforcesDeviceRules is false
        // runc order: deny everything first, then replay the rules in order
        Set("device rules", n, "devices.deny", "a");
        foreach (var d in devices)
        {
            var type = string.IsNullOrEmpty(d.Type) ? "a" : d.Type;
            var major = d.Major is { } ma ? Str(ma) : "*";
            var minor = d.Minor is { } mi ? Str(mi) : "*";
            var access = string.IsNullOrEmpty(d.Access) ? "rwm" : d.Access;
            var rule = $"{type} {major}:{minor} {access}";
            Set("device rules", n, d.Allow ? "devices.allow" : "devices.deny", rule);
        }
    }

    // ---------------------------------------------------------------- memory

    private void ApplyMemory(LinuxMemory? m)
    {
        if (m is null) return;
        var limit = m.Limit ?? 0;
        var swap = m.Swap ?? 0;
        var reservation = m.Reservation ?? 0;
        var anything = limit != 0 || swap != 0 || reservation != 0 || (m.Kernel ?? 0) != 0 || (m.KernelTCP ?? 0) != 0
            || m.Swappiness is not null || m.DisableOOMKiller == true;
        if (!anything) return;
        var n = Require("memory", "memory limits");
        if (n.IsV2) MemoryV2(n, m, limit, swap, reservation);
        else MemoryV1(n, m, limit, swap, reservation);
    }

    private void MemoryV1(Node n, LinuxMemory m, long limit, long swap, long reservation)
    {
        const string memsw = "memory.memsw.limit_in_bytes";
        // runc setMemoryAndSwap: unlimited memory without explicit swap means unlimited swap too
        if (limit == -1 && swap == 0 && _fs.FileExists(F(n, memsw))) swap = -1;

        void SetMem() { if (limit != 0) Set("memory limit", n, "memory.limit_in_bytes", Str(limit)); }
        void SetSwap()
        {
            if (swap == 0) return;
            if (!_fs.FileExists(F(n, memsw)))
                throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot set memory+swap limit: {F(n, memsw)} does not exist (swap accounting disabled? boot with swapaccount=1)");
            Set("memory+swap limit", n, memsw, Str(swap));
        }

        // order matters: memsw must always be >= memory.limit, so raise whichever must grow first
        var swapFirst = false;
        if (limit != 0 && swap != 0)
        {
            var current = ReadULong(F(n, "memory.limit_in_bytes"));
            swapFirst = swap == -1 || current < (ulong)swap;
        }
        if (swapFirst) { SetSwap(); SetMem(); }
        else { SetMem(); SetSwap(); }

        if (reservation != 0) Set("memory reservation", n, "memory.soft_limit_in_bytes", Str(reservation));

        // kernel memory: deprecated and gone in new kernels; like runc, ignore when the kernel has no support
        if ((m.Kernel ?? 0) != 0) SetOptionalKernel(n, "kernel memory limit", "memory.kmem.limit_in_bytes", m.Kernel!.Value);
        if ((m.KernelTCP ?? 0) != 0) SetOptionalKernel(n, "kernel TCP memory limit", "memory.kmem.tcp.limit_in_bytes", m.KernelTCP!.Value);

        if (m.Swappiness is { } swappiness) Set("memory swappiness", n, "memory.swappiness", Str(swappiness));
        if (m.DisableOOMKiller == true) Set("memory OOM killer", n, "memory.oom_control", "1");
    }

    private void SetOptionalKernel(Node n, string what, string file, long value)
    {
        if (!_fs.FileExists(F(n, file))) return;
        try
        {
            _fs.WriteFile(F(n, file), Str(value));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (CgroupFileSystem.Errno(e) == Errnos.EOPNOTSUPP) return; // kernel >= 5.16 keeps the file but refuses limits
            throw new CgroupException($"cannot set {what}: write {value} to {F(n, file)}: {CgroupFileSystem.Describe(e)}", e);
        }
    }

    private void MemoryV2(Node n, LinuxMemory m, long limit, long swap, long reservation)
    {
        var swapV2 = CgroupConversions.MemorySwapToV2(swap, limit);
        // swap == memory converts to 0, which here means "no swap" rather than "unset" (runc does the same)
        if (swapV2 != 0 || swap > 0)
        {
            if (_fs.FileExists(F(n, "memory.swap.max")))
                Set("swap limit", n, "memory.swap.max", Max(swapV2));
            else if (swapV2 != -1)
                throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot set swap limit: {F(n, "memory.swap.max")} does not exist (swap accounting disabled?)");
        }
        if (limit != 0) Set("memory limit", n, "memory.max", Max(limit));
        if (reservation != 0) Set("memory reservation", n, "memory.low", Max(reservation));
        // v2 has no swappiness, OOM-killer switch or kernel memory limits: ignored, as runc does
    }

    private ulong ReadULong(string path)
    {
        string text;
        try { text = ReadTrimmed(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CgroupException($"cannot read {path}: {CgroupFileSystem.Describe(e)}", e);
        }
        if (text == "max") return ulong.MaxValue;
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new CgroupException($"cannot parse {path}: \"{text}\"");
    }

    // ---------------------------------------------------------------- cpu

    private void ApplyCpu(LinuxCPU? c)
    {
        if (c is null) return;
        var shares = c.Shares ?? 0;
        var quota = c.Quota ?? 0;
        var period = c.Period ?? 0;
        var rtRuntime = c.RealtimeRuntime ?? 0;
        var rtPeriod = c.RealtimePeriod ?? 0;
        if (shares == 0 && quota == 0 && period == 0 && c.Burst is null && rtRuntime == 0 && rtPeriod == 0 && c.Idle is null)
            return;
        var n = Require("cpu", "cpu limits");
        if (n.IsV2) CpuV2(n, c, shares, quota, period, rtRuntime, rtPeriod);
        else CpuV1(n, c, shares, quota, period, rtRuntime, rtPeriod);
    }

    private void CpuV1(Node n, LinuxCPU c, ulong shares, long quota, ulong period, long rtRuntime, ulong rtPeriod)
    {
        if (shares != 0)
        {
            Set("cpu shares", n, "cpu.shares", Str(shares));
            // the kernel clamps silently: report it like runc
            var actual = ReadULong(F(n, "cpu.shares"));
            if (shares > actual) throw new CgroupException(ErrorKind.InvalidArgument, $"cannot set cpu shares: the maximum allowed cpu-shares is {actual}");
            if (shares < actual) throw new CgroupException(ErrorKind.InvalidArgument, $"cannot set cpu shares: the minimum allowed cpu-shares is {actual}");
        }
        var periodPending = false;
        if (period != 0)
        {
            try
            {
                _fs.WriteFile(F(n, "cpu.cfs_period_us"), Str(period));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a smaller period can be refused (EINVAL) until the quota is lowered: retry after the quota
                if (CgroupFileSystem.Errno(e) != Errnos.EINVAL || quota == 0)
                    throw new CgroupException($"cannot set cpu period: write {period} to {F(n, "cpu.cfs_period_us")}: {CgroupFileSystem.Describe(e)}", e);
                periodPending = true;
            }
        }
        if (quota != 0)
        {
            Set("cpu quota", n, "cpu.cfs_quota_us", Str(quota));
            if (periodPending) Set("cpu period", n, "cpu.cfs_period_us", Str(period));
        }
        if (c.Burst is { } burst) Set("cpu burst", n, "cpu.cfs_burst_us", Str(burst));
        if (rtPeriod != 0) Set("cpu realtime period", n, "cpu.rt_period_us", Str(rtPeriod));
        if (rtRuntime != 0) Set("cpu realtime runtime", n, "cpu.rt_runtime_us", Str(rtRuntime));
        if (c.Idle is { } idle) Set("cpu idle", n, "cpu.idle", Str(idle));
    }

    private void CpuV2(Node n, LinuxCPU c, ulong shares, long quota, ulong period, long rtRuntime, ulong rtPeriod)
    {
        if (rtRuntime != 0 || rtPeriod != 0)
            throw new CgroupException(ErrorKind.FailedPrecondition, "cannot set cpu realtime runtime/period: not supported by cgroup v2");
        if (c.Idle is { } idle) Set("cpu idle", n, "cpu.idle", Str(idle));
        if (shares != 0) Set("cpu weight", n, "cpu.weight", Str(CgroupConversions.CpuSharesToWeight(shares)));
        if (quota != 0 || period != 0)
        {
            var value = quota > 0 ? Str(quota) : "max";
            if (period != 0) value += " " + Str(period);
            Set("cpu quota/period", n, "cpu.max", value);
        }
        if (c.Burst is { } burst) Set("cpu burst", n, "cpu.max.burst", Str(burst));
    }

    // ---------------------------------------------------------------- pids

    private void ApplyPids(LinuxPids? p)
    {
        if (p is null) return;
        var n = Require("pids", "pids limit");
        if (p.Limit is not long limit) return;
        Set("pids limit", n, "pids.max", limit > 0 ? Str(limit) : "max");
    }

    // ---------------------------------------------------------------- block IO

    private void ApplyBlockIO(LinuxBlockIO? b)
    {
        if (b is null) return;
        var throttles = new (List<LinuxThrottleDevice>? List, string V1File, string V2Key)[]
        {
            (b.ThrottleReadBpsDevice, "blkio.throttle.read_bps_device", "rbps"),
            (b.ThrottleWriteBpsDevice, "blkio.throttle.write_bps_device", "wbps"),
            (b.ThrottleReadIOPSDevice, "blkio.throttle.read_iops_device", "riops"),
            (b.ThrottleWriteIOPSDevice, "blkio.throttle.write_iops_device", "wiops"),
        };
        var hasWeight = (b.Weight ?? 0) != 0 || (b.LeafWeight ?? 0) != 0
            || (b.WeightDevice ?? []).Any(w => (w.Weight ?? 0) != 0 || (w.LeafWeight ?? 0) != 0);
        var hasThrottle = throttles.Any(t => t.List is { Count: > 0 });
        if (!hasWeight && !hasThrottle) return;

        var v1 = V1("blkio");
        if (v1 is not null)
        {
            if (hasWeight)
            {
                // runc: prefer the BFQ files when present
                var (weightFile, weightDeviceFile) = _fs.FileExists(F(v1, "blkio.bfq.weight"))
                    ? ("blkio.bfq.weight", "blkio.bfq.weight_device")
                    : ("blkio.weight", "blkio.weight_device");
                if ((b.Weight ?? 0) != 0)
                    Set("blkio weight", v1, RequireFile(v1, "blkio weight", weightFile, "blkio.bfq.weight"), Str((ulong)b.Weight!.Value));
                if ((b.LeafWeight ?? 0) != 0)
                    Set("blkio leaf weight", v1, RequireFile(v1, "blkio leaf weight", "blkio.leaf_weight"), Str((ulong)b.LeafWeight!.Value));
                foreach (var w in b.WeightDevice ?? [])
                {
                    if ((w.Weight ?? 0) != 0)
                        Set("blkio weight device", v1, RequireFile(v1, "blkio weight device", weightDeviceFile, "blkio.bfq.weight_device"),
                            $"{w.Major}:{w.Minor} {w.Weight!.Value}");
                    if ((w.LeafWeight ?? 0) != 0)
                        Set("blkio leaf weight device", v1, RequireFile(v1, "blkio leaf weight device", "blkio.leaf_weight_device"),
                            $"{w.Major}:{w.Minor} {w.LeafWeight!.Value}");
                }
            }
            foreach (var (list, file, _) in throttles)
                foreach (var t in list ?? [])
                    Set("blkio throttle", v1, RequireFile(v1, "blkio throttle", file), $"{t.Major}:{t.Minor} {t.Rate}");
            return;
        }

        var n = Require("io", "block IO limits");
        if (hasWeight)
        {
            var bfq = _fs.FileExists(F(n, "io.bfq.weight"));
            if ((b.Weight ?? 0) != 0)
            {
                if (bfq) Set("io weight", n, "io.bfq.weight", Str((ulong)b.Weight!.Value));
                else Set("io weight", n, RequireFile(n, "io weight", "io.weight"), Str(CgroupConversions.BlkioWeightToIoWeight(b.Weight!.Value)));
            }
            if ((b.LeafWeight ?? 0) != 0)
                throw new CgroupException(ErrorKind.FailedPrecondition, "cannot set blkio leaf weight: not supported by cgroup v2");
            foreach (var w in b.WeightDevice ?? [])
            {
                if ((w.LeafWeight ?? 0) != 0)
                    throw new CgroupException(ErrorKind.FailedPrecondition, "cannot set blkio leaf weight device: not supported by cgroup v2");
                if ((w.Weight ?? 0) == 0) continue;
                if (!bfq)
                    throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot set io weight device: {F(n, "io.bfq.weight")} does not exist (per-device weights need the BFQ IO scheduler)");
                Set("io weight device", n, "io.bfq.weight", $"{w.Major}:{w.Minor} {w.Weight!.Value}");
            }
        }
        foreach (var (list, _, key) in throttles)
            foreach (var t in list ?? [])
                Set("io max", n, RequireFile(n, "io max", "io.max"), $"{t.Major}:{t.Minor} {key}={t.Rate}");
    }

    private string RequireFile(Node n, string what, string file, string? alternative = null)
    {
        if (_fs.FileExists(F(n, file))) return file;
        var missing = alternative is null || alternative == file
            ? $"{file} does not exist in {n.Dir}"
            : $"neither {alternative} nor {file} exists in {n.Dir}";
        throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot set {what}: {missing} (the kernel or the IO scheduler does not support it)");
    }

    // ---------------------------------------------------------------- hugetlb

    private void ApplyHugetlb(List<LinuxHugepageLimit>? limits)
    {
        if (limits is null || limits.Count == 0) return;
        var n = Require("hugetlb", "hugepage limits");
        foreach (var h in limits)
        {
            var ps = h.Pagesize ?? ""; // tolerant of a string or string? model
            var (file, rsvd) = n.IsV2
                ? ($"hugetlb.{ps}.max", $"hugetlb.{ps}.rsvd.max")
                : ($"hugetlb.{ps}.limit_in_bytes", $"hugetlb.{ps}.rsvd.limit_in_bytes");
            if (!_fs.FileExists(F(n, file)))
                throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot set hugepage limit: page size {ps} is not supported ({F(n, file)} does not exist)");
            var value = Str(h.Limit);
            Set("hugepage limit", n, file, value);
            if (_fs.FileExists(F(n, rsvd))) Set("hugepage reservation limit", n, rsvd, value);
        }
    }

    // ---------------------------------------------------------------- network

    private void ApplyNetwork(LinuxNetwork? net)
    {
        if (net is null) return;
        if (net.ClassID is { } classId)
        {
            var n = V1("net_cls") ?? throw new CgroupException(ErrorKind.FailedPrecondition, 
                "cannot set network class id: the net_cls cgroup controller is not mounted (cgroup v2 has no net_cls)");
            Set("network class id", n, "net_cls.classid", Str((ulong)classId));
        }
        if (net.Priorities is { Count: > 0 } priorities)
        {
            var n = V1("net_prio") ?? throw new CgroupException(ErrorKind.FailedPrecondition, 
                "cannot set network priorities: the net_prio cgroup controller is not mounted (cgroup v2 has no net_prio)");
            foreach (var p in priorities)
                Set("network priority", n, "net_prio.ifpriomap", $"{p.Name} {p.Priority}");
        }
    }

    // ---------------------------------------------------------------- rdma

    private void ApplyRdma(Dictionary<string, LinuxRdma>? rdma)
    {
        if (rdma is null || rdma.Count == 0) return;
        var n = Require("rdma", "rdma limits");
        foreach (var (device, limits) in rdma)
        {
            var value = device;
            if (limits.HcaHandles is { } handles) value += " hca_handle=" + Str((ulong)handles);
            if (limits.HcaObjects is { } objects) value += " hca_object=" + Str((ulong)objects);
            Set("rdma limit", n, "rdma.max", value);
        }
    }

    // ---------------------------------------------------------------- unified

    private void ApplyUnified(Dictionary<string, string>? unified)
    {
        if (unified is null || unified.Count == 0) return;
        var v2 = V2Node;
        if (Mode == CgroupMode.V1 || v2 is null)
            throw new CgroupException(ErrorKind.FailedPrecondition, "cannot set unified resources: they need cgroup v2 and this host only has cgroup v1");
        foreach (var (key, value) in unified)
        {
            var dot = key.IndexOf('.');
            var controller = dot > 0 ? key[..dot] : key;
            if (Mode == CgroupMode.Hybrid && controller != "cgroup" && Target(controller) != v2)
                throw new CgroupException(ErrorKind.FailedPrecondition, 
                    $"cannot set unified resource {key}: the {controller} controller is not in the cgroup v2 hierarchy of this hybrid host");
            var path = F(v2, key);
            if (!_fs.FileExists(path))
                throw new CgroupException(ErrorKind.FailedPrecondition, $"cannot set unified resource {key}: {path} does not exist (controller {controller} not enabled?)");
            Write($"cannot set unified resource {key}", path, value);
        }
    }
}
