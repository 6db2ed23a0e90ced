using Skiff.Cgroups;

namespace Skiff.Runtime.State;

/// <summary>What the runtime remembers about one container between invocations (state.json in its state dir, see ContainerRecordJson).</summary>
public sealed class ContainerRecord
{
    public string Id { get; set; } = "";
    public int Pid { get; set; }
    /// <summary>Start time of the init process in clock ticks since boot (/proc/PID/stat field 22): tells a recycled pid apart.</summary>
    public ulong PidStartTime { get; set; }
    public string Bundle { get; set; } = "";
    public DateTimeOffset Created { get; set; }
    public string Owner { get; set; } = "";
    public CgroupPaths? Cgroups { get; set; }
    public bool Paused { get; set; }
}
