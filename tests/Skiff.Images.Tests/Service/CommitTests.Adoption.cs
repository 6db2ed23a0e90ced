using System.Security.Cryptography;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Tests.Service;

/// <summary>
/// A commit that consumes its rootfs (<see cref="CommitRequest.ConsumeRootfs"/>, a build step's) makes the upper dir
/// the layer's snapshot: it must be, file for file, what unpacking the committed blob gives. Runs as root.
/// </summary>
public sealed partial class CommitTests
{
    private static readonly DateTimeOffset Time = new(2021, 2, 3, 4, 5, 6, TimeSpan.Zero);

    private static void SetTime(string path)
    {
        var time = Time.UtcDateTime;
        if (Directory.Exists(path))
            Directory.SetLastWriteTimeUtc(path, time);
        else
            File.SetLastWriteTimeUtc(path, time);
    }

    /// <summary>
    /// What a build step leaves in its upper dir, as overlayfs leaves it: a deletion (whiteout), a directory made
    /// again (opaque), a copy-up's bookkeeping xattrs, hard links, symlinks, modes, owners, file capabilities,
    /// devices; and the engine's mount points (/proc, /dev/shm, /etc/hosts) the layer leaves out.
    /// </summary>
    private static void WriteStep(string upper)
    {
        string etc = Directory.CreateDirectory(Path.Combine(upper, "etc")).FullName;
        Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(etc, "gone"), Libc.S_IFCHR, Libc.MakeDev(0, 0)), "mknodat", "gone");
        File.WriteAllText(Path.Combine(etc, "stays"), "changed");
        Libc.SetXattrNoFollow(Path.Combine(etc, "stays"), "trusted.overlay.origin", "bookkeeping"u8);
        Libc.SetXattrNoFollow(etc, "trusted.overlay.impure", "y"u8);
        File.WriteAllText(Path.Combine(etc, "hosts"), "");
        string keep = Directory.CreateDirectory(Path.Combine(upper, "keep")).FullName;
        Libc.SetXattrNoFollow(keep, LowerLayersView.OpaqueXattr, "y"u8);
        File.WriteAllText(Path.Combine(keep, "new"), "new");

        string app = Directory.CreateDirectory(Path.Combine(upper, "app")).FullName;
        string tool = Path.Combine(app, "tool");
        File.WriteAllText(tool, "binary");
        Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, tool, 1000, 2000, 0), "fchownat", tool);
        Errno.Check(Libc.FchmodAt(Libc.AT_FDCWD, tool, 0x9ed /* 04755 */, 0), "fchmodat", tool);
        Libc.SetXattrNoFollow(tool, "security.capability", NetRawCapability);
        Libc.SetXattrNoFollow(tool, "user.note", "kept"u8);
        Libc.SetXattrNoFollow(tool, "trusted.overlay.origin", "copied up"u8); // on an inode of two names
        Errno.Check(Libc.LinkAt(Libc.AT_FDCWD, tool, Libc.AT_FDCWD, Path.Combine(app, "tool-link"), 0), "linkat", tool);
        File.CreateSymbolicLink(Path.Combine(app, "absolute"), "/bin/tool");
        File.CreateSymbolicLink(Path.Combine(app, "relative"), "../bin/tool");
        File.CreateSymbolicLink(Path.Combine(app, "dangling"), "nowhere");
        string secret = Directory.CreateDirectory(Path.Combine(app, "private")).FullName;
        File.WriteAllText(Path.Combine(secret, "key"), "k");
        Errno.Check(Libc.FchmodAt(Libc.AT_FDCWD, Path.Combine(secret, "key"), 0x1a0 /* 0640 */, 0), "fchmodat", "key");
        Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, secret, 5, 6, 0), "fchownat", secret);
        Errno.Check(Libc.FchmodAt(Libc.AT_FDCWD, secret, 0x1c0 /* 0700 */, 0), "fchmodat", secret);
        Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(app, "null"), Libc.S_IFCHR | 0x1b6, Libc.MakeDev(1, 3)), "mknodat", "null");
        Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(app, "fifo"), Libc.S_IFIFO | 0x1a4, 0), "mknodat", "fifo");
        Directory.CreateDirectory(Path.Combine(app, "empty"));

        Directory.CreateDirectory(Path.Combine(upper, "proc"));
        Directory.CreateDirectory(Path.Combine(upper, "dev", "shm"));
        foreach (string path in new[] { Path.Combine(etc, "stays"), Path.Combine(keep, "new"), tool, secret, app, keep, etc, Path.Combine(upper, "dev") })
            SetTime(path);
    }

    private static readonly MountTargets EngineTargets = new(["/proc", "/dev/shm", "/etc/hosts"]);

    /// <summary>
    /// Every entry below <paramref name="root"/> as one line: type, mode, owner, size, content hash, link target,
    /// device, xattrs, the first name of its hard-link group, and its mtime at the 100 ns a layer keeps (a whiteout's
    /// time is not in the layer; the root's is the unpack's). The root's mode, owner and xattrs first.
    /// </summary>
    private static List<string> Describe(string root)
    {
        var lines = new List<string>();
        var links = new Dictionary<ulong, string>();
        var rootStatus = Libc.TryStatAt(FileDescriptor.CurrentDirectory, root)!.Value;
        lines.Add($"/ {Octal(rootStatus.Mode)} {rootStatus.Uid}:{rootStatus.Gid} {Xattrs(root)}");
        Walk(root, "");
        return lines;

        void Walk(string directory, string prefix)
        {
            foreach (string name in FileTree.Names(directory).Order(StringComparer.Ordinal))
            {
                string path = Path.Combine(directory, name);
                string relative = prefix + name;
                var status = Libc.TryStatAt(FileDescriptor.CurrentDirectory, path)!.Value;
                uint type = status.Mode & Libc.S_IFMT;
                string content = type == Libc.S_IFREG ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : "";
                string link = type == Libc.S_IFLNK ? Libc.ReadLink(path) : "";
                string group = "";
                if (type != Libc.S_IFDIR && status.Nlink > 1 && !links.TryAdd(status.Ino, relative))
                    group = "=" + links[status.Ino];
                string time = LowerLayersView.IsWhiteout(status) ? "" : $"{status.Mtime.Seconds}.{status.Mtime.Nanoseconds / 100:D7}";
                lines.Add($"{relative} {Octal(status.Mode)} {status.Uid}:{status.Gid} {status.Size} {content} {link} {status.RdevMajor}:{status.RdevMinor} {Xattrs(path)} {group} {time}");
                if (type == Libc.S_IFDIR)
                    Walk(path, relative + "/");
            }
        }

        static string Octal(ushort mode) => Convert.ToString(mode, 8);

        static string Xattrs(string path)
            => string.Join(",", Libc.ListXattrsNoFollow(path).Order(StringComparer.Ordinal).Select(name => name + "=" + Convert.ToHexString(Libc.GetXattrNoFollow(path, name)!)));
    }

    [Fact]
    public void ConsumedUpperDirBecomesTheSnapshotTheBlobUnpacksTo()
    {
        var parent = ImportBase();
        var upper = _service.PrepareRootfs(parent.Id, "step").UpperDir!;
        WriteStep(upper);

        var committed = _service.Commit(new CommitRequest { ContainerId = "step", ImageId = parent.Id, MountTargets = EngineTargets, ConsumeRootfs = true });

        Assert.False(Directory.Exists(upper)); // moved, not copied: the snapshot is the upper dir
        string snapshot = _service.Snapshotter.LayerPath(committed.ChainIds[1]);
        var diffId = Digest.Parse(committed.Layers[1].DiffId);
        var lowers = new[] { _service.Snapshotter.LayerPath(committed.ChainIds[0]) };

        string unpacked = Directory.CreateDirectory(Path.Combine(_temp.Path, "unpacked")).FullName;
        using (var blob = _service.Content.Open(Digest.Parse(committed.Layers[1].BlobDigest)))
            Assert.Equal(diffId, new LayerUnpacker { LowerLayers = lowers }.Unpack(blob, unpacked).DiffId);
        Assert.Equal(0x1ed, (int)(Libc.TryStatAt(FileDescriptor.CurrentDirectory, unpacked)!.Value.Mode & 0xfff));
        var expected = Describe(unpacked);
        Assert.Equal(expected, Describe(snapshot));
        // What the test is about is there: the mount points are gone, the rest kept.
        Assert.DoesNotContain(expected, line => line.StartsWith("proc ", StringComparison.Ordinal) || line.StartsWith("dev/shm", StringComparison.Ordinal) || line.StartsWith("etc/hosts", StringComparison.Ordinal));
        Assert.Contains(expected, line => line.StartsWith("keep ", StringComparison.Ordinal) && line.Contains("trusted.overlay.opaque=79", StringComparison.Ordinal));
        Assert.Contains(expected, line => line.StartsWith("app/tool-link ", StringComparison.Ordinal) && line.Contains("=app/tool ", StringComparison.Ordinal));
        Assert.Contains(expected, line => line.StartsWith("etc/gone 20000 ", StringComparison.Ordinal));
        Assert.DoesNotContain(expected, line => line.Contains("impure", StringComparison.Ordinal) || line.Contains("origin", StringComparison.Ordinal));

        // Written again as a layer, the snapshot is the same tar: the diff ID the image config names.
        var tar = new MemoryStream();
        TreeArchiver.WriteLayer(snapshot, tar, lowerDirectories: lowers);
        Assert.Equal(diffId.ToString(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar.ToArray())));
    }

    [Fact]
    public void AnImageOfAConsumedRootfsShowsTheStepsChanges()
    {
        var parent = ImportBase();
        WriteStep(_service.PrepareRootfs(parent.Id, "step").UpperDir!);
        var committed = _service.Commit(new CommitRequest { ContainerId = "step", ImageId = parent.Id, MountTargets = EngineTargets, ConsumeRootfs = true });
        _service.RemoveRootfs("step");

        string target = Directory.CreateDirectory(Path.Combine(_temp.Path, "merged")).FullName;
        _service.PrepareRootfs(committed.Id, "run").Mount(target);
        try
        {
            Assert.Equal("changed", File.ReadAllText(Path.Combine(target, "etc", "stays")));
            Assert.False(File.Exists(Path.Combine(target, "etc", "gone")));
            Assert.False(File.Exists(Path.Combine(target, "etc", "hosts")));
            Assert.Equal(["new"], Directory.GetFileSystemEntries(Path.Combine(target, "keep")).Select(Path.GetFileName));
            Assert.False(Directory.Exists(Path.Combine(target, "dev")));
            Assert.False(Directory.Exists(Path.Combine(target, "proc")));
            Assert.Equal("binary", File.ReadAllText(Path.Combine(target, "app", "tool-link")));
        }
        finally
        {
            SnapshotMount.Unmount(target);
        }
    }

    [Theory]
    [InlineData("name")]
    [InlineData("socket")]
    [InlineData("whiteout")]
    public void AnUpperDirTheUnpackerWouldReadOtherwiseIsUnpackedInstead(string oddity)
    {
        var parent = ImportBase();
        string upper = _service.PrepareRootfs(parent.Id, "step").UpperDir!;
        File.WriteAllText(Path.Combine(upper, "plain"), "plain");
        switch (oddity)
        {
            case "name":
                File.WriteAllText(Path.Combine(upper, ".wh.plain"), ""); // a file, which the layer makes a whiteout
                break;
            case "socket":
                Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(upper, "socket"), Libc.S_IFSOCK | 0x1ed, 0), "mknodat", "socket");
                break;
            default:
                Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(upper, "nothing-below"), Libc.S_IFCHR, Libc.MakeDev(0, 0)), "mknodat", "nothing-below");
                break;
        }
        Assert.Null(UpperDirAdoption.Plan(upper, MountTargets.None, [_service.Snapshotter.LayerPath(parent.ChainIds[0])]));

        var committed = _service.Commit(new CommitRequest { ContainerId = "step", ImageId = parent.Id, ConsumeRootfs = true });

        Assert.True(Directory.Exists(upper));
        string snapshot = _service.Snapshotter.LayerPath(committed.ChainIds[1]);
        Assert.False(File.Exists(Path.Combine(snapshot, ".wh.plain")));
        Assert.True(File.Exists(Path.Combine(snapshot, "plain")));
        Assert.False(Path.Exists(Path.Combine(snapshot, "socket")) || Path.Exists(Path.Combine(snapshot, "nothing-below")));
    }

    [Fact]
    public void AMountedOrUnconsumedRootfsIsUnpackedAndKeepsItsUpperDir()
    {
        var parent = ImportBase();
        var mount = _service.PrepareRootfs(parent.Id, "mounted");
        string target = Directory.CreateDirectory(Path.Combine(_temp.Path, "mounted")).FullName;
        mount.Mount(target);
        try
        {
            File.WriteAllText(Path.Combine(target, "through-the-mount"), "x");
            var committed = _service.Commit(new CommitRequest { ContainerId = "mounted", ImageId = parent.Id, ConsumeRootfs = true });
            Assert.True(File.Exists(Path.Combine(mount.UpperDir!, "through-the-mount")));
            Assert.True(File.Exists(Path.Combine(_service.Snapshotter.LayerPath(committed.ChainIds[1]), "through-the-mount")));
        }
        finally
        {
            SnapshotMount.Unmount(target);
        }

        string upper = _service.PrepareRootfs(parent.Id, "kept").UpperDir!;
        File.WriteAllText(Path.Combine(upper, "other"), "y");
        _service.Commit(new CommitRequest { ContainerId = "kept", ImageId = parent.Id });
        Assert.True(File.Exists(Path.Combine(upper, "other")));
    }
}
