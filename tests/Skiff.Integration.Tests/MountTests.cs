using Skiff.Oci;
using static Skiff.Integration.Tests.ContainerHelpers;

namespace Skiff.Integration.Tests;

/// <summary>Every mount type of config.json, bind options and propagation, checked from inside the container.</summary>
public sealed class MountTests : IDisposable
{
    private readonly TestBundle _bundle = new();
    private readonly List<string> _hostDirs = [];

    public void Dispose()
    {
        _bundle.Dispose();
        foreach (var dir in _hostDirs)
        {
            // Every host mount the test made under dir (dir itself, submounts), deepest first.
            var mounted = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4])
                .Where(m => m == dir || m.StartsWith(dir + "/", StringComparison.Ordinal)).Reverse();
            foreach (var mountPoint in mounted)
                HostQuiet("umount", "-l", mountPoint);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private string HostDir()
    {
        var dir = Directory.CreateTempSubdirectory("skiff-mnt-").FullName;
        _hostDirs.Add(dir);
        return dir;
    }

    private void AddMount(string destination, string type, string? source, params string[] options)
        => _bundle.Spec.Mounts!.Add(new Mount { Destination = destination, Type = type, Source = source, Options = [.. options] });

    [ContainerFact]
    public void DefaultMountsHaveTheirTypesAndOptions()
    {
        var mounts = _bundle.Sh("cat /proc/mounts");
        Assert.StartsWith("proc /proc proc rw,", ProcMountsLine(mounts, "/proc"));
        var sys = ProcMountsLine(mounts, "/sys");
        Assert.StartsWith("sysfs /sys sysfs ro,nosuid,nodev,noexec", sys);
        var devpts = ProcMountsLine(mounts, "/dev/pts");
        Assert.StartsWith("devpts /dev/pts devpts rw,nosuid,noexec", devpts);
        Assert.Contains("gid=5", devpts);
        Assert.Contains("mode=620", devpts);
        Assert.Contains("ptmxmode=666", devpts);
        Assert.StartsWith("mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec", ProcMountsLine(mounts, "/dev/mqueue"));
        var shm = ProcMountsLine(mounts, "/dev/shm");
        Assert.StartsWith("shm /dev/shm tmpfs rw,nosuid,nodev,noexec", shm);
        Assert.Contains("size=65536k", shm); // mode=1777 is tmpfs's default, so /proc/mounts omits it
        Assert.StartsWith("tmpfs /dev tmpfs rw,nosuid", ProcMountsLine(mounts, "/dev"));
    }

    [ContainerFact]
    public void ProcAcceptsAProcfsAndTheFilesLxcfsEmulates()
    {
        // What runc lets through its /proc check: a bind of a procfs over /proc, and a file over /proc/uptime.
        var uptime = Path.Combine(HostDir(), "uptime");
        File.WriteAllText(uptime, "12345.67 890.12\n");
        AddMount("/proc", "bind", "/proc", "rbind");
        AddMount("/proc/uptime", "bind", uptime, "bind", "ro");
        Assert.Equal("12345.67 890.12", _bundle.Sh("cat /proc/uptime").Trim());
    }

    [ContainerFact]
    public void DevptsIsANewInstance()
    {
        // newinstance: none of the host's ptys, only this instance's ptmx (0666 from ptmxmode).
        var output = _bundle.Sh("ls /dev/pts | tr '\\n' ' '; echo; stat -c '%a' /dev/pts/ptmx; readlink /dev/ptmx");
        Assert.Equal(["ptmx ", "666", "pts/ptmx"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [ContainerFact]
    public void TmpfsHonoursSizeAndMode()
    {
        AddMount("/data", "tmpfs", "tmpfs", "size=2m", "mode=1730", "uid=12", "gid=34");
        var output = _bundle.Sh("stat -c '%a %u %g' /data; grep ' /data ' /proc/mounts; df -k /data | tail -1");
        var lines = output.Split('\n');
        Assert.Equal("1730 12 34", lines[0]);
        Assert.Contains("size=2048k", lines[1]);
        Assert.Contains("mode=1730", lines[1]);
        Assert.Equal("2048", lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    [ContainerFact]
    public void NoexecNosuidNodevTmpfs()
    {
        AddMount("/noexec", "tmpfs", "tmpfs", "noexec", "nosuid", "nodev");
        AddMount("/exec", "tmpfs", "tmpfs", "exec");
        var result = _bundle.Run("sh", "-c",
            "grep ' /noexec ' /proc/mounts; cp /bin/busybox /noexec/busybox; cp /bin/busybox /exec/busybox; /exec/busybox true && echo exec-ok; /noexec/busybox true; echo noexec-exit=$?");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("nosuid,nodev,noexec", result.Stdout);
        Assert.Contains("exec-ok", result.Stdout);
        Assert.Contains("noexec-exit=126", result.Stdout);
        Assert.Contains("Permission denied", result.Stderr);
    }

    [ContainerFact]
    public void CgroupV1HierarchiesAreTheContainersOwnAndReadOnly()
    {
        const long limit = 64L * 1024 * 1024;
        _bundle.Spec.Linux!.Resources!.Memory = new LinuxMemory { Limit = limit };
        var result = _bundle.Run("sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup | tr '\\n' ' '; echo; grep ' /sys/fs/cgroup/memory ' /proc/mounts; mkdir /sys/fs/cgroup/memory/child; echo mkdir-exit=$?");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Equal(limit.ToString(), lines[0]);
        foreach (var controller in new[] { "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids" })
            Assert.Contains($"{controller} ", lines[1]);
        Assert.StartsWith("cgroup /sys/fs/cgroup/memory cgroup ro,nosuid,nodev,noexec", lines[2]);
        Assert.Contains("mkdir-exit=1", result.Stdout);
        Assert.Contains("Read-only file system", result.Stderr);
    }

    [ContainerFact]
    public void BindMountsOfAHostDirectoryAndFile()
    {
        var dir = HostDir();
        File.WriteAllText(Path.Combine(dir, "from-host"), "dir-content\n");
        var file = Path.Combine(HostDir(), "single");
        File.WriteAllText(file, "file-content\n");
        AddMount("/mnt/dir", "bind", dir, "bind");
        AddMount("/etc/single", "bind", file, "rbind");
        var output = _bundle.Sh("cat /mnt/dir/from-host /etc/single; echo made > /mnt/dir/from-container; stat -c %F /etc/single");
        Assert.Equal("dir-content\nfile-content\nregular file\n", output);
        Assert.Equal("made\n", File.ReadAllText(Path.Combine(dir, "from-container")));
        // The mount point for the file was created inside the rootfs, not on the host.
        Assert.True(File.Exists(Path.Combine(_bundle.Rootfs, "etc", "single")));
    }

    [ContainerFact]
    public void RbindCarriesSubmountsAndBindDoesNot()
    {
        var dir = HostDir();
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        Host("mount", "-t", "tmpfs", "skiff-sub", Path.Combine(dir, "sub"));
        File.WriteAllText(Path.Combine(dir, "sub", "in-submount"), "x");
        AddMount("/mnt/r", "bind", dir, "rbind");
        AddMount("/mnt/nr", "bind", dir, "bind");
        var output = _bundle.Sh("ls /mnt/r/sub; echo ---; ls /mnt/nr/sub");
        Assert.Equal("in-submount\n---\n", output);
    }

    [ContainerFact]
    public void TmpcopyupCopiesWhatTheMountPointHeld()
    {
        // podman's --tmpfs and --read-only: runc's extension fills the new tmpfs with the image's directory.
        var data = Path.Combine(_bundle.Rootfs, "data");
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        File.WriteAllText(Path.Combine(data, "a"), "from-image");
        File.WriteAllText(Path.Combine(data, "sub", "b"), "nested");
        File.CreateSymbolicLink(Path.Combine(data, "link"), "a");
        Host("mkfifo", "-m", "600", Path.Combine(data, "fifo"));
        Host("chown", "12:34", Path.Combine(data, "a"));
        Host("chmod", "604", Path.Combine(data, "a"));
        Host("chown", "5:6", data);
        Host("chmod", "751", data);
        AddMount("/data", "tmpfs", "tmpfs", "rw", "nosuid", "tmpcopyup");
        // A mount point the image lacks has nothing to copy and keeps tmpfs's own mode, as with runc.
        AddMount("/fresh", "tmpfs", "tmpfs", "tmpcopyup");
        var output = _bundle.Sh("grep -c '^tmpfs /data tmpfs' /proc/mounts; stat -c '%n %a %u %g %F' /data /data/a /data/fifo /fresh; readlink /data/link; cat /data/a /data/sub/b; echo new > /data/sub/new");
        Assert.Equal("1\n/data 751 5 6 directory\n/data/a 604 12 34 regular file\n/data/fifo 600 0 0 fifo\n/fresh 1777 0 0 directory\na\nfrom-imagenested", output);
        Assert.False(File.Exists(Path.Combine(data, "sub", "new")), "the write went to the image, not the tmpfs");
    }

    [ContainerFact]
    public void RecursiveReadOnlyCoversSubmounts()
    {
        var dir = HostDir();
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        Host("mount", "-t", "tmpfs", "skiff-sub", Path.Combine(dir, "sub"));
        AddMount("/mnt/r", "bind", dir, "rbind", "rro");
        var result = _bundle.Run("sh", "-c", "touch /mnt/r/x; echo top=$?; touch /mnt/r/sub/x; echo sub=$?");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("top=1\nsub=1\n", result.Stdout);
        Assert.False(File.Exists(Path.Combine(dir, "sub", "x")));
    }

    [ContainerFact]
    public void ReadOnlyBindRefusesWrites()
    {
        var dir = HostDir();
        var file = Path.Combine(HostDir(), "ro-file");
        File.WriteAllText(file, "keep");
        AddMount("/mnt/ro", "bind", dir, "rbind", "ro");
        AddMount("/etc/ro-file", "bind", file, "bind", "ro");
        var result = _bundle.Run("sh", "-c", "touch /mnt/ro/x; echo dir-exit=$?; echo changed > /etc/ro-file; echo file-exit=$?; grep ' /mnt/ro ' /proc/mounts");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("dir-exit=1", result.Stdout);
        Assert.Contains("file-exit=1", result.Stdout);
        Assert.Contains(" ro,", result.Stdout);
        Assert.Contains("Read-only file system", result.Stderr);
        Assert.False(File.Exists(Path.Combine(dir, "x")));
        Assert.Equal("keep", File.ReadAllText(file));
    }

    [ContainerFact]
    public void BindPropagationOptionsShowInMountinfo()
    {
        // The host's mounts here are private: give the source a shared peer group of its own.
        var dir = HostDir();
        Host("mount", "--bind", dir, dir);
        Host("mount", "--make-shared", dir);
        AddMount("/mnt/private", "bind", dir, "rbind", "rprivate");
        AddMount("/mnt/slave", "bind", dir, "rbind", "rslave");
        AddMount("/mnt/shared", "bind", dir, "rbind", "rshared");
        var mountinfo = _bundle.Sh("cat /proc/self/mountinfo");
        var priv = MountInfoLines(mountinfo, "/mnt/private").Single();
        Assert.DoesNotContain(" shared:", priv);
        Assert.DoesNotContain(" master:", priv);
        var slave = MountInfoLines(mountinfo, "/mnt/slave").Single();
        Assert.Contains(" master:", slave);
        Assert.DoesNotContain(" shared:", slave);
        Assert.Contains(" shared:", MountInfoLines(mountinfo, "/mnt/shared").Single());
    }

    [ContainerFact]
    public void SlaveBindReceivesHostMountsAndPrivateDoesNot()
    {
        var dir = HostDir();
        Directory.CreateDirectory(Path.Combine(dir, "later"));
        Host("mount", "--bind", dir, dir);
        Host("mount", "--make-shared", dir);
        AddMount("/mnt/slave", "bind", dir, "rbind", "rslave");
        AddMount("/mnt/private", "bind", dir, "rbind", "rprivate");
        int pid = _bundle.CreateSleeping(_bundle.NewId());
        Host("mount", "-t", "tmpfs", "skiff-later", Path.Combine(dir, "later"));
        File.WriteAllText(Path.Combine(dir, "later", "propagated"), "x");
        var mountinfo = File.ReadAllText($"/proc/{pid}/mountinfo");
        Assert.Single(MountInfoLines(mountinfo, "/mnt/slave/later"));
        Assert.Empty(MountInfoLines(mountinfo, "/mnt/private/later"));
        Assert.True(File.Exists($"/proc/{pid}/root/mnt/slave/later/propagated"));
    }

    [ContainerFact]
    public void DefaultDevicesHaveTheirNumbersAndModes()
    {
        var output = _bundle.Sh("for d in null zero full random urandom tty; do echo \"$d $(stat -c '%F %t:%T %a %u:%g' /dev/$d)\"; done");
        Assert.Equal(
            "null character special file 1:3 666 0:0\nzero character special file 1:5 666 0:0\nfull character special file 1:7 666 0:0\n" +
            "random character special file 1:8 666 0:0\nurandom character special file 1:9 666 0:0\ntty character special file 5:0 666 0:0\n",
            output);
    }

    [ContainerFact]
    public void DevHasTheStandardSymlinksAndNothingElseOfTheHost()
    {
        var output = _bundle.Sh("ls -A /dev | tr '\\n' ' '; echo; for l in fd stdin stdout stderr ptmx; do echo \"$l -> $(readlink /dev/$l)\"; done; echo hi > /dev/null; head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c");
        var lines = output.Split('\n');
        // /dev/core -> /proc/kcore only where the host kernel has a kcore (this one may not).
        var core = File.Exists("/proc/kcore") ? "core " : "";
        Assert.Equal($"{core}fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ", lines[0]);
        Assert.Equal(["fd -> /proc/self/fd", "stdin -> /proc/self/fd/0", "stdout -> /proc/self/fd/1", "stderr -> /proc/self/fd/2", "ptmx -> pts/ptmx"], lines[1..6]);
        // The default spec's device cgroup denies everything; the default devices must still work.
        Assert.Equal(["4", "4"], lines[6..8].Select(l => l.Trim()));
    }

    [ContainerFact]
    public void LinuxDevicesAreCreatedWithModeAndOwner()
    {
        _bundle.Spec.Linux!.Devices =
        [
            new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 0x1A0 /* 0640 */, UID = 1000, GID = 1001 },
            new LinuxDevice { Path = "/dev/sub/loopish", Type = "b", Major = 7, Minor = 200, FileMode = 0x180 /* 0600 */ },
            new LinuxDevice { Path = "/dev/myfifo", Type = "p", FileMode = 0x1B6 /* 0666 */ },
        ];
        var output = _bundle.Sh("stat -c '%F %t:%T %a %u:%g' /dev/fuse /dev/sub/loopish /dev/myfifo");
        Assert.Equal("character special file a:e5 640 1000:1001\nblock special file 7:c8 600 0:0\nfifo 0:0 666 0:0\n", output);
    }

    [ContainerFact]
    public void MaskedPathsReadEmptyAndMaskedDirectoriesAreEmptyReadOnly()
    {
        var result = _bundle.Run("sh", "-c",
            "wc -c < /proc/keys; cat /proc/timer_list | wc -c; ls -A /sys/firmware | wc -l; grep ' /sys/firmware ' /proc/mounts; touch /sys/firmware/x; echo touch-exit=$?");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Equal(["0", "0", "0"], lines[..3].Select(l => l.Trim()));
        Assert.StartsWith("tmpfs /sys/firmware tmpfs ro", lines[3]);
        Assert.Contains("touch-exit=1", result.Stdout);
        Assert.Contains("Read-only file system", result.Stderr);
        // On the host they are not empty: the emptiness inside is the mask's doing.
        Assert.NotEqual(0, File.ReadAllText("/proc/timer_list").Length);
        Assert.NotEqual(0, File.ReadAllText("/proc/keys").Length);
    }

    [ContainerFact]
    public void ReadonlyPathsRefuseWrites()
    {
        _bundle.Spec.Process!.Capabilities!.Bounding!.Add("CAP_SYS_ADMIN");
        _bundle.Spec.Process.Capabilities.Effective!.Add("CAP_SYS_ADMIN");
        _bundle.Spec.Process.Capabilities.Permitted!.Add("CAP_SYS_ADMIN");
        // With CAP_SYS_ADMIN the write would succeed on a writable /proc/sys: the error must be EROFS.
        var result = _bundle.Run("sh", "-c", "echo other > /proc/sys/kernel/hostname; echo exit=$?; grep ' /proc/sys ' /proc/mounts; hostname");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("exit=1", result.Stdout);
        Assert.Contains("proc /proc/sys proc ro,", result.Stdout);
        Assert.Contains("Read-only file system", result.Stderr);
        Assert.EndsWith("skiff\n", result.Stdout);
    }

    [ContainerFact]
    public void SysctlsAreSetInTheContainersNamespacesOnly()
    {
        var hostForward = File.ReadAllText("/proc/sys/net/ipv4/ip_forward");
        var hostShmmax = File.ReadAllText("/proc/sys/kernel/shmmax");
        _bundle.Spec.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = hostForward.Trim() == "1" ? "0" : "1", ["kernel.shmmax"] = "123456789" };
        var output = _bundle.Sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax");
        Assert.Equal($"{(hostForward.Trim() == "1" ? "0" : "1")}\n123456789\n", output);
        Assert.Equal(hostForward, File.ReadAllText("/proc/sys/net/ipv4/ip_forward"));
        Assert.Equal(hostShmmax, File.ReadAllText("/proc/sys/kernel/shmmax"));
    }
}
