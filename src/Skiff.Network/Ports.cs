using System.Net;
using System.Net.Sockets;

namespace Skiff.Network;

/// <summary>
/// A port a container asks to publish (docker's `-p [ip:][hostPort:]containerPort[/protocol]`, one container port):
/// the host ports it may take (0 to 0 for any free one) on <see cref="HostIp"/> (empty for every host address).
/// </summary>
public sealed record PortRequest(string Protocol, int ContainerPort, string HostIp, int HostPortFirst, int HostPortLast)
{
    /// <summary>docker's key of a port: "80/tcp".</summary>
    public string Key => $"{ContainerPort}/{Protocol}";
}

/// <summary>A published port as it was set up: the host port it got.</summary>
public sealed record PortBinding(string Protocol, int ContainerPort, string HostIp, int HostPort)
{
    public string Key => $"{ContainerPort}/{Protocol}";
}

/// <summary>docker's port syntax (`-p`, `--expose`, EXPOSE), as moby's go-connections/nat parses it.</summary>
public static class PortSpecs
{
    public static readonly string[] Protocols = ["tcp", "udp", "sctp"];

    /// <summary>
    /// One `-p` value, expanded to one request per container port: `8080:80`, `127.0.0.1:8080:80/udp`,
    /// `[::1]:8080:80`, `127.0.0.1::80`, `80`, `8000-8010:80-90`, and `8000-8010:80` (any free host port of the range).
    /// </summary>
    public static IReadOnlyList<PortRequest> ParsePublish(string spec)
    {
        var (body, protocol) = SplitProtocol(spec, spec);
        string hostIp = "";
        string hostPart = "";
        string containerPart;
        if (body.StartsWith('['))
        {
            int close = body.IndexOf(']');
            if (close < 0 || close + 1 >= body.Length || body[close + 1] != ':')
                throw Invalid(spec, "an IPv6 host address goes in brackets followed by a colon, as [::1]:8080:80");
            hostIp = body[1..close];
            body = body[(close + 2)..];
            var parts = body.Split(':');
            if (parts.Length != 2)
                throw Invalid(spec, "after the host address come the host port (or nothing) and the container port, as [::1]:8080:80");
            (hostPart, containerPart) = (parts[0], parts[1]);
        }
        else
        {
            var parts = body.Split(':');
            switch (parts.Length)
            {
                case 1: containerPart = parts[0]; break;
                case 2: (hostPart, containerPart) = (parts[0], parts[1]); break;
                case 3: (hostIp, hostPart, containerPart) = (parts[0], parts[1], parts[2]); break;
                default:
                    // An unbracketed IPv6 address: docker takes the last two fields as ports.
                    int last = body.LastIndexOf(':');
                    int middle = body.LastIndexOf(':', last - 1);
                    (hostIp, hostPart, containerPart) = (body[..middle], body[(middle + 1)..last], body[(last + 1)..]);
                    break;
            }
        }
        if (hostIp.Length > 0 && !IPAddress.TryParse(hostIp, out _))
            throw Invalid(spec, $"\"{hostIp}\" is not an IP address");
        var (containerFirst, containerLast) = ParseRange(containerPart, spec, "container port");
        var (hostFirst, hostLast) = hostPart.Length == 0 ? (0, 0) : ParseRange(hostPart, spec, "host port");
        int containerCount = containerLast - containerFirst + 1;
        int hostCount = hostLast - hostFirst + 1;
        if (hostPart.Length > 0 && containerCount > 1 && hostCount != containerCount)
            throw Invalid(spec, $"the host range has {hostCount} ports and the container range {containerCount}: they must be the same size");
        var requests = new List<PortRequest>(containerCount);
        for (int i = 0; i < containerCount; i++)
        {
            var (first, last) = hostPart.Length == 0 ? (0, 0)
                : containerCount > 1 ? (hostFirst + i, hostFirst + i)
                : (hostFirst, hostLast);
            requests.Add(new PortRequest(protocol, containerFirst + i, hostIp, first, last));
        }
        return requests;
    }

    /// <summary>One `--expose` value or EXPOSE word: `80`, `80/udp`, `8000-8010`; the container ports with their protocol.</summary>
    public static IReadOnlyList<(int Port, string Protocol)> ParseExpose(string spec)
    {
        var (body, protocol) = SplitProtocol(spec, spec);
        var (first, last) = ParseRange(body, spec, "port");
        return [.. Enumerable.Range(first, last - first + 1).Select(port => (port, protocol))];
    }

    private static (string Body, string Protocol) SplitProtocol(string text, string spec)
    {
        int slash = text.LastIndexOf('/');
        if (slash < 0)
            return (text, "tcp");
        string protocol = text[(slash + 1)..].ToLowerInvariant();
        if (!Protocols.Contains(protocol))
            throw Invalid(spec, $"the protocol \"{text[(slash + 1)..]}\" is not tcp, udp or sctp");
        return (text[..slash], protocol);
    }

    private static (int First, int Last) ParseRange(string text, string spec, string what)
    {
        int dash = text.IndexOf('-');
        int first = ParsePort(dash < 0 ? text : text[..dash], spec, what);
        int last = dash < 0 ? first : ParsePort(text[(dash + 1)..], spec, what);
        if (last < first)
            throw Invalid(spec, $"the {what} range {text} ends before it starts");
        return (first, last);
    }

    private static int ParsePort(string text, string spec, string what)
    {
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, null, out int port) || port < 1 || port > 65535)
            throw Invalid(spec, $"the {what} \"{text}\" is not a number from 1 to 65535");
        return port;
    }

    private static NetworkException Invalid(string spec, string why)
        => new(ErrorKind.InvalidArgument, $"the port specification \"{spec}\" is invalid: {why}");

    /// <summary>
    /// A host port for <paramref name="request"/> that no process holds now, checked by binding it, as docker does:
    /// the one asked for, else the first free one of the range, else (none asked for) one the kernel picks.
    /// </summary>
    public static PortBinding Reserve(PortRequest request, ISet<(string Protocol, int Port)>? taken = null)
    {
        if (request.HostPortFirst == 0)
        {
            while (true)
            {
                int port = TryBind(request, 0) ?? throw new NetworkException(ErrorKind.ResourceExhausted,
                    $"no free host port is left for {request.Key}: free some, or publish on a given port");
                if (taken is null || taken.Add((request.Protocol, port)))
                    return new PortBinding(request.Protocol, request.ContainerPort, request.HostIp, port);
            }
        }
        for (int port = request.HostPortFirst; port <= request.HostPortLast; port++)
        {
            if (taken is not null && taken.Contains((request.Protocol, port)))
                continue;
            if (TryBind(request, port) is not null)
            {
                taken?.Add((request.Protocol, port));
                return new PortBinding(request.Protocol, request.ContainerPort, request.HostIp, port);
            }
        }
        string ports = request.HostPortFirst == request.HostPortLast ? $"port {request.HostPortFirst}" : $"every port of {request.HostPortFirst}-{request.HostPortLast}";
        string address = request.HostIp.Length == 0 ? "the host" : request.HostIp;
        throw new NetworkException(ErrorKind.FailedPrecondition,
            $"{ports}/{request.Protocol} on {address} is already in use by another process: stop it, or publish {request.Key} on another host port");
    }

    /// <summary>Binds (then closes) the port; the port bound, or null when it is taken.</summary>
    private static int? TryBind(PortRequest request, int port)
    {
        var address = request.HostIp.Length == 0 ? IPAddress.IPv6Any : IPAddress.Parse(request.HostIp);
        var (type, protocol) = request.Protocol switch
        {
            "udp" => (SocketType.Dgram, ProtocolType.Udp),
            // .NET has no SCTP socket type; a raw SOCK_STREAM with IPPROTO_SCTP (132) binds the same port space.
            "sctp" => (SocketType.Stream, (ProtocolType)132),
            _ => (SocketType.Stream, ProtocolType.Tcp),
        };
        try
        {
            using var socket = new Socket(address.AddressFamily, type, protocol);
            if (address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true; // every host address of both families, as a published port without an address is
            socket.Bind(new IPEndPoint(address, port));
            return ((IPEndPoint)socket.LocalEndPoint!).Port;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable)
        {
            throw new NetworkException(ErrorKind.InvalidArgument,
                $"the host address {request.HostIp} of {request.Key} is not an address of this host: publish on one of its addresses");
        }
    }
}
