using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using Skiff.Images.Tests.Archive;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>skiff cp on real containers: both directions, tar streams, symlinks that point out, stopped containers, failures.</summary>
public sealed partial class EngineCliTests
{
    private const string ContainerPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n";

    private string HostTree()
    {
        string source = Path.Combine(_temp.Path, "src");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        File.WriteAllText(Path.Combine(source, "a.txt"), "alpha\n");
        File.WriteAllText(Path.Combine(source, "sub", "b.txt"), "beta\n");
        using (var chown = Process.Start("chown", ["-R", "1234:1234", source])!)
            chown.WaitForExit();
        return source;
    }

    private async Task<string> Exec(string container, string command) => (await Ok("exec", container, "sh", "-c", command)).Stdout;

    [Fact]
    public async Task CopyRoundTripsFilesDirectoriesAndTarStreams()
    {
        await Ok("run", "-d", "--name", "cpbox", Image, "sleep", "1000");
        string source = HostTree();

        await Ok("cp", Path.Combine(source, "a.txt"), "cpbox:/tmp/");
        await Ok("cp", "-a", Path.Combine(source, "a.txt"), "cpbox:/tmp/kept.txt");
        Assert.Equal("alpha\nalpha\n", await Exec("cpbox", "cat /tmp/a.txt /tmp/kept.txt"));
        Assert.Equal("0 0\n1234 1234\n", await Exec("cpbox", "ls -ln /tmp/a.txt /tmp/kept.txt | while read m l u g rest; do echo $u $g; done"));

        await Ok("cp", source, "cpbox:/tmp/newdir"); // a new name: the directory becomes it
        await Ok("cp", source, "cpbox:/tmp/newdir"); // an existing directory: copied into it
        await Ok("cp", source + "/.", "cpbox:/tmp/contents");
        Assert.Equal("beta\nbeta\nalpha\n", await Exec("cpbox", "cat /tmp/newdir/sub/b.txt /tmp/newdir/src/sub/b.txt /tmp/contents/a.txt"));

        string back = Path.Combine(_temp.Path, "back");
        await Ok("cp", "cpbox:/tmp/newdir", back);
        Assert.Equal("beta\n", File.ReadAllText(Path.Combine(back, "sub", "b.txt")));
        await Ok("cp", "cpbox:/tmp/contents/.", back);
        Assert.Equal("alpha\n", File.ReadAllText(Path.Combine(back, "a.txt")));
        await Ok("cp", "cpbox:/tmp/a.txt", Path.Combine(back, "renamed.txt"));
        Assert.Equal("alpha\n", File.ReadAllText(Path.Combine(back, "renamed.txt")));

        // A tar out keeps the container's owners; a tar in is unpacked into the directory named.
        await Ok("exec", "-u", "nobody", "cpbox", "sh", "-c", "echo mine > /tmp/owned");
        var tar = await Ok("cp", "cpbox:/tmp/owned", "-");
        using (var reader = new TarReader(new MemoryStream(Encoding.Latin1.GetBytes(tar.Stdout))))
        {
            var entry = reader.GetNextEntry()!;
            Assert.Equal("owned", entry.Name);
            Assert.Equal(65534, entry.Uid);
            Assert.Equal("mine\n", new StreamReader(entry.DataStream!).ReadToEnd());
        }
        var input = new MemoryStream();
        using (var writer = new TarWriter(input, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "fromtar/"));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "fromtar/c.txt") { DataStream = new MemoryStream("gamma\n"u8.ToArray()) });
        }
        Assert.Equal(0, (await Skiff.RunWithInputAsync(Root, Encoding.Latin1.GetString(input.ToArray()), "cp", "-", "cpbox:/tmp")).ExitCode);
        Assert.Equal("gamma\n", await Exec("cpbox", "cat /tmp/fromtar/c.txt"));
    }

    [Fact]
    public async Task CopyKeepsNamesThatAreNotUtf8ByteForByte()
    {
        await Ok("run", "-d", "--name", "cpnames", Image, "sleep", "1000");
        // "café" in Latin-1 (0xe9 alone is not UTF-8), and a symlink to it.
        await Exec("cpnames", "mkdir /tmp/n && printf latin-1 > \"/tmp/n/caf$(printf '\\351')\" && ln -s \"caf$(printf '\\351')\" \"/tmp/n/link$(printf '\\376')\"");
        string cafe = global::Skiff.Interop.FileNames.Decode([.. "caf"u8, 0xe9]);
        string link = global::Skiff.Interop.FileNames.Decode([.. "link"u8, 0xfe]);

        // diff prints the name's own bytes ("caf" 0xe9), as docker does.
        string diff = ExternalTool.Run("sh", "-c", $"{Skiff.Binary} --root {Root} diff cpnames | od -An -tx1 | tr -d ' \\n'");
        Assert.Contains("41202f746d702f6e2f636166e90a", diff); // "A /tmp/n/caf" 0xe9 "\n"

        string back = Path.Combine(_temp.Path, "names");
        await Ok("cp", "cpnames:/tmp/n", back);
        Assert.Equal([cafe, link], global::Skiff.Interop.FileTree.Names(back).Order(StringComparer.Ordinal));
        using (var reader = new StreamReader(global::Skiff.Interop.FileTree.OpenRead(Path.Combine(back, cafe))))
            Assert.Equal("latin-1", reader.ReadToEnd());
        Assert.Equal(cafe, global::Skiff.Interop.Interop.Libc.ReadLink(Path.Combine(back, link)));

        await Ok("cp", back, "cpnames:/tmp/m");
        Assert.Equal("latin-1 latin-1", await Exec("cpnames", "cat \"/tmp/m/caf$(printf '\\351')\"; printf ' '; cat \"/tmp/m/link$(printf '\\376')\""));
    }

    [Fact]
    public async Task CopyWritesThroughADestinationSymlinkAsDocker()
    {
        await Ok("run", "-d", "--name", "cplink", Image, "sleep", "1000");
        await Exec("cplink", "mkdir -p /data && echo old > /data/real && ln -s /data/real /tmp/file-link && ln -s ../data /tmp/dir-link && ln -s /data/new /tmp/dangling");
        string source = HostTree();

        await Ok("cp", Path.Combine(source, "a.txt"), "cplink:/tmp/file-link");
        await Ok("cp", Path.Combine(source, "a.txt"), "cplink:/tmp/dir-link");
        await Ok("cp", Path.Combine(source, "a.txt"), "cplink:/tmp/dangling");

        // The links stay links; what they name got the content, the dangling one's target included.
        Assert.Equal("alpha\nalpha\nalpha\n", await Exec("cplink", "cat /data/real /data/a.txt /data/new"));
        Assert.Equal("/data/real ../data /data/new\n", await Exec("cplink", "echo $(readlink /tmp/file-link) $(readlink /tmp/dir-link) $(readlink /tmp/dangling)"));
    }

    [Fact]
    public async Task CopyStaysInsideTheContainerThroughSymlinks()
    {
        await Ok("run", "-d", "--name", "cpescape", Image, "sleep", "1000");
        await Exec("cpescape", "ln -s /etc /tmp/hostetc && ln -s ../../../../../../etc /tmp/climb");
        string output = Path.Combine(_temp.Path, "passwd");
        await Ok("cp", "cpescape:/tmp/hostetc/passwd", output);
        Assert.Equal(ContainerPasswd, File.ReadAllText(output));
        string followed = Path.Combine(_temp.Path, "followed");
        await Ok("cp", "-L", "cpescape:/tmp/climb", followed);
        Assert.Equal(ContainerPasswd, File.ReadAllText(Path.Combine(followed, "passwd")));

        string name = $"skiff-cp-escape-{Guid.NewGuid():N}";
        string file = Path.Combine(_temp.Path, name);
        File.WriteAllText(file, "inside\n");
        try
        {
            await Ok("cp", file, "cpescape:/tmp/climb/");
            Assert.False(File.Exists(Path.Combine("/etc", name)), "cp wrote into the host's /etc");
            Assert.Equal("inside\n", await Exec("cpescape", $"cat /etc/{name}"));
        }
        finally
        {
            File.Delete(Path.Combine("/etc", name));
        }
    }

    [Fact]
    public async Task CopyIntoAStoppedContainerIsSeenWhenItStarts()
    {
        await Ok("create", "--name", "cpstopped", Image, "cat", "/greeting");
        string file = Path.Combine(_temp.Path, "greeting");
        File.WriteAllText(file, "hello from the host\n");
        await Ok("cp", file, "cpstopped:/");
        Assert.Equal("hello from the host\n", (await Ok("start", "-a", "cpstopped")).Stdout);
        var tar = await Ok("cp", "cpstopped:/greeting", "-");
        Assert.Contains("hello from the host", tar.Stdout);
    }

    [Fact]
    public async Task CopyMountsAnUnmountedRootfsForTheCallOnly()
    {
        string id = (await Ok("create", "--name", "cprebooted", Image, "true")).Stdout.Trim();
        string rootfs = Path.Combine(Root, "rootfs", id);
        // As after a reboot: the rootfs is prepared but not mounted.
        using (var umount = Process.Start("umount", [rootfs])!)
            umount.WaitForExit();
        Assert.False(IsMountPoint(rootfs));
        string file = Path.Combine(_temp.Path, "note");
        File.WriteAllText(file, "written while unmounted\n");
        await Ok("cp", file, "cprebooted:/tmp/");
        Assert.False(IsMountPoint(rootfs));
        Assert.Contains("written while unmounted", (await Ok("cp", "cprebooted:/tmp/note", "-")).Stdout);
        Assert.False(IsMountPoint(rootfs));
    }

    [Fact]
    public async Task CopyRefusesReadOnlyMountsOfAStoppedContainer()
    {
        await Ok("create", "--name", "cpreadonly", "-v", "cpro:/data:ro", Image, "true");
        await Ok("create", "--name", "cpreadonlyroot", "--read-only", Image, "true");
        string file = Path.Combine(_temp.Path, "refused");
        File.WriteAllText(file, "no\n");
        foreach (var target in new[] { "cpreadonly:/data/", "cpreadonlyroot:/tmp/" })
        {
            var result = await Skiff.RunAsync(Root, "cp", file, target);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("read-only", result.Stderr);
        }
        Assert.Equal(1, (await Skiff.RunAsync(Root, "cp", "cpreadonly:/data/refused", "-")).ExitCode);
        await Ok("run", "-d", "--name", "cpreadonlyrunning", "--read-only", Image, "sleep", "1000");
        Assert.Equal(1, (await Skiff.RunAsync(Root, "cp", file, "cpreadonlyrunning:/tmp/")).ExitCode);
        await Ok("rm", "cpreadonly");
        await Ok("volume", "rm", "cpro");
    }

    [Fact]
    public async Task CopyReachesVolumesOfRunningAndStoppedContainers()
    {
        await Ok("run", "-d", "--name", "cpvolumes", "-v", "cpvol:/data", Image, "sleep", "1000");
        string file = Path.Combine(_temp.Path, "shared");
        File.WriteAllText(file, "in the volume\n");
        await Ok("cp", file, "cpvolumes:/data/");
        await Ok("create", "--name", "cpvolumesstopped", "-v", "cpvol:/data", Image, "true");
        Assert.Contains("in the volume", (await Ok("cp", "cpvolumesstopped:/data/shared", "-")).Stdout);
        Assert.Equal("in the volume\n", (await Ok("run", "--rm", "-v", "cpvol:/mnt", Image, "cat", "/mnt/shared")).Stdout);
        await Ok("rm", "-f", "cpvolumes", "cpvolumesstopped");
        await Ok("volume", "rm", "cpvol");
    }

    private static bool IsMountPoint(string path)
        => File.ReadAllLines("/proc/self/mountinfo").Any(line => line.Split(' ')[4] == path);

    [Fact]
    public async Task CopyFailuresExitOneWithOneLine()
    {
        await Ok("run", "-d", "--name", "cperrors", Image, "sleep", "1000");
        string target = Path.Combine(_temp.Path, "out");
        (string[] Args, string Message)[] cases =
        [
            (["cp", "cperrors:/no/such", target], "no such file or directory"),
            (["cp", "cperrors:/etc/passwd/", target], "not a directory"),
            (["cp", Path.Combine(_temp.Path, "missing"), "cperrors:/tmp"], "no such file or directory"),
            (["cp", "nosuchcontainer:/etc", target], "no such container"),
            (["cp", "cperrors:/etc", "cperrors:/etc/passwd"], "between containers"),
        ];
        foreach (var (args, message) in cases)
        {
            var result = await Skiff.RunAsync(Root, args);
            Assert.True(result.ExitCode == 1, $"skiff {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}");
            Assert.Contains(message, result.Stderr);
            Assert.StartsWith("skiff: ", result.Stderr);
            Assert.Single(result.Stderr.TrimEnd().Split('\n'));
        }
        Assert.False(Path.Exists(target));
    }
}
