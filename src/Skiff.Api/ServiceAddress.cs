using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Skiff.Engine;
using Skiff.Interop;

namespace Skiff.Api;

/// <summary>
/// Where the service listens: `unix:///PATH` (the default, /run/skiff/skiff.sock) or `tcp://127.0.0.1:PORT`. TCP
/// carries no authentication, so it is refused unless asked for with --insecure-tcp, and only on a loopback
/// address: any local user may still connect, which is why it is "insecure" (TLS is not served yet).
/// </summary>
internal sealed record ServiceAddress(string? SocketPath, IPEndPoint? Tcp)
{
    public const string Default = "unix:///run/skiff/skiff.sock";

    public static ServiceAddress Parse(string uri, bool insecureTcp)
    {
        if (uri.StartsWith("unix://", StringComparison.Ordinal))
        {
            string path = uri["unix://".Length..];
            if (!Path.IsPathRooted(path))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid service address {uri}: a unix socket's path must be absolute, as in {Default}");
            return new ServiceAddress(path, null);
        }
        if (uri.StartsWith("tcp://", StringComparison.Ordinal))
        {
            if (!insecureTcp)
                throw new EngineException(ErrorKind.InvalidArgument,
                    $"refusing to serve {uri}: the API over TCP has no authentication (TLS is not served yet); use a unix socket, or ask for it with --insecure-tcp");
            if (!IPEndPoint.TryParse(uri["tcp://".Length..], out var endpoint) || endpoint.Port == 0 && !uri.EndsWith(":0", StringComparison.Ordinal))
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid service address {uri}: expected tcp://IP:PORT, such as tcp://127.0.0.1:2375");
            if (!IPAddress.IsLoopback(endpoint.Address))
                throw new EngineException(ErrorKind.InvalidArgument,
                    $"refusing to serve {uri}: without TLS the API is served on a loopback address only (127.0.0.1 or ::1)");
            return new ServiceAddress(null, endpoint);
        }
        throw new EngineException(ErrorKind.InvalidArgument, $"invalid service address {uri}: expected unix:///PATH or tcp://127.0.0.1:PORT");
    }

    /// <summary>
    /// Makes the socket's directory if missing (0711: reachable, not listable) and removes a stale socket a killed
    /// service left; a socket someone still answers on is another service's.
    /// </summary>
    public void PrepareSocket()
    {
        if (SocketPath is not { } path)
            return;
        string directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        if (!File.Exists(path))
            return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new EngineException(ErrorKind.AlreadyExists, $"another service is listening on {path}: stop it, or give this one another address");
            }
            catch (SocketException)
            {
                // nobody answers: a socket left by a service that was killed
            }
        }
        File.Delete(path);
    }

    /// <summary>
    /// docker's socket modes: 0660, owned by the group `skiff` when it exists, so its members may use the engine
    /// (root's, as the docker group's); until this runs the socket has root's umask (0755: only root may connect).
    /// </summary>
    public void RestrictSocket()
    {
        if (SocketPath is not { } path)
            return;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        if (GroupId("skiff") is { } gid && Skiff.Interop.Interop.Libc.FchownAt(Skiff.Interop.Interop.Libc.AT_FDCWD, path, uint.MaxValue, gid, 0) != 0)
            throw new SyscallException("fchownat", path, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
    }

    /// <summary>A group's id from /etc/group; null when there is no such group.</summary>
    private static uint? GroupId(string name)
    {
        if (!File.Exists("/etc/group"))
            return null;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
                return gid;
        }
        return null;
    }

    public override string ToString() => SocketPath is { } path ? $"unix://{path}" : $"tcp://{Tcp}";
}
