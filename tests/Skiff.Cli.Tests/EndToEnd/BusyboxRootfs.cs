using System.Diagnostics;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>The test image's content: the host's busybox-static with a few applets, /etc/passwd and /etc/group, as a tarball to import.</summary>
internal static class BusyboxRootfs
{
    public static void WriteTarball(string rootfs, string tarball)
    {
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        Directory.CreateDirectory(Path.Combine(rootfs, "tmp"));
        using (var chmod = Process.Start("chmod", ["1777", Path.Combine(rootfs, "tmp")])!)
            chmod.WaitForExit();
        File.Copy(File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in new[] { "sh", "echo", "cat", "sleep", "id", "ls", "ln", "hostname" })
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
        using var tar = Process.Start("tar", ["-C", rootfs, "-cf", tarball, "."])!;
        tar.WaitForExit();
    }
}
