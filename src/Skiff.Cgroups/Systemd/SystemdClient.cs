namespace Skiff.Cgroups.Systemd;

/// <summary>
/// The org.freedesktop.systemd1.Manager calls the cgroup driver needs, each waiting for its job like
/// runc does (the JobRemoved signal of the job the call queued). Failures are <see cref="CgroupException"/>s
/// whose message names the call, the unit and the bus.
/// </summary>
public sealed class SystemdClient : IDisposable
{
    public const string Service = "org.freedesktop.systemd1";
    public const string ObjectPath = "/org/freedesktop/systemd1";
    public const string ManagerInterface = "org.freedesktop.systemd1.Manager";
    public const string NoSuchUnitError = "org.freedesktop.systemd1.NoSuchUnit";
    public const string UnitExistsError = "org.freedesktop.systemd1.UnitExists";

    /// <summary>runc's wait for a unit job.</summary>
    public static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(30);

    private readonly DBusConnection _bus;
    private readonly string _address;

    private SystemdClient(DBusConnection bus, string address)
    {
        _bus = bus;
        _address = address;
    }

    /// <summary>Connects to the bus at <paramref name="address"/> and checks that systemd is on it.</summary>
    public static SystemdClient Connect(string address)
    {
        DBusConnection bus;
        try
        {
            bus = DBusConnection.Connect(address);
        }
        catch (Exception e) when (e is DBusException or System.Net.Sockets.SocketException or IOException)
        {
            throw new CgroupException(ErrorKind.Unavailable, $"systemd cgroup driver: cannot connect to the system bus at {address}: {e.Message}; start dbus, or use the cgroupfs driver", e);
        }
        try
        {
            if (!bus.NameHasOwner(Service))
                throw new CgroupException(ErrorKind.Unavailable, $"systemd cgroup driver: systemd is not on the system bus at {address} ({Service} has no owner); use the cgroupfs driver instead");
            bus.AddMatch($"type='signal',sender='{Service}',path='{ObjectPath}',interface='{ManagerInterface}',member='JobRemoved'");
            return new SystemdClient(bus, address);
        }
        catch (Exception e)
        {
            bus.Dispose();
            if (e is DBusException or System.Net.Sockets.SocketException or IOException)
                throw new CgroupException(ErrorKind.Unavailable, $"systemd cgroup driver: the system bus at {address} failed: {e.Message}; use the cgroupfs driver instead", e);
            throw;
        }
    }

    public void StartTransientUnit(string unit, IReadOnlyList<SystemdProperty> properties)
    {
        var wire = properties.Select(p => (object)p.ToWire()).ToList();
        var job = CallForJob("StartTransientUnit", unit, "ssa(sv)a(sa(sv))", unit, "replace", wire, new List<object>());
        WaitForJob("StartTransientUnit", unit, job);
    }

    /// <summary>Stops the unit; one that does not exist (any more) is fine.</summary>
    public void StopUnit(string unit)
    {
        string job;
        try
        {
            job = CallForJob("StopUnit", unit, "ss", unit, "replace");
        }
        catch (CgroupException e) when (e.InnerException is DBusException { Name: NoSuchUnitError })
        {
            return;
        }
        WaitForJob("StopUnit", unit, job);
    }

    /// <summary>Changes a live unit's properties (runtime only: not persisted across a reboot).</summary>
    public void SetUnitProperties(string unit, IReadOnlyList<SystemdProperty> properties)
    {
        var wire = properties.Select(p => (object)p.ToWire()).ToList();
        Call("SetUnitProperties", unit, "sba(sv)", unit, true, wire);
    }

    private string CallForJob(string method, string unit, string signature, params object[] body) =>
        (string)Call(method, unit, signature, body)[0];

    private IReadOnlyList<object> Call(string method, string unit, string signature, params object[] body)
    {
        try
        {
            return _bus.Call(DBusMessage.MethodCall(Service, ObjectPath, ManagerInterface, method, signature, body));
        }
        catch (Exception e) when (e is DBusException or System.Net.Sockets.SocketException or IOException)
        {
            var hint = e is DBusException { Name: UnitExistsError } ? " (another container uses the same cgroupsPath?)" : "";
            throw new CgroupException($"systemd cgroup driver: {method} {unit}: {e.Message}{hint}", e);
        }
    }

    private void WaitForJob(string method, string unit, string job)
    {
        DBusMessage removed;
        try
        {
            removed = _bus.WaitForSignal(
                m => m.Member == "JobRemoved" && m.Interface == ManagerInterface && m.Body.Count == 4 && (string)m.Body[1] == job,
                JobTimeout, $"the end of systemd job {job} ({method} {unit}) on {_address}");
        }
        catch (Exception e) when (e is DBusException or System.Net.Sockets.SocketException or IOException)
        {
            throw new CgroupException($"systemd cgroup driver: {method} {unit}: {e.Message}", e);
        }
        var result = (string)removed.Body[3];
        if (result != "done")
            throw new CgroupException($"systemd cgroup driver: {method} {unit}: the job ended with \"{result}\" instead of \"done\" (see journalctl -u {unit})");
    }

    public void Dispose() => _bus.Dispose();
}
