using System.Text.Json;
using Skiff.Cgroups;
using Skiff.Oci;
using Skiff.Runtime.State;

namespace Skiff.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// pause: freezes every process of the container (v1 freezer, cgroup.freeze on v2); a created one too, as
    /// runc. The errors carry runc's "container not running" / "container not paused" that engines match on.
    /// </summary>
    public void Pause(string id)
    {
        var status = StatusOf(id, out var record);
        if (status is not (ContainerStatus.Running or ContainerStatus.Created))
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot pause \"{id}\": container not running (it is {status.ToSpecString()})");
        CgroupsOf(id, record).Freeze();
        record.Paused = true;
        Store.Save(record);
    }

    /// <summary>resume: thaws a paused container.</summary>
    public void Resume(string id)
    {
        var status = StatusOf(id, out var record);
        if (status != ContainerStatus.Paused)
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot resume \"{id}\": container not paused (it is {status.ToSpecString()})");
        CgroupsOf(id, record).Thaw();
        record.Paused = false;
        Store.Save(record);
    }

    /// <summary>
    /// update: applies new limits to a live container and records them in its saved config, so
    /// a later `update` or `state` starts from what is in force. Only the sections given change.
    /// </summary>
    public void Update(string id, LinuxResources changes)
    {
        var status = StatusOf(id, out var record);
        if (status is ContainerStatus.Stopped or ContainerStatus.Creating)
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot update container \"{id}\": it is {status.ToSpecString()}");
        var spec = Store.LoadSpec(id);
        var current = spec.Linux?.Resources ?? new LinuxResources();
        var merged = Merge(current, changes);
        if (changes.Devices is not null)
        {
            // The same effective list as at create: new rules, then the devices every container needs.
            var withDefaults = Clone(changes);
            withDefaults.Devices = Policy.DeviceRules.Effective(new Linux { Resources = changes, Devices = spec.Linux?.Devices });
            changes = withDefaults;
        }
        CgroupsOf(id, record).Apply(changes);
        spec.Linux ??= new Linux();
        spec.Linux.Resources = merged;
        Store.SaveSpec(id, spec);
    }

    private static ICgroupManager CgroupsOf(string id, ContainerRecord record)
        => record.Cgroups is null
            ? throw new RuntimeException(ErrorKind.FailedPrecondition, $"container \"{id}\" has no cgroups recorded: it was created by an older skiff-runtime")
            : CgroupManagers.FromPaths(record.Cgroups);

    /// <summary>Field by field: what <paramref name="changes"/> sets wins, everything else stays.</summary>
    internal static LinuxResources Merge(LinuxResources current, LinuxResources changes)
    {
        var merged = Clone(current);
        if (changes.Memory is { } memory)
        {
            var target = merged.Memory ??= new LinuxMemory();
            target.Limit = memory.Limit ?? target.Limit;
            target.Reservation = memory.Reservation ?? target.Reservation;
            target.Swap = memory.Swap ?? target.Swap;
            target.Kernel = memory.Kernel ?? target.Kernel;
            target.KernelTCP = memory.KernelTCP ?? target.KernelTCP;
            target.Swappiness = memory.Swappiness ?? target.Swappiness;
            target.DisableOOMKiller = memory.DisableOOMKiller ?? target.DisableOOMKiller;
            target.UseHierarchy = memory.UseHierarchy ?? target.UseHierarchy;
            target.CheckBeforeUpdate = memory.CheckBeforeUpdate ?? target.CheckBeforeUpdate;
        }
        if (changes.CPU is { } cpu)
        {
            var target = merged.CPU ??= new LinuxCPU();
            target.Shares = cpu.Shares ?? target.Shares;
            target.Quota = cpu.Quota ?? target.Quota;
            target.Burst = cpu.Burst ?? target.Burst;
            target.Period = cpu.Period ?? target.Period;
            target.RealtimeRuntime = cpu.RealtimeRuntime ?? target.RealtimeRuntime;
            target.RealtimePeriod = cpu.RealtimePeriod ?? target.RealtimePeriod;
            target.Cpus = cpu.Cpus ?? target.Cpus;
            target.Mems = cpu.Mems ?? target.Mems;
            target.Idle = cpu.Idle ?? target.Idle;
        }
        if (changes.Pids is { } pids)
            merged.Pids = pids;
        if (changes.BlockIO is { } blockIO)
            merged.BlockIO = blockIO;
        if (changes.HugepageLimits is { } hugepages)
            merged.HugepageLimits = hugepages;
        if (changes.Network is { } network)
            merged.Network = network;
        if (changes.Rdma is { } rdma)
            merged.Rdma = rdma;
        if (changes.Unified is { } unified)
            merged.Unified = unified;
        if (changes.Devices is { } devices)
            merged.Devices = devices;
        return merged;
    }

    private static LinuxResources Clone(LinuxResources resources)
        => JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(resources, OciJsonContext.Default.LinuxResources), OciJsonContext.Default.LinuxResources)!;
}
