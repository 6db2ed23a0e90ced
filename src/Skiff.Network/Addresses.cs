using System.Net;
using System.Net.Sockets;

namespace Skiff.Network;

/// <summary>
/// Address arithmetic for IPAM, on both families: an address as a 128-bit number (IPv4 in the low 32 bits), so
/// that "the next address", "the last address of a subnet" and "is it inside" are one code path.
/// </summary>
public static class Addresses
{
    public static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        UInt128 value = 0;
        foreach (var b in bytes[..written])
            value = (value << 8) | b;
        return value;
    }

    public static IPAddress FromNumber(UInt128 value, AddressFamily family)
    {
        int length = family == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = new byte[length];
        for (int i = length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }
        return new IPAddress(bytes);
    }

    public static int BitsOf(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>The first and last address of <paramref name="network"/>, as numbers.</summary>
    public static (UInt128 First, UInt128 Last) Bounds(IPNetwork network)
    {
        int bits = BitsOf(network.BaseAddress.AddressFamily);
        UInt128 first = ToNumber(network.BaseAddress);
        int hostBits = bits - network.PrefixLength;
        UInt128 size = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        return (first, first + size);
    }

    public static bool Overlap(IPNetwork a, IPNetwork b)
    {
        if (a.BaseAddress.AddressFamily != b.BaseAddress.AddressFamily)
            return false;
        var (aFirst, aLast) = Bounds(a);
        var (bFirst, bLast) = Bounds(b);
        return aFirst <= bLast && bFirst <= aLast;
    }

    /// <summary>Whether <paramref name="inner"/> lies wholly inside <paramref name="outer"/>.</summary>
    public static bool Within(IPNetwork inner, IPNetwork outer)
        => inner.BaseAddress.AddressFamily == outer.BaseAddress.AddressFamily
           && inner.PrefixLength >= outer.PrefixLength && outer.Contains(inner.BaseAddress);

    /// <summary>Parses a CIDR whose address must be the network's own (docker refuses "10.1.2.3/24" as a subnet too).</summary>
    public static IPNetwork ParseSubnet(string text, string what)
    {
        int slash = text.IndexOf('/');
        if (slash <= 0 || !IPAddress.TryParse(text[..slash], out var address)
            || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, null, out int prefix) || prefix > BitsOf(address.AddressFamily))
            throw new NetworkException(ErrorKind.InvalidArgument, $"the {what} \"{text}\" is not a CIDR such as 172.20.0.0/16 or fd12:3456::/64");
        var masked = Mask(address, prefix);
        if (!masked.Equals(address))
            throw new NetworkException(ErrorKind.InvalidArgument, $"the {what} {text} has host bits set: use {masked}/{prefix} instead");
        return new IPNetwork(address, prefix);
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        int bits = BitsOf(address.AddressFamily);
        UInt128 mask = prefix == 0 ? 0 : UInt128.MaxValue << (128 - prefix) >> (128 - bits);
        return FromNumber(ToNumber(address) & mask, address.AddressFamily);
    }

    public static string Family(AddressFamily family) => family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";

    /// <summary>Number of host bits, for messages and pool sizing.</summary>
    public static int HostBits(IPNetwork network) => BitsOf(network.BaseAddress.AddressFamily) - network.PrefixLength;
}
