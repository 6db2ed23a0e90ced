using Skiff.Oci;

namespace Skiff.Cgroups.Systemd;

/// <summary>
/// The systemd cgroup driver (runc --systemd-cgroup): the container's cgroup is a transient scope that
/// systemd creates with the init's pid and the resources it knows as properties; the directories of every
/// hierarchy below the scope are then handled by the cgroupfs manager (runc's systemd managers do the same
/// for everything systemd does not cover). Delete stops the unit, then removes what systemd left.
///
/// skiff-init puts the init into the scope's directories itself, so <see cref="Create"/> makes them first and
/// the unit is started in <see cref="RegisterInit"/>, while the init waits: systemd then adopts a process that
/// is already where it belongs.
/// </summary>
public sealed class SystemdCgroupManager : ICgroupManager
{
    public const string NotRunningMessage =
        "systemd cgroup driver: systemd is not running (pid 1 is not systemd); use the cgroupfs driver instead";

    private readonly CgroupManager _fs;
    private readonly SystemdUnit? _unit;
    private readonly string _unitName;
    private readonly string _busAddress;
    private SystemdClient? _client;
    private LinuxResources? _resources;
    /// <summary>False until the unit may exist: a create rolled back before its start has no unit to stop.</summary>
    private bool _unitMayExist;

    private SystemdCgroupManager(CgroupManager fs, SystemdUnit? unit, string unitName, string busAddress, bool unitMayExist)
    {
        _fs = fs;
        _unit = unit;
        _unitName = unitName;
        _busAddress = busAddress;
        _unitMayExist = unitMayExist;
    }

    public string UnitName => _unitName;

    /// <summary>Manager for a new container on the real host, on the system bus ($DBUS_SYSTEM_BUS_ADDRESS or the standard socket).</summary>
    public static SystemdCgroupManager Create(string containerId, string? cgroupsPath) =>
        Create(CgroupFileSystem.Host, containerId, cgroupsPath, Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS"));

    /// <summary>
    /// Without an explicit <paramref name="busAddress"/>, systemd must be running here (/run/systemd/system, as
    /// sd_booted checks); an explicit address names the bus where systemd is, which <see cref="Create()"/> checks.
    /// </summary>
    public static SystemdCgroupManager Create(CgroupFileSystem fs, string containerId, string? cgroupsPath, string? busAddress)
    {
        var address = BusAddress(fs, busAddress) ?? throw new CgroupException(ErrorKind.Unavailable, NotRunningMessage);
        var unit = SystemdUnit.Parse(containerId, cgroupsPath);
        var cgroups = CgroupManager.Create(fs, containerId, unit.CgroupPath);
        return new SystemdCgroupManager(cgroups, unit, unit.Name, address, unitMayExist: false);
    }

    /// <summary>The bus to ask systemd on; null when systemd is not running and no bus was named.</summary>
    private static string? BusAddress(CgroupFileSystem fs, string? busAddress) =>
        !string.IsNullOrEmpty(busAddress) ? busAddress
        : fs.DirectoryExists("/run/systemd/system") ? DBusConnection.SystemBusDefaultAddress
        : null;

    /// <summary>Whether the driver works here (features): systemd runs, or a bus is named, and it answers there.</summary>
    public static bool IsUsable()
    {
        var address = BusAddress(CgroupFileSystem.Host, Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS"));
        if (address is null) return false;
        try
        {
            using var client = SystemdClient.Connect(address);
            return true;
        }
        catch (CgroupException)
        {
            return false;
        }
    }

    /// <summary>Rebuilds the manager of a container from its saved paths (delete, update, ...).</summary>
    public static SystemdCgroupManager FromPaths(CgroupPaths paths) =>
        new(CgroupManager.FromPaths(paths),
            unit: null,
            paths.SystemdUnit ?? throw new ArgumentException("the saved cgroup paths name no systemd unit", nameof(paths)),
            DBusConnection.SystemBusAddress,
            unitMayExist: true);

    public CgroupMode Mode => _fs.Mode;

    public CgroupPaths Paths
    {
        get
        {
            var paths = _fs.Paths;
            paths.SystemdUnit = _unitName;
            return paths;
        }
    }

    public IReadOnlyList<string> ProcsFiles => _fs.ProcsFiles;

    public IReadOnlyList<CgroupDirectory> Directories => _fs.Directories;

    public IReadOnlyList<CgroupMountSource> MountSources => _fs.MountSources;

    public bool EnforcesDeviceRules => _fs.EnforcesDeviceRules;

    public bool RegistersInit => true;

    private SystemdClient Client => _client ??= SystemdClient.Connect(_busAddress);

    /// <summary>Checks that systemd answers before anything is made, then makes the scope's directories.</summary>
    public void Create()
    {
        _ = Client;
        _fs.Create();
    }

    /// <summary>
    /// Before the unit runs: written through cgroupfs now (so bad values fail before the container starts) and
    /// kept for the unit's properties. Afterwards (update): SetUnitProperties, then cgroupfs.
    /// </summary>
    public void Apply(LinuxResources? resources)
    {
        var properties = SystemdProperties.FromResources(resources, Mode);
        if (_unit is not null && !_unitMayExist)
        {
            _fs.Apply(resources);
            _resources = resources;
            return;
        }
        if (properties.Count > 0)
        {
            using var client = SystemdClient.Connect(_busAddress);
            client.SetUnitProperties(_unitName, properties);
        }
        _fs.Apply(resources);
    }

    /// <summary>StartTransientUnit with the init's pid and the resources, then cgroupfs writes them all again
    /// (runc's order), as systemd may have reset what it does not manage (device rules, swap, ...).</summary>
    public void RegisterInit(int pid)
    {
        if (_unit is null) throw new InvalidOperationException("the unit of a container rebuilt from saved paths is already running");
        var properties = SystemdProperties.ForNewUnit(_unit, pid, Mode);
        properties.AddRange(SystemdProperties.FromResources(_resources, Mode));
        _unitMayExist = true;
        try
        {
            Client.StartTransientUnit(_unitName, properties);
        }
        finally
        {
            _client?.Dispose();
            _client = null;
        }
        _fs.Apply(_resources);
    }

    public void AddProcess(int pid) => _fs.AddProcess(pid);

    public IReadOnlyList<int> GetPids() => _fs.GetPids();

    public CgroupStats GetStats() => _fs.GetStats();

    public OomNotifier WatchOom() => _fs.WatchOom();

    public void Freeze() => _fs.Freeze();

    public void Thaw() => _fs.Thaw();

    /// <summary>StopUnit (systemd removes the scope's cgroups), then the cgroupfs removal of whatever is left.</summary>
    public void Destroy()
    {
        _client?.Dispose();
        _client = null;
        CgroupException? stopFailed = null;
        if (_unitMayExist)
        {
            try
            {
                using var client = SystemdClient.Connect(_busAddress);
                client.StopUnit(_unitName);
            }
            catch (CgroupException e)
            {
                stopFailed = e;
            }
        }
        _fs.Destroy();
        if (stopFailed is not null) throw stopFailed;
    }
}
