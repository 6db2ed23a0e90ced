using Skiff.Cgroups.Systemd;

namespace Skiff.Cgroups.Tests.Systemd;

public sealed class DBusMessageTests
{
    [Fact]
    public void A_call_encodes_as_the_specification_lays_it_out()
    {
        var bytes = DBusMessage.MethodCall("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", "a").Encode();
        Assert.Equal((byte)'l', bytes[0]);
        Assert.Equal(1, bytes[1]); // method call
        Assert.Equal(1, bytes[3]); // protocol version
        Assert.Equal(6, BitConverter.ToInt32(bytes, 4)); // body: u32 length 1, 'a', NUL
        Assert.Equal(0, (bytes.Length - 6) % 8); // the body starts 8-aligned
        Assert.Equal(new byte[] { 1, 0, 0, 0, (byte)'a', 0 }, bytes[^6..]);
        Assert.Equal(bytes.Length, DBusMessage.FrameLength(bytes));
    }

    [Fact]
    public void Start_transient_unit_round_trips()
    {
        var unit = SystemdUnit.Parse("c1", "system.slice:skiff:c1");
        var props = SystemdProperties.ForNewUnit(unit, 77, Skiff.Cgroups.CgroupMode.Hybrid);
        props.Add(SystemdProperty.Bytes("AllowedCPUs", [3]));
        props.Add(SystemdProperty.UInt64("MemoryLimit", 1 << 20));
        var call = DBusMessage.MethodCall(SystemdClient.Service, SystemdClient.ObjectPath, SystemdClient.ManagerInterface,
            "StartTransientUnit", "ssa(sv)a(sa(sv))", unit.Name, "replace", props.Select(p => (object)p.ToWire()).ToList(), new List<object>());
        call.Serial = 9;
        var decoded = DBusMessage.Decode(call.Encode());
        Assert.Equal(DBusMessageType.MethodCall, decoded.Type);
        Assert.Equal(9u, decoded.Serial);
        Assert.Equal("StartTransientUnit", decoded.Member);
        Assert.Equal(SystemdClient.Service, decoded.Destination);
        Assert.Equal("ssa(sv)a(sa(sv))", decoded.Signature);
        Assert.Equal("skiff-c1.scope", decoded.Body[0]);
        var back = ((IReadOnlyList<object>)decoded.Body[2]).Cast<object[]>().ToDictionary(p => (string)p[0], p => (DBusVariant)p[1]);
        Assert.Equal(props.Select(p => p.Name), back.Keys);
        Assert.Equal([77u], (IEnumerable<object>)back["PIDs"].Value);
        Assert.Equal(new byte[] { 3 }, back["AllowedCPUs"].Value);
        Assert.Equal((ulong)(1 << 20), back["MemoryLimit"].Value);
        Assert.Equal(true, back["Delegate"].Value);
        Assert.Empty((IReadOnlyList<object>)decoded.Body[3]);
    }

    [Theory]
    [InlineData("ssa(sv)a(sa(sv))", new[] { "s", "s", "a(sv)", "a(sa(sv))" })]
    [InlineData("a{sv}u", new[] { "a{sv}", "u" })]
    public void Signatures_split_into_complete_types(string signature, string[] types) =>
        Assert.Equal(types, DBusSignature.Split(signature));

    [Theory]
    [InlineData("a")]
    [InlineData("(s")]
    [InlineData("()")]
    [InlineData("z")]
    public void Bad_signatures_are_refused(string signature)
    {
        var e = Assert.Throws<DBusException>(() => DBusSignature.Split(signature));
        Assert.Equal("org.freedesktop.DBus.Error.InvalidSignature", e.Name);
        Assert.Equal(ErrorKind.Internal, e.Kind);
    }

    [Fact]
    public void Addresses_name_a_unix_socket()
    {
        Assert.Equal("/run/dbus/system_bus_socket", DBusConnection.ParseAddress("unix:path=/run/dbus/system_bus_socket").ToString());
        Assert.Equal("/tmp/a b", DBusConnection.ParseAddress("tcp:host=x;unix:path=/tmp/a%20b,guid=1").ToString());
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<DBusException>(() => DBusConnection.ParseAddress("tcp:host=localhost,port=1")).Kind);
    }

    [Theory]
    [InlineData("org.freedesktop.systemd1.NoSuchUnit", ErrorKind.NotFound)]
    [InlineData("org.freedesktop.systemd1.UnitExists", ErrorKind.AlreadyExists)]
    [InlineData("org.freedesktop.DBus.Error.AccessDenied", ErrorKind.PermissionDenied)]
    [InlineData("org.freedesktop.DBus.Error.NoReply", ErrorKind.Unavailable)]
    public void Error_replies_have_the_kind_of_their_name(string name, ErrorKind kind) =>
        Assert.Equal(kind, new DBusException(name, "reply").Kind);
}
