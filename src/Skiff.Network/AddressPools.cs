using System.Net;
using System.Net.Sockets;

namespace Skiff.Network;

/// <summary>A range subnets are cut from when a network is made without one: docker's default-address-pools entry.</summary>
public sealed record AddressPool(IPNetwork Base, int Size);

/// <summary>
/// Chooses the subnet of a network made without one: the first of the pools that overlaps no route of the host
/// (its default routes aside) and no other network of the store.
/// </summary>
public static class AddressPools
{
    /// <summary>docker's defaults: 172.17-31.0.0/16, then 192.168.0.0/16 cut into /20s.</summary>
    public static readonly IReadOnlyList<AddressPool> Default =
    [
        new(IPNetwork.Parse("172.17.0.0/16"), 16),
        new(IPNetwork.Parse("172.18.0.0/15"), 16),
        new(IPNetwork.Parse("172.20.0.0/14"), 16),
        new(IPNetwork.Parse("172.24.0.0/14"), 16),
        new(IPNetwork.Parse("172.28.0.0/14"), 16),
        new(IPNetwork.Parse("192.168.0.0/16"), 20),
    ];

    public static IPNetwork Choose(IReadOnlyList<AddressPool> pools, IReadOnlyCollection<IPNetwork> taken)
    {
        foreach (var pool in pools)
        {
            var (first, last) = Addresses.Bounds(pool.Base);
            int hostBits = Addresses.BitsOf(pool.Base.BaseAddress.AddressFamily) - pool.Size;
            UInt128 step = UInt128.One << hostBits;
            for (UInt128 start = first; start <= last && start >= first; start += step)
            {
                var candidate = new IPNetwork(Addresses.FromNumber(start, pool.Base.BaseAddress.AddressFamily), pool.Size);
                if (!taken.Any(t => Addresses.Overlap(t, candidate)))
                    return candidate;
            }
        }
        throw new NetworkException(ErrorKind.ResourceExhausted,
            "every subnet of the address pools overlaps a route of this host or another network: remove unused networks, give a subnet, or add pools in the engine's configuration");
    }

    /// <summary>A /64 of a random unique local prefix (RFC 4193), for an IPv6 network made without a subnet.</summary>
    public static IPNetwork RandomUniqueLocal(IReadOnlyCollection<IPNetwork> taken)
    {
        while (true)
        {
            var bytes = new byte[16];
            bytes[0] = 0xfd;
            Skiff.Interop.SecureRandom.Fill(bytes.AsSpan(1, 5));
            var candidate = new IPNetwork(new IPAddress(bytes), 64);
            if (!taken.Any(t => Addresses.Overlap(t, candidate)))
                return candidate;
        }
    }

    /// <summary>The first host address of a subnet, docker's gateway when none is given.</summary>
    public static IPAddress FirstHost(IPNetwork subnet)
        => Addresses.FromNumber(Addresses.ToNumber(subnet.BaseAddress) + 1, subnet.BaseAddress.AddressFamily);

    /// <summary>The routes that make a subnet unusable: every one but the default routes, which cover everything.</summary>
    public static bool Blocks(IPNetwork route) => route.PrefixLength > 0 && route.BaseAddress.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
}
