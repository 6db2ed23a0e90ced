using System.Text;

namespace Skiff.Images.Tests.Cli;

/// <summary>
/// `skiff logs` of logs larger than memory should ever hold (issue 18): streamed, --tail read backwards from the end.
/// The logs are written straight into a created container's json-file log, as fast as the disk takes them.
/// </summary>
public sealed partial class EngineCliTests
{
    /// <summary>A few MB over what `skiff ps` takes (about 12 MiB): a reader holding the log, or even 1% of it, is far above.</summary>
    private const long LogsMemoryBoundKiB = 32 * 1024;

    [Fact]
    public async Task LogsTailOfALogOverTwoGiBReadsItsEndInBoundedMemory()
    {
        var log = await CreateWithLog("big-log");
        try
        {
            using (var file = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
            {
                var block = LogLines(5000, "stdout", new string('x', 200));
                for (long written = 0; written < 2_300_000_000; written += block.Length)
                    file.Write(block);
                file.Write(LogLines(1, "stderr", "the last line"));
            }
            var (result, peakKiB) = await Skiff.RunMeasuredAsync(Root, "logs", "--tail", "1", "big-log");
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
            Assert.Equal("", result.Stdout);
            Assert.Equal("the last line 0\n", result.Stderr);
            Assert.InRange(peakKiB, 1, LogsMemoryBoundKiB);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task LogsSkipsAForeignLineOfHalfAGigabyteInBoundedMemory()
    {
        var log = await CreateWithLog("torn-log");
        try
        {
            using (var file = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
            {
                file.Write(LogLines(2, "stdout", "before"));
                // A hole reads as 512 MiB of NUL bytes without a newline: one line no JSON parser accepts, and no disk used.
                file.SetLength(file.Length + (512L << 20));
                file.Seek(0, SeekOrigin.End);
                file.Write("\n"u8);
                file.Write(LogLines(2, "stdout", "after"));
            }
            var (result, peakKiB) = await Skiff.RunMeasuredAsync(Root, "logs", "torn-log");
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
            Assert.Equal("before 0\nbefore 1\nafter 0\nafter 1\n", result.Stdout);
            Assert.InRange(peakKiB, 1, LogsMemoryBoundKiB);
        }
        finally
        {
            File.Delete(log);
        }
    }

    /// <summary>Creates a container that never runs; its json-file log, which `logs` reads, is the caller's to write.</summary>
    private async Task<string> CreateWithLog(string name)
    {
        string id = (await Ok("create", "--name", name, Image, "true")).Stdout.Trim();
        return Path.Combine(Root, "containers", id, "container.log");
    }

    /// <summary><paramref name="count"/> json-file entries "TEXT N\n" as the monitor writes them.</summary>
    private static byte[] LogLines(int count, string stream, string text)
    {
        var lines = new StringBuilder();
        for (int i = 0; i < count; i++)
            lines.Append($"{{\"log\":\"{text} {i}\\n\",\"stream\":\"{stream}\",\"time\":\"2026-12-07T03:00:00.{i:D7}Z\"}}\n");
        return Encoding.UTF8.GetBytes(lines.ToString());
    }
}
