using Microsoft.Win32.SafeHandles;

namespace Skiff.Integration.Tests;

/// <summary>
/// Regression tests for runc's container escapes through the runtime's own process: a host file descriptor left open
/// into the container (CVE-2024-21626) and the runtime's binary overwritten through /proc/PID/exe (CVE-2019-5736).
/// </summary>
public sealed class EscapeTests : IDisposable
{
    private readonly TestBundle _bundle = new();
    private readonly string _marker = Path.Combine("/tmp", $"skiff-escape-marker-{Guid.NewGuid():N}");

    public EscapeTests() => File.WriteAllText(_marker, "host\n");

    public void Dispose()
    {
        File.Delete(_marker);
        _bundle.Dispose();
    }

    /// <summary>
    /// The host's marker file, reached from the process's cwd by enough ".." to climb any host directory: it can only
    /// be read if the cwd is a host directory, since the container's own /tmp has no such file.
    /// </summary>
    private string ClimbToTheMarker => $"cat /proc/self/cwd/{string.Concat(Enumerable.Repeat("../", 16))}{_marker.TrimStart('/')}";

    [ContainerFact]
    public void ACwdThroughALeakedDescriptorNeverReachesTheHost()
    {
        // runc 1.1.11 left a host directory open at fd 7 or 8 while it chdir'ed into process.cwd.
        for (int fd = 3; fd <= 12; fd++)
        {
            _bundle.Spec.Process!.Cwd = $"/proc/self/fd/{fd}";
            var result = _bundle.Run("sh", "-c", ClimbToTheMarker);
            Assert.DoesNotContain("host", result.Stdout);
        }
    }

    [ContainerFact]
    public void AnExecCwdThroughALeakedDescriptorNeverReachesTheHost()
    {
        var id = _bundle.NewId();
        _bundle.CreateSleeping(id);
        for (int fd = 3; fd <= 12; fd++)
        {
            var result = _bundle.Runtime("exec", "--cwd", $"/proc/self/fd/{fd}", id, "sh", "-c", ClimbToTheMarker);
            Assert.DoesNotContain("host", result.Stdout);
        }
    }

    [ContainerFact]
    public void TheContainersInitCannotBeOverwrittenThroughProcExe()
    {
        // While created, the container's process is skiff-init waiting to execve the program: what a process of the
        // container could open through /proc/PID/exe is a sealed memfd copy, never the host's binary.
        var initBefore = File.ReadAllBytes(Path.Combine(Repo.Root, "bin", "skiff-init"));
        int pid = _bundle.CreateSleeping(_bundle.NewId());
        var exe = new FileInfo($"/proc/{pid}/exe").LinkTarget;
        Assert.StartsWith("/memfd:", exe);
        bool written;
        try
        {
            using SafeFileHandle handle = File.OpenHandle($"/proc/{pid}/exe", FileMode.Open, FileAccess.Write);
            RandomAccess.Write(handle, "overwritten"u8, 0);
            written = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            written = false; // ETXTBSY while it runs, EPERM once sealed
        }
        Assert.False(written, "the container's init binary took a write");
        Assert.Equal(initBefore, File.ReadAllBytes(Path.Combine(Repo.Root, "bin", "skiff-init")));
    }
}
