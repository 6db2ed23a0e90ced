using Skiff.Cgroups;
using Skiff.Cgroups.Systemd;

namespace Skiff.Integration.Tests.Systemd;

/// <summary>
/// Owns org.freedesktop.systemd1 on a <see cref="PrivateBus"/> and does what systemd's Manager does for the
/// cgroup driver: StartTransientUnit creates the scope's cgroups on this host's cgroupfs and moves the pids
/// in, StopUnit removes them, each ending with the JobRemoved signal; SetUnitProperties is recorded.
/// </summary>
public sealed class FakeSystemd : IDisposable
{
    private readonly DBusConnection _bus;
    private readonly Thread _loop;
    private readonly Dictionary<string, CgroupManager> _units = new();
    private readonly List<(string Method, string Unit, Dictionary<string, object> Properties)> _calls = new();
    private volatile bool _stopping;
    private readonly string _startResult;
    private uint _jobs;

    /// <summary><paramref name="startResult"/> other than "done" makes every StartTransientUnit job end so, creating nothing.</summary>
    public FakeSystemd(string address, string startResult = "done")
    {
        _startResult = startResult;
        _bus = DBusConnection.Connect(address);
        if (!_bus.RequestName(SystemdClient.Service))
        {
            _bus.Dispose();
            throw new InvalidOperationException($"{SystemdClient.Service} is already owned on {address}");
        }
        _loop = new Thread(Serve) { IsBackground = true, Name = "fake systemd" };
        _loop.Start();
    }

    /// <summary>Manager calls received so far: method, unit and the a(sv) properties by name (values unwrapped).</summary>
    public List<(string Method, string Unit, Dictionary<string, object> Properties)> Calls
    {
        get
        {
            lock (_calls) return [.. _calls];
        }
    }

    /// <summary>Units started and not stopped.</summary>
    public IReadOnlyList<string> Units
    {
        get
        {
            lock (_units) return [.. _units.Keys];
        }
    }

    /// <summary>A failure in the serving thread, reported by the test instead of vanishing.</summary>
    public Exception? Failure { get; private set; }

    private void Serve()
    {
        try
        {
            while (!_stopping)
            {
                var message = _bus.Receive(TimeSpan.FromMilliseconds(100));
                if (message is { Type: DBusMessageType.MethodCall })
                    Handle(message);
            }
        }
        catch (Exception e) when (!_stopping)
        {
            Failure = e;
        }
    }

    private void Handle(DBusMessage call)
    {
        if (call.Interface != SystemdClient.ManagerInterface)
        {
            Reply(call, error: ("org.freedesktop.DBus.Error.UnknownInterface", $"no interface {call.Interface}"));
            return;
        }
        var unit = (string)call.Body[0];
        switch (call.Member)
        {
            case "StartTransientUnit":
            {
                var properties = Record(call.Member, unit, call.Body[2]);
                if (_startResult != "done")
                {
                    FinishJob(call, unit, _startResult);
                    break;
                }
                var slice = (string)properties["Slice"];
                var manager = CgroupManager.Create("fake", SystemdUnit.ExpandSlice(slice).TrimEnd('/') + "/" + unit);
                manager.Create();
                foreach (var pid in (IReadOnlyList<object>)properties["PIDs"])
                    manager.AddProcess((int)(uint)pid);
                lock (_units) _units[unit] = manager;
                FinishJob(call, unit, "done");
                break;
            }
            case "StopUnit":
            {
                Record(call.Member, unit, null);
                CgroupManager? manager;
                lock (_units)
                {
                    if (_units.Remove(unit, out manager) is false)
                    {
                        Reply(call, error: (SystemdClient.NoSuchUnitError, $"Unit {unit} not loaded."));
                        return;
                    }
                }
                var result = "done";
                try { manager!.Destroy(); }
                catch (CgroupException) { result = "failed"; }
                FinishJob(call, unit, result);
                break;
            }
            case "SetUnitProperties":
                Record(call.Member, unit, call.Body[2]);
                Reply(call);
                break;
            default:
                Reply(call, error: ("org.freedesktop.DBus.Error.UnknownMethod", $"no method {call.Member}"));
                break;
        }
    }

    private Dictionary<string, object> Record(string method, string unit, object? properties)
    {
        var byName = new Dictionary<string, object>();
        foreach (var p in (IReadOnlyList<object>?)properties ?? [])
        {
            var pair = (object[])p;
            byName[(string)pair[0]] = ((DBusVariant)pair[1]).Value;
        }
        lock (_calls) _calls.Add((method, unit, byName));
        return byName;
    }

    /// <summary>systemd replies with the job's path, and signals JobRemoved when the job is over.</summary>
    private void FinishJob(DBusMessage call, string unit, string result)
    {
        var id = ++_jobs;
        var job = $"{SystemdClient.ObjectPath}/job/{id}";
        Reply(call, "o", job);
        _bus.Send(new DBusMessage
        {
            Type = DBusMessageType.Signal, Path = SystemdClient.ObjectPath, Interface = SystemdClient.ManagerInterface,
            Member = "JobRemoved", Signature = "uoss", Body = [id, job, unit, result],
        });
    }

    private void Reply(DBusMessage call, string signature = "", object? value = null, (string Name, string Text)? error = null)
    {
        _bus.Send(new DBusMessage
        {
            Type = error is null ? DBusMessageType.MethodReturn : DBusMessageType.Error,
            Flags = DBusMessage.NoReplyExpected,
            ReplySerial = call.Serial,
            Destination = call.Sender,
            ErrorName = error?.Name,
            Signature = error is null ? signature : "s",
            Body = error is { } e ? [e.Text] : value is null ? [] : [value],
        });
    }

    public void Dispose()
    {
        _stopping = true;
        _loop.Join();
        _bus.Dispose();
        lock (_units)
        {
            foreach (var manager in _units.Values)
            {
                try { manager.Destroy(); }
                catch (CgroupException) { /* the test's own cleanup reports what is left */ }
            }
            _units.Clear();
        }
    }
}
