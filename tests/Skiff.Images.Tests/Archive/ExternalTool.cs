using System.Diagnostics;
using Skiff.Images.Tests.Registry;

namespace Skiff.Images.Tests.Archive;

/// <summary>Runs a peer tool (podman, umoci) and returns its standard output; a non-zero exit fails the test with its stderr.</summary>
internal static class ExternalTool
{
    public static string Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr.Result}");
        return stdout;
    }
}

/// <summary>
/// A podman with its own storage in a temporary directory (vfs: no mounts to leave behind), so a test neither sees
/// nor touches the host's images and removes everything it made when disposed.
/// </summary>
internal sealed class PrivatePodman : IDisposable
{
    private readonly TempDir _directory = new();

    public string Run(params string[] arguments)
        => ExternalTool.Run("podman", [
            "--root", System.IO.Path.Combine(_directory.Path, "root"), "--runroot", System.IO.Path.Combine(_directory.Path, "run"),
            "--tmpdir", System.IO.Path.Combine(_directory.Path, "tmp"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", .. arguments]);

    public string File(string name) => System.IO.Path.Combine(_directory.Path, name);

    public void Dispose() => _directory.Dispose();
}
