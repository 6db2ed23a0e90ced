using System.Text;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Files whose size a container decides, larger than memory should ever hold (issue 18): `skiff logs` streams the
/// json-file log and reads --tail backwards from the end; `exec -u` reads the container's /etc/passwd line by line.
/// The logs are written straight into a created container's json-file log, as fast as the disk takes them.
/// </summary>
public sealed partial class EngineCliTests
{
    /// <summary>A few MB over what `skiff ps` takes (about 12 MiB): a reader holding the log, or even 1% of it, is far above.</summary>
    private const long LargeFileMemoryBoundKiB = 32 * 1024;

    [Fact]
    public async Task LogsTailOfALogOverTwoGiBReadsItsEndInBoundedMemory()
    {
        var result = await LogsOf("big-log", file =>
        {
            var block = LogLines(5000, "stdout", new string('x', 200));
            for (long written = 0; written < 2_300_000_000; written += block.Length)
                file.Write(block);
            file.Write(LogLines(1, "stderr", "the last line"));
        }, "--tail", "1");
        Assert.Equal("", result.Stdout);
        Assert.Equal("the last line 0\n", result.Stderr);
    }

    [Fact]
    public async Task LogsSkipsAForeignLineOfHalfAGigabyteInBoundedMemory()
    {
        var result = await LogsOf("torn-log", file =>
        {
            file.Write(LogLines(2, "stdout", "before"));
            // A hole reads as 512 MiB of NUL bytes without a newline: one line no JSON parser accepts, and no disk used.
            file.SetLength(file.Length + (512L << 20));
            file.Seek(0, SeekOrigin.End);
            file.Write("\n"u8);
            file.Write(LogLines(2, "stdout", "after"));
        });
        Assert.Equal("before 0\nbefore 1\nafter 0\nafter 1\n", result.Stdout);
    }

    [Fact]
    public async Task ExecResolvesAUserAfterAPasswdLineOverOneGiBInBoundedMemory()
    {
        await Ok("run", "-d", "--name", "huge-passwd", Image, "sleep", "1000");
        // The container grows its own /etc/passwd by a hole of 1100 MiB (NUL bytes, no disk used), then adds a user after it.
        await Ok("exec", "huge-passwd", "sh", "-c", "busybox truncate -s 1100M /etc/passwd && printf '\\nlater:x:1234:1234::/:/bin/sh\\n' >> /etc/passwd");
        var result = await InBoundedMemory("exec", "-u", "later", "huge-passwd", "busybox", "grep", "^Uid:", "/proc/self/status");
        Assert.Equal("Uid:\t1234\t1234\t1234\t1234\n", result.Stdout);
    }

    /// <summary>`skiff logs [OPTIONS] NAME` of a created container (it never runs) whose json-file log <paramref name="write"/> wrote; the log is deleted after.</summary>
    private async Task<Skiff.Result> LogsOf(string name, Action<FileStream> write, params string[] options)
    {
        string id = (await Ok("create", "--name", name, Image, "true")).Stdout.Trim();
        string log = Path.Combine(Root, "containers", id, "container.log");
        try
        {
            using (var file = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
                write(file);
            return await InBoundedMemory(["logs", .. options, name]);
        }
        finally
        {
            File.Delete(log);
        }
    }

    /// <summary>Runs skiff, which must succeed with a peak resident set under <see cref="LargeFileMemoryBoundKiB"/>.</summary>
    private async Task<Skiff.Result> InBoundedMemory(params string[] args)
    {
        var (result, peakKiB) = await Skiff.RunMeasuredAsync(Root, args);
        Assert.True(result.ExitCode == 0, $"skiff {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}");
        Assert.InRange(peakKiB, 1, LargeFileMemoryBoundKiB);
        return result;
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
