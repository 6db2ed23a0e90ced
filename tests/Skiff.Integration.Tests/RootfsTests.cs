using Skiff.Oci;
using static Skiff.Integration.Tests.ContainerHelpers;

namespace Skiff.Integration.Tests;

/// <summary>The container's root: pivot_root and --no-pivot, root.readonly, rootfsPropagation, symlinks in the image.</summary>
public sealed class RootfsTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    private const string ListRootAndMarker = "ls / | tr '\\n' ' '; echo; cat /marker; test -e /tmp/$HOSTFILE && echo host-file-visible; cat /proc/self/mountinfo";

    private static void AssertIsolatedRoot(string output, string rootfsEntries)
    {
        var lines = output.Split('\n');
        Assert.Equal(rootfsEntries, lines[0]);
        Assert.Equal("marker-in-rootfs", lines[1]);
        Assert.DoesNotContain("host-file-visible", output);
        // The host's root is gone from the mount table: nothing above the rootfs is left mounted.
        var mountinfo = string.Join('\n', lines[2..]);
        Assert.Single(MountInfoLines(mountinfo, "/"));
        Assert.DoesNotContain("/mnt/sandboxing", mountinfo);
        Assert.Empty(MountInfoLines(mountinfo, "/work"));
    }

    private (string HostFile, string Entries) PrepareMarkers()
    {
        File.WriteAllText(Path.Combine(_bundle.Rootfs, "marker"), "marker-in-rootfs\n");
        var hostFile = Unique("skiff-host-only");
        File.WriteAllText(Path.Combine("/tmp", hostFile), "host");
        _bundle.Spec.Process!.Env!.Add($"HOSTFILE={hostFile}");
        var entries = string.Concat(Directory.EnumerateFileSystemEntries(_bundle.Rootfs).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(e => e + " "));
        return (hostFile, entries);
    }

    [ContainerFact]
    public void PivotRootShowsOnlyTheRootfs()
    {
        var (hostFile, entries) = PrepareMarkers();
        try
        {
            AssertIsolatedRoot(_bundle.Sh(ListRootAndMarker), entries);
        }
        finally
        {
            File.Delete(Path.Combine("/tmp", hostFile));
        }
    }

    [ContainerFact]
    public void NoPivotShowsOnlyTheRootfs()
    {
        var (hostFile, entries) = PrepareMarkers();
        try
        {
            var (stdout, stderr) = _bundle.CreateStartWait(_bundle.NewId(), ["sh", "-c", ListRootAndMarker], "--no-pivot");
            Assert.True(stderr.Length == 0, stderr);
            AssertIsolatedRoot(stdout, entries);
        }
        finally
        {
            File.Delete(Path.Combine("/tmp", hostFile));
        }
    }

    [ContainerFact]
    public void ReadonlyRootRefusesWritesButMountsOnItStayWritable()
    {
        _bundle.Spec.Root!.Readonly = true;
        _bundle.Spec.Mounts!.Add(new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });
        var result = _bundle.Run("sh", "-c", "touch /tmp/ok && echo tmp-writable; touch /root/x; echo touch-exit=$?");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("tmp-writable", result.Stdout);
        Assert.Contains("touch-exit=1", result.Stdout);
        Assert.Contains("Read-only file system", result.Stderr);
        Assert.False(File.Exists(Path.Combine(_bundle.Rootfs, "root", "x")));
    }

    [ContainerFact]
    public void WritableRootWritesReachTheRootfs()
    {
        _bundle.Spec.Root!.Readonly = false;
        _bundle.Sh("echo written > /root/x");
        Assert.Equal("written\n", File.ReadAllText(Path.Combine(_bundle.Rootfs, "root", "x")));
    }

    [ContainerFact]
    public void RootfsPropagationSharedMakesTheRootAPeer()
    {
        _bundle.Spec.Linux!.RootfsPropagation = "rshared";
        var root = MountInfoLines(_bundle.Sh("cat /proc/self/mountinfo"), "/").Single();
        Assert.Contains(" shared:", root);
    }

    [ContainerFact]
    public void RootfsPropagationPrivateHasNoPeers()
    {
        _bundle.Spec.Linux!.RootfsPropagation = "rprivate";
        var mountinfo = _bundle.Sh("cat /proc/self/mountinfo");
        var root = MountInfoLines(mountinfo, "/").Single();
        Assert.DoesNotContain(" shared:", root);
        Assert.DoesNotContain(" master:", root);
    }

    [ContainerFact]
    public void UnknownRootfsPropagationIsRejected()
    {
        _bundle.Spec.Linux!.RootfsPropagation = "sideways";
        var result = _bundle.Run("true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("sideways", result.Stderr);
    }

    [ContainerFact]
    public void AbsoluteSymlinkAsMountDestinationStaysInsideTheRootfs()
    {
        var target = Unique("/skiff-host-target");
        File.CreateSymbolicLink(Path.Combine(_bundle.Rootfs, "etc", "evil"), target);
        _bundle.Spec.Mounts!.Add(new Mount { Destination = "/etc/evil", Type = "tmpfs", Source = "skiff-evil", Options = ["size=1m"] });
        try
        {
            var id = _bundle.NewId();
            int pid = _bundle.CreateSleeping(id);
            // The link was followed inside the rootfs: the tmpfs sits on rootfs/<target>, created there.
            var container = File.ReadAllText($"/proc/{pid}/mountinfo");
            Assert.Single(MountInfoLines(container, target));
            Assert.True(Directory.Exists(_bundle.Rootfs + target), "the target should have been created inside the rootfs");
            Assert.False(Path.Exists(target), $"{target} was created on the host");
            Assert.DoesNotContain("skiff-evil", File.ReadAllText("/proc/self/mountinfo"));
        }
        finally
        {
            if (Directory.Exists(target))
                Directory.Delete(target);
        }
    }

    [ContainerFact]
    public void DotDotInAMountDestinationStaysInsideTheRootfs()
    {
        var target = Unique("skiff-dotdot");
        _bundle.Spec.Mounts!.Add(new Mount { Destination = $"/../../../../{target}", Type = "tmpfs", Source = "skiff-dotdot" });
        try
        {
            var id = _bundle.NewId();
            int pid = _bundle.CreateSleeping(id);
            Assert.Single(MountInfoLines(File.ReadAllText($"/proc/{pid}/mountinfo"), "/" + target));
            Assert.False(Path.Exists("/" + target), $"/{target} was created on the host");
        }
        finally
        {
            if (Directory.Exists("/" + target))
                Directory.Delete("/" + target);
        }
    }
}
