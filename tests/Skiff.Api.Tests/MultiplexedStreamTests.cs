namespace Skiff.Api.Tests;

public sealed class MultiplexedStreamTests
{
    [Fact]
    public void FramesEachWriteWithDockersHeader()
    {
        var connection = new MemoryStream();
        var writeLock = new Lock();
        MultiplexedStream.For(connection, MultiplexedStream.Stdout, tty: false, writeLock).Write("hi\n"u8);
        MultiplexedStream.For(connection, MultiplexedStream.Stderr, tty: false, writeLock).Write("oops"u8);
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 3, (byte)'h', (byte)'i', (byte)'\n', 2, 0, 0, 0, 0, 0, 0, 4, (byte)'o', (byte)'o', (byte)'p', (byte)'s'], connection.ToArray());
    }

    [Fact]
    public void ATerminalsOutputIsRaw()
    {
        var connection = new MemoryStream();
        MultiplexedStream.For(connection, MultiplexedStream.Stdout, tty: true, new Lock()).Write("raw"u8);
        Assert.Equal("raw"u8.ToArray(), connection.ToArray());
    }

    [Fact]
    public void LongWritesAreSplitIntoFramesOfAtMost32KiB()
    {
        var connection = new MemoryStream();
        var payload = new byte[MultiplexedStream.MaxPayload * 2 + 5];
        Random.Shared.NextBytes(payload);
        MultiplexedStream.For(connection, MultiplexedStream.Stdout, tty: false, new Lock()).Write(payload);
        Assert.Equal(payload, Demultiplex(connection.ToArray(), out int frames));
        Assert.Equal(3, frames);
    }

    [Fact]
    public async Task TheAsyncWriterFramesAlike()
    {
        var sync = new MemoryStream();
        var payload = new byte[MultiplexedStream.MaxPayload + 1];
        MultiplexedStream.For(sync, MultiplexedStream.Stderr, tty: false, new Lock()).Write(payload);
        var async = new MemoryStream();
        await MultiplexedStream.WriteFrameAsync(async, MultiplexedStream.Stderr, payload, CancellationToken.None);
        Assert.Equal(sync.ToArray(), async.ToArray());
    }

    /// <summary>docker's stdcopy reader: the payloads, checking every header.</summary>
    internal static byte[] Demultiplex(byte[] data, out int frames)
    {
        var output = new MemoryStream();
        frames = 0;
        for (int at = 0; at < data.Length; frames++)
        {
            Assert.True(data[at] is 1 or 2, $"stream byte {data[at]}");
            Assert.Equal([0, 0, 0], data[(at + 1)..(at + 4)]);
            int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at + 4, 4));
            Assert.InRange(length, 1, MultiplexedStream.MaxPayload);
            output.Write(data, at + 8, length);
            at += 8 + length;
        }
        return output.ToArray();
    }
}
