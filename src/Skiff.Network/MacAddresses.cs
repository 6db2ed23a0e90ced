using System.Net;

namespace Skiff.Network;

/// <summary>The MAC address a container's interface gets when none was asked for.</summary>
public static class MacAddresses
{
    /// <summary>
    /// docker's (before 26): 02:42 followed by the IPv4 address, locally administered and unicast. Tied to the address,
    /// so a neighbour's stale ARP entry for a reused address still points at the right interface. Random (same prefix)
    /// for an endpoint without IPv4.
    /// </summary>
    public static string For(IPAddress? ipv4)
    {
        Span<byte> bytes = stackalloc byte[6];
        bytes[0] = 0x02;
        bytes[1] = 0x42;
        if (ipv4 is not null)
            ipv4.TryWriteBytes(bytes[2..], out _);
        else
            Skiff.Interop.SecureRandom.Fill(bytes[2..]);
        return string.Join(':', bytes.ToArray().Select(b => b.ToString("x2")));
    }

    /// <summary>Checks a user's MAC address (`--mac-address`): six hex pairs, unicast.</summary>
    public static string Parse(string text)
    {
        var parts = text.Split(':', '-');
        if (parts.Length != 6 || parts.Any(p => p.Length != 2 || !p.All(Uri.IsHexDigit)))
            throw new NetworkException(ErrorKind.InvalidArgument, $"\"{text}\" is not a MAC address such as 02:42:ac:11:00:02");
        if ((Convert.ToByte(parts[0], 16) & 1) != 0)
            throw new NetworkException(ErrorKind.InvalidArgument, $"the MAC address {text} is a multicast address: an interface needs a unicast one (an even first byte)");
        return string.Join(':', parts).ToLowerInvariant();
    }
}
