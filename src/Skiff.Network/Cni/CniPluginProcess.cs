using System.Diagnostics;

namespace Skiff.Network.Cni;

/// <summary>What a plugin run left: its exit status, its stdout (whole, or <see cref="OutputTruncated"/>) and the start of its stderr.</summary>
internal sealed record CniPluginOutput(int ExitCode, byte[] Output, bool OutputTruncated, string Error);

/// <summary>
/// Runs one plugin program: the environment and stdin given, stdout and stderr read concurrently into bounded buffers
/// (a plugin is not trusted to be small), killed with its children on timeout or cancellation.
/// </summary>
internal static class CniPluginProcess
{
    // A result is a few KiB; a megabyte leaves room for big chains while bounding what a broken plugin can make us hold.
    public const int MaxOutputBytes = 1 << 20;
    public const int MaxErrorBytes = 16 << 10;

    /// <exception cref="TimeoutException">The plugin ran longer than <paramref name="timeout"/> and was killed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired; the plugin was killed.</exception>
    public static async Task<CniPluginOutput> RunAsync(
        string program, IReadOnlyDictionary<string, string> environment, byte[] input, TimeSpan timeout, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The plugin inherits the engine's environment, as libcni's do, but never a stale CNI_ variable of it.
        foreach (string key in start.Environment.Keys.Where(key => key.StartsWith("CNI_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started");
        var output = ReadBoundedAsync(process.StandardOutput.BaseStream, MaxOutputBytes);
        var error = ReadBoundedAsync(process.StandardError.BaseStream, MaxErrorBytes);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(input, deadline.Token);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The plugin exited without reading all its input; its exit status and output say why.
            }
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(output, error);
            cancellation.ThrowIfCancellationRequested();
            throw new TimeoutException();
        }
        var (stdout, truncated) = await output;
        var (stderr, _) = await error;
        return new CniPluginOutput(process.ExitCode, stdout, truncated, System.Text.Encoding.UTF8.GetString(stderr));
    }

    private static void Kill(Process process)
    {
        try
        {
            // The plugins' children (a delegated IPAM plugin) hold the pipes open too.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }

    /// <summary>Reads a stream to its end, keeping at most <paramref name="limit"/> bytes, so the writer never blocks on a full pipe.</summary>
    private static async Task<(byte[] Bytes, bool Truncated)> ReadBoundedAsync(Stream stream, int limit)
    {
        using var kept = new MemoryStream();
        byte[] buffer = new byte[16 << 10];
        bool truncated = false;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            int room = limit - (int)kept.Length;
            if (read > room)
                truncated = true;
            kept.Write(buffer, 0, Math.Min(read, room));
        }
        return (kept.ToArray(), truncated);
    }
}
