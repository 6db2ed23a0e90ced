using Skiff.Cgroups;
using Skiff.Oci;

namespace Skiff.Runtime.Tests;

/// <summary>Placement data only: the plan compiler never touches cgroupfs itself.</summary>
internal sealed class FakeCgroups(CgroupMode mode, params CgroupDirectory[] directories) : ICgroupManager
{
    public CgroupMode Mode => mode;
    public CgroupPaths Paths => new() { Mode = mode };
    public IReadOnlyList<string> ProcsFiles => directories.Select(d => d.Path + "/cgroup.procs").ToArray();
    public IReadOnlyList<CgroupDirectory> Directories => directories;
    public List<CgroupMountSource> Sources { get; } = [];
    public IReadOnlyList<CgroupMountSource> MountSources => Sources;
    public bool EnforcesDeviceRules => true;
    public void Create() => throw new NotSupportedException();
    public void Apply(LinuxResources? resources) => throw new NotSupportedException();
    public bool RegistersInit { get; init; }
    public void RegisterInit(int pid) => throw new NotSupportedException();
    public void AddProcess(int pid) => throw new NotSupportedException();
    public IReadOnlyList<int> GetPids() => [];
    public CgroupStats GetStats() => throw new NotSupportedException();
    public OomNotifier WatchOom() => throw new NotSupportedException();
    public void Freeze() => throw new NotSupportedException();
    public void Thaw() => throw new NotSupportedException();
    public void Destroy() => throw new NotSupportedException();
}
