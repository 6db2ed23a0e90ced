using Skiff.Interop.Netlink;
using static Skiff.Interop.Netlink.NetlinkConstants;

namespace Skiff.Interop.Tests;

/// <summary>
/// The reply decoders on random and mutated bytes: they may refuse them only with <see cref="NetlinkFormatException"/>,
/// and must finish. Seeds are fixed so that a failure can be replayed.
/// </summary>
public sealed class NetlinkFuzzTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public void RandomBytesOnlyEverFailToParse()
        => Within(() =>
        {
            var random = new Random(1301);
            for (int i = 0; i < 20_000; i++)
            {
                var bytes = new byte[random.Next(0, 512)];
                random.NextBytes(bytes);
                // Plausible headers get the parsers past the first length check more often than pure noise does.
                if (bytes.Length >= 16 && random.Next(2) == 0)
                    BitConverter.TryWriteBytes(bytes.AsSpan(), (uint)random.Next(16, bytes.Length + 1));
                DecodeAll(bytes);
            }
        });

    [Fact]
    public void MutatedCapturesOnlyEverFailToParse()
        => Within(() =>
        {
            var random = new Random(1302);
            var captures = NetlinkCaptures.All.ToArray();
            for (int i = 0; i < 20_000; i++)
            {
                var bytes = (byte[])captures[random.Next(captures.Length)].Clone();
                int mutations = random.Next(1, 8);
                for (int m = 0; m < mutations; m++)
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                            break;
                        case 1:
                            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                            break;
                        case 2:
                            // a 16-bit length field anywhere: attribute lengths are where parsers go wrong
                            int at = random.Next(bytes.Length - 1);
                            BitConverter.TryWriteBytes(bytes.AsSpan(at), (ushort)random.Next(0, 0x10000));
                            break;
                        default:
                            Array.Resize(ref bytes, random.Next(bytes.Length));
                            break;
                    }
                    if (bytes.Length < 2)
                        break;
                }
                DecodeAll(bytes);
            }
        });

    /// <summary>Every message through every decoder, whatever its type says, as a confused kernel or a corrupted buffer could.</summary>
    private static void DecodeAll(byte[] datagram)
    {
        try
        {
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                foreach (ushort type in new[] { RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, NLMSG_ERROR })
                {
                    var forged = new NetlinkMessage(type, message.Flags, message.Sequence, message.Payload);
                    try
                    {
                        _ = RtNetlinkReplies.Link(forged);
                        _ = RtNetlinkReplies.Address(forged);
                        _ = RtNetlinkReplies.Route(forged);
                        _ = RtNetlinkReplies.Error(forged);
                    }
                    catch (NetlinkFormatException)
                    {
                    }
                }
            }
        }
        catch (NetlinkFormatException)
        {
        }
    }

    private static void Within(Action fuzz)
    {
        var run = Task.Run(fuzz);
        Assert.True(run.Wait(Bound), $"the decoders did not finish within {Bound}");
    }
}
