using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Skiff.Cgroups.Systemd;

/// <summary>
/// A D-Bus connection over a unix socket: SASL EXTERNAL authentication (the peer checks our uid with
/// SO_PEERCRED), Hello, method calls and signals. Messages that arrive while a reply is awaited (signals,
/// calls to us) are queued for <see cref="Receive"/>. Not thread safe.
/// </summary>
public sealed class DBusConnection : IDisposable
{
    public const string SystemBusDefaultAddress = "unix:path=/run/dbus/system_bus_socket";
    private const string BusName = "org.freedesktop.DBus";
    private const string BusPath = "/org/freedesktop/DBus";

    private readonly Socket _socket;
    private readonly Queue<DBusMessage> _pending = new();
    private uint _serial;

    private DBusConnection(Socket socket) => _socket = socket;

    /// <summary>Our unique name on the bus (":1.42"), from Hello.</summary>
    public string UniqueName { get; private set; } = "";

    /// <summary>How long a call waits for its reply.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>$DBUS_SYSTEM_BUS_ADDRESS, else the standard socket.</summary>
    public static string SystemBusAddress =>
        Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS") is { Length: > 0 } address ? address : SystemBusDefaultAddress;

    /// <summary>Connects to the first usable "unix:path=" or "unix:abstract=" entry of a D-Bus address, authenticates and says Hello.</summary>
    public static DBusConnection Connect(string address)
    {
        var endpoint = ParseAddress(address);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(endpoint);
            var connection = new DBusConnection(socket);
            connection.Authenticate();
            connection.UniqueName = (string)connection.Call(DBusMessage.MethodCall(BusName, BusPath, BusName, "Hello"))[0];
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    internal static UnixDomainSocketEndPoint ParseAddress(string address)
    {
        foreach (var entry in address.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!entry.StartsWith("unix:", StringComparison.Ordinal)) continue;
            foreach (var pair in entry[5..].Split(','))
            {
                var eq = pair.IndexOf('=');
                if (eq < 0) continue;
                var value = Unescape(pair[(eq + 1)..]);
                switch (pair[..eq])
                {
                    case "path": return new UnixDomainSocketEndPoint(value);
                    case "abstract": return new UnixDomainSocketEndPoint("\0" + value);
                }
            }
        }
        throw new DBusException("org.freedesktop.DBus.Error.BadAddress", $"D-Bus address \"{address}\" has no unix:path= or unix:abstract= entry");
    }

    /// <summary>D-Bus addresses escape bytes as %xx.</summary>
    private static string Unescape(string value)
    {
        if (!value.Contains('%')) return value;
        var bytes = new List<byte>();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length
                && byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private void Authenticate()
    {
        var uid = Skiff.Interop.Interop.Libc.GetEuid().ToString(CultureInfo.InvariantCulture);
        var hexUid = Convert.ToHexString(Encoding.ASCII.GetBytes(uid)).ToLowerInvariant();
        // The protocol starts with one NUL byte (which carries credentials on systems without SO_PEERCRED).
        Send(Encoding.ASCII.GetBytes($"\0AUTH EXTERNAL {hexUid}\r\n"));
        var reply = ReadLine();
        if (!reply.StartsWith("OK ", StringComparison.Ordinal))
            throw new DBusException("org.freedesktop.DBus.Error.AuthFailed", $"D-Bus authentication as uid {uid} was refused: {reply}");
        Send("BEGIN\r\n"u8);
    }

    private string ReadLine()
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (line.Count < 4096)
        {
            ReceiveExactly(one);
            if (one[0] == (byte)'\n') return Encoding.ASCII.GetString(line.ToArray()).TrimEnd('\r');
            line.Add(one[0]);
        }
        throw new DBusException("org.freedesktop.DBus.Error.AuthFailed", "D-Bus authentication: the bus sent an overlong line");
    }

    private void Send(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
            bytes = bytes[_socket.Send(bytes)..];
    }

    private void ReceiveExactly(Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var n = _socket.Receive(buffer);
            if (n == 0) throw new DBusException("org.freedesktop.DBus.Error.Disconnected", "the D-Bus connection was closed by the bus");
            buffer = buffer[n..];
        }
    }

    /// <summary>Sends a message with the next serial, which it returns.</summary>
    public uint Send(DBusMessage message)
    {
        message.Serial = ++_serial;
        Send(message.Encode());
        return message.Serial;
    }

    /// <summary>Reads the next message from the socket, waiting until <paramref name="deadline"/>.</summary>
    private DBusMessage ReadMessage(DateTime deadline)
    {
        var remaining = deadline - DateTime.UtcNow;
        if (remaining <= TimeSpan.Zero || !_socket.Poll(remaining, SelectMode.SelectRead))
            throw new TimeoutException();
        var start = new byte[16];
        ReceiveExactly(start);
        var frame = new byte[DBusMessage.FrameLength(start)];
        start.CopyTo(frame, 0);
        ReceiveExactly(frame.AsSpan(16));
        return DBusMessage.Decode(frame);
    }

    /// <summary>The next queued or incoming message other than a reply; null when none arrived within <paramref name="timeout"/>.</summary>
    public DBusMessage? Receive(TimeSpan timeout)
    {
        if (_pending.Count > 0) return _pending.Dequeue();
        try { return ReadMessage(DateTime.UtcNow + timeout); }
        catch (TimeoutException) { return null; }
    }

    /// <summary>Calls a method and returns the reply's body; an error reply becomes a <see cref="DBusException"/>.</summary>
    public IReadOnlyList<object> Call(DBusMessage call)
    {
        var serial = Send(call);
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            DBusMessage message;
            try { message = ReadMessage(deadline); }
            catch (TimeoutException)
            {
                throw new DBusException("org.freedesktop.DBus.Error.NoReply",
                    $"no reply to {call.Interface}.{call.Member} from {call.Destination} within {Timeout.TotalSeconds:0} s");
            }
            if (message.ReplySerial != serial || message.Type is not (DBusMessageType.MethodReturn or DBusMessageType.Error))
            {
                _pending.Enqueue(message);
                continue;
            }
            if (message.Type == DBusMessageType.Error)
                throw new DBusException(message.ErrorName ?? "org.freedesktop.DBus.Error.Failed",
                    message.Body.Count > 0 && message.Body[0] is string text ? text : message.ErrorName ?? "D-Bus error");
            return message.Body;
        }
    }

    /// <summary>Waits for a signal matching <paramref name="match"/>; other messages stay queued.</summary>
    public DBusMessage WaitForSignal(Func<DBusMessage, bool> match, TimeSpan timeout, string what)
    {
        foreach (var queued in _pending)
        {
            if (queued.Type == DBusMessageType.Signal && match(queued))
            {
                var rest = _pending.Where(m => !ReferenceEquals(m, queued)).ToArray();
                _pending.Clear();
                foreach (var m in rest) _pending.Enqueue(m);
                return queued;
            }
        }
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            DBusMessage message;
            try { message = ReadMessage(deadline); }
            catch (TimeoutException)
            {
                throw new DBusException("org.freedesktop.DBus.Error.Timeout", $"{what} did not arrive within {timeout.TotalSeconds:0} s");
            }
            if (message.Type == DBusMessageType.Signal && match(message)) return message;
            _pending.Enqueue(message);
        }
    }

    /// <summary>Subscribes to signals matching a match rule ("type='signal',interface='…'").</summary>
    public void AddMatch(string rule) =>
        Call(DBusMessage.MethodCall(BusName, BusPath, BusName, "AddMatch", "s", rule));

    public bool NameHasOwner(string name) =>
        (bool)Call(DBusMessage.MethodCall(BusName, BusPath, BusName, "NameHasOwner", "s", name))[0];

    /// <summary>Claims a well-known name (DBUS_NAME_FLAG_DO_NOT_QUEUE); false when another connection owns it.</summary>
    public bool RequestName(string name) =>
        (uint)Call(DBusMessage.MethodCall(BusName, BusPath, BusName, "RequestName", "su", name, 4u))[0] == 1;

    public void Dispose() => _socket.Dispose();
}
