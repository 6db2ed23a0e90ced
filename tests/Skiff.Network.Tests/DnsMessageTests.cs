using System.Diagnostics;
using System.Net;
using Skiff.Network.Dns;

namespace Skiff.Network.Tests;

public class DnsMessageTests
{
    [Fact]
    public void QueryRoundTrips()
    {
        var query = DnsMessageWriter.Query(0x1234, "Web.skdns", DnsType.Aaaa, udpPayloadSize: 1232);
        var parsed = DnsMessage.Parse(query);
        Assert.Equal(0x1234, parsed.Id);
        Assert.False(parsed.IsResponse);
        Assert.True(parsed.RecursionDesired);
        Assert.Equal(new DnsQuestion("Web.skdns", DnsType.Aaaa, DnsType.ClassInternet), Assert.Single(parsed.Questions));
        Assert.Equal(1232, parsed.UdpPayloadLimit);
    }

    [Fact]
    public void ResponseCopiesTheQuestionAndPointsAnswersAtIt()
    {
        var query = DnsMessageWriter.Query(7, "web", DnsType.A);
        var parsed = DnsMessage.Parse(query);
        var response = DnsMessageWriter.Response(query, parsed, DnsResponseCode.NoError,
            [DnsAnswer.ForAddress(IPAddress.Parse("10.231.4.2"), 600), DnsAnswer.ForPointer("web.skdnsnet", 600)], authoritative: true, 512);
        var message = DnsMessage.Parse(response);
        Assert.True(message.IsResponse);
        Assert.True(message.Authoritative);
        Assert.True(message.RecursionDesired);
        Assert.Equal(DnsResponseCode.NoError, message.ResponseCode);
        Assert.Equal("web", Assert.Single(message.Questions).Name);
        Assert.Equal(2, message.Answers.Count);
        Assert.Equal(("web", DnsType.A, 600u, IPAddress.Parse("10.231.4.2")), (message.Answers[0].Name, message.Answers[0].Type, message.Answers[0].Ttl, message.Answers[0].Address));
        Assert.Equal("web.skdnsnet", message.Answers[1].Target);
        // The owner name is a 2-byte pointer to offset 12.
        Assert.Equal(0xC0, response[query.Length]);
        Assert.Equal(12, response[query.Length + 1]);
    }

    [Fact]
    public void AnswersPastTheSizeLimitAreLeftOutWithTruncationSet()
    {
        var query = DnsMessageWriter.Query(7, "many", DnsType.A);
        var answers = Enumerable.Range(0, 100).Select(i => DnsAnswer.ForAddress(IPAddress.Parse($"10.231.4.{i}"), 600)).ToList();
        var response = DnsMessageWriter.Response(query, DnsMessage.Parse(query), DnsResponseCode.NoError, answers, true, 512);
        Assert.True(response.Length <= 512);
        var message = DnsMessage.Parse(response);
        Assert.True(message.Truncated);
        Assert.Equal((512 - query.Length) / 16, message.Answers.Count);
    }

    [Fact]
    public void CompressedNamesAreFollowed()
    {
        // Question "a.skdns", answer owner "b" + pointer to "skdns" at offset 14.
        byte[] message =
        [
            0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
            1, (byte)'a', 5, (byte)'s', (byte)'k', (byte)'d', (byte)'n', (byte)'s', 0, 0, 1, 0, 1,
            1, (byte)'b', 0xC0, 14, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 231, 4, 7,
        ];
        var parsed = DnsMessage.Parse(message);
        Assert.Equal("a.skdns", parsed.Questions[0].Name);
        Assert.Equal("b.skdns", parsed.Answers[0].Name);
        Assert.Equal(IPAddress.Parse("10.231.4.7"), parsed.Answers[0].Address);
    }

    [Theory]
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 })] // points at itself
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0xC0, 12, 0, 1, 0, 1 })] // forward
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 65, 0xC0, 2, 0, 1, 0, 1 })] // into the header
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1 })] // reserved label type
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 65, 65 })] // label past the end
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 })] // question past the end
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5 })] // A with 5 bytes
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 12, 0, 1, 0, 0, 0, 0, 0, 4, 1, 65, 0, 0 })] // PTR name short of its data
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0 })] // short header
    public void MalformedMessagesAreRefused(byte[] message)
        => Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(message));

    [Fact]
    public void NamesLongerThan255BytesAreRefusedEvenThroughPointers()
    {
        // Five labels of 63 at offsets 12.., then a question whose name is all of them: 5 * 64 + 1 > 255.
        var message = new List<byte> { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
        for (int i = 0; i < 5; i++)
        {
            message.Add(63);
            message.AddRange(Enumerable.Repeat((byte)'a', 63));
        }
        message.AddRange(new byte[] { 0, 0, 1, 0, 1 });
        var error = Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(message.ToArray()));
        Assert.Contains("longer than 255", error.Message);
    }

    [Fact]
    public void LongPointerChainsAreRefused()
    {
        // Strictly backwards, so no loop, but more jumps than a name of at most 127 labels needs.
        Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(Chain(200)));
        Assert.Equal(2, DnsMessage.Parse(Chain(100)).Answers.Count);
    }

    /// <summary>
    /// Two answers: the first (owner the root at 12, type 0) carries all pointers but the last as its data; the
    /// second's owner is the last pointer. Each pointer points at the one before it, the first at the root.
    /// </summary>
    private static byte[] Chain(int jumps)
    {
        var message = new List<byte> { 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        int chainLength = 2 * (jumps - 1);
        message.Add((byte)(chainLength >> 8));
        message.Add((byte)chainLength);
        int chainStart = message.Count;
        for (int i = 0; i < jumps; i++)
        {
            int target = i == 0 ? 12 : chainStart + 2 * (i - 1);
            message.Add((byte)(0xC0 | target >> 8));
            message.Add((byte)target);
        }
        message.AddRange(new byte[] { 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 231, 4, 1 });
        return [.. message];
    }

    [Fact]
    public void UnprintableBytesAndDotsInLabelsAreEscaped()
    {
        byte[] message = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'a', (byte)'.', 0, 0, 0, 1, 0, 1];
        Assert.Equal("a\\046\\000", DnsMessage.Parse(message).Questions[0].Name);
    }

    [Fact]
    public void WriterRefusesNamesThatAreNotDnsNames()
    {
        Assert.Throws<ArgumentException>(() => DnsMessageWriter.Query(1, "a..b", DnsType.A));
        Assert.Throws<ArgumentException>(() => DnsMessageWriter.Query(1, new string('a', 64), DnsType.A));
        Assert.Throws<ArgumentException>(() => DnsMessageWriter.Query(1, string.Join('.', Enumerable.Repeat(new string('a', 63), 5)), DnsType.A));
    }

    [Fact]
    public void FormatErrorEchoesTheIdOfAQueryOnly()
    {
        var error = DnsMessageWriter.FormatError([0xAB, 0xCD, 0x01, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0xFF]);
        var parsed = DnsMessage.Parse(error!);
        Assert.Equal((0xABCD, DnsResponseCode.FormatError, true, true), (parsed.Id, parsed.ResponseCode, parsed.IsResponse, parsed.RecursionDesired));
        Assert.Null(DnsMessageWriter.FormatError([0xAB, 0xCD, 0x81, 0, 0, 9, 0, 0, 0, 0, 0, 0]));
        Assert.Null(DnsMessageWriter.FormatError([1, 2, 3]));
    }

    [Fact]
    public void ReverseNamesRoundTrip()
    {
        foreach (var text in new[] { "10.231.4.2", "fd31:4::2", "fd31:4::abcd:1" })
        {
            var address = IPAddress.Parse(text);
            Assert.True(DnsZone.TryParseReverseName(DnsZone.ReverseName(address).ToUpperInvariant() + ".", out var parsed));
            Assert.Equal(address, parsed);
        }
        Assert.False(DnsZone.TryParseReverseName("256.4.231.10.in-addr.arpa", out _));
        Assert.False(DnsZone.TryParseReverseName("4.231.10.in-addr.arpa", out _));
        Assert.False(DnsZone.TryParseReverseName("web.skdns", out _));
    }

    /// <summary>
    /// Random bytes, and valid messages with bytes flipped, inserted or cut: Parse either returns or throws
    /// DnsFormatException, never anything else, and never hangs (each parse is timed).
    /// </summary>
    [Fact]
    public void FuzzedBytesOnlyEverRaiseTheFormatException()
    {
        var random = new Random(4231);
        var seeds = new List<byte[]>
        {
            DnsMessageWriter.Query(1, "web.skdnsnet", DnsType.A, 4096),
            DnsMessageWriter.Query(2, DnsZone.ReverseName(IPAddress.Parse("fd31:4::2")), DnsType.Ptr),
        };
        var query = seeds[0];
        seeds.Add(DnsMessageWriter.Response(query, DnsMessage.Parse(query), DnsResponseCode.NoError,
            [DnsAnswer.ForAddress(IPAddress.Parse("10.231.4.2"), 600), DnsAnswer.ForAddress(IPAddress.Parse("fd31:4::2"), 600), DnsAnswer.ForPointer("web.skdnsnet", 600)], true, 512));
        seeds.Add([0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, (byte)'a', 5, (byte)'s', (byte)'k', (byte)'d', (byte)'n', (byte)'s', 0, 0, 1, 0, 1, 1, (byte)'b', 0xC0, 14, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 12]);
        var slowest = TimeSpan.Zero;
        int parsed = 0, refused = 0;
        for (int i = 0; i < 200_000; i++)
        {
            byte[] input;
            if (i % 4 == 0)
            {
                input = new byte[random.Next(0, 600)];
                random.NextBytes(input);
                if (input.Length > 12 && random.Next(2) == 0)
                    input[4] = input[6] = input[8] = input[10] = 0; // low counts, so the sections are reached
            }
            else
            {
                var bytes = seeds[random.Next(seeds.Count)].ToList();
                for (int m = random.Next(1, 6); m > 0; m--)
                {
                    int at = random.Next(bytes.Count);
                    switch (random.Next(4))
                    {
                        case 0: bytes[at] = (byte)random.Next(256); break;
                        case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                        case 2: bytes.RemoveRange(at, random.Next(1, bytes.Count - at + 1)); break;
                        default: bytes[at] = (byte)(0xC0 | random.Next(4)); break;
                    }
                    if (bytes.Count == 0)
                        break;
                }
                input = [.. bytes];
            }
            var watch = Stopwatch.StartNew();
            try
            {
                DnsMessage.Parse(input);
                parsed++;
            }
            catch (DnsFormatException)
            {
                refused++;
            }
            if (watch.Elapsed > slowest)
                slowest = watch.Elapsed;
        }
        // A hang would never return; a second leaves room for a garbage collection on a busy machine.
        Assert.True(slowest < TimeSpan.FromSeconds(1), $"slowest parse took {slowest}");
        // Both outcomes happen, so the fuzzing reaches past the header.
        Assert.True(parsed > 1000 && refused > 1000, $"parsed {parsed}, refused {refused}");
    }
}
