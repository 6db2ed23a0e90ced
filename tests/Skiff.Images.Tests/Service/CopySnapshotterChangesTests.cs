using System.Formats.Tar;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Tests.Service;

/// <summary>
/// diff and commit where the rootfs is a private copy (the copy snapshotter, for hosts without overlayfs): the copy
/// is compared with the merged layers, and the differences become a layer. Runs as root.
/// </summary>
public sealed class CopySnapshotterChangesTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>"café" in Latin-1: not UTF-8, as .NET cannot name it.</summary>
    private static readonly string Latin1Cafe = FileNames.Decode([.. "caf"u8, 0xe9]);

    private static void Whiteout(string path)
        => Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, path, Libc.S_IFCHR, Libc.MakeDev(0, 0)), "mknodat", path);

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>
    /// Three layers in overlay format with every way a layer hides what is below it: whiteouts of a file and of a
    /// directory, an opaque directory, a file re-added over its own whiteout, and a directory that a middle layer
    /// replaced by a file and the top layer by a directory again (the bottom one's content must stay hidden).
    /// </summary>
    private (CopySnapshotter Snapshotter, List<Digest> ChainIds) LayeredSnapshotter()
    {
        var snapshotter = new CopySnapshotter(Path.Combine(_temp.Path, "copy"));
        var chainIds = new List<Digest>();
        void Layer(Action<string> populate)
        {
            var chainId = Digest.Compute([(byte)chainIds.Count]);
            snapshotter.CommitLayer(chainId, populate);
            chainIds.Add(chainId);
        }
        Layer(root =>
        {
            Write(Path.Combine(root, "etc", "passwd"), "root:x:0:0");
            Libc.Close(Errno.Check(Libc.Open(Path.Combine(root, "etc", Latin1Cafe), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4), "open", "café"));
            Write(Path.Combine(root, "etc", "group"), "root:x:0:");
            Write(Path.Combine(root, "keep", "old-a"), "a");
            Write(Path.Combine(root, "keep", "old-b"), "b");
            Write(Path.Combine(root, "dir-to-file", "x"), "x");
            Write(Path.Combine(root, "file-to-dir"), "file");
            Write(Path.Combine(root, "gone-dir", "f"), "f");
            Write(Path.Combine(root, "blocked", "a"), "a");
            Write(Path.Combine(root, "bin", "tool"), "tool");
            Libc.SetXattrNoFollow(Path.Combine(root, "bin", "tool"), "user.origin", "layer-1"u8);
            Errno.Check(Libc.LinkAt(Libc.AT_FDCWD, Path.Combine(root, "bin", "tool"), Libc.AT_FDCWD, Path.Combine(root, "bin", "tool-link"), 0), "linkat", "tool-link");
        });
        Layer(root =>
        {
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            Whiteout(Path.Combine(root, "etc", "group"));
            Whiteout(Path.Combine(root, "gone-dir"));
            Write(Path.Combine(root, "keep", "new"), "new");
            Libc.SetXattrNoFollow(Path.Combine(root, "keep"), LowerLayersView.OpaqueXattr, "y"u8);
            Write(Path.Combine(root, "blocked"), "a file in between");
        });
        Layer(root =>
        {
            Write(Path.Combine(root, "etc", "group"), "root:x:0:again");
            Write(Path.Combine(root, "blocked", "b"), "b");
        });
        return (snapshotter, chainIds);
    }

    [Fact]
    public void CopyOfTheLayersShowsNoChangesAndEachKindOfEditIsFound()
    {
        var (snapshotter, chainIds) = LayeredSnapshotter();
        var mount = snapshotter.Prepare("ctr", chainIds);
        string copy = mount.Source;
        Assert.Equal(["b"], Directory.GetFileSystemEntries(Path.Combine(copy, "blocked")).Select(Path.GetFileName));
        Assert.Equal(["new"], Directory.GetFileSystemEntries(Path.Combine(copy, "keep")).Select(Path.GetFileName));
        Assert.Equal("layer-1"u8.ToArray(), FileStatus.Xattr(Path.Combine(copy, "bin", "tool"), "user.origin"));
        Assert.Contains(Latin1Cafe, FileTree.Names(Path.Combine(copy, "etc")));
        Assert.Empty(LayerChanges.Compare(copy, mount.LowerDirs));

        File.Delete(Path.Combine(copy, "etc", "passwd"));
        Errno.Check(Libc.UnlinkAt(Libc.AT_FDCWD, Path.Combine(copy, "etc", Latin1Cafe), 0), "unlinkat", "café");
        Libc.SetXattrNoFollow(Path.Combine(copy, "etc", "group"), "user.note", "edited"u8);
        Errno.Check(Libc.FchmodAt(Libc.AT_FDCWD, Path.Combine(copy, "bin", "tool"), 0x1c0, 0), "fchmodat", "tool");
        Directory.Delete(Path.Combine(copy, "dir-to-file"), recursive: true);
        File.WriteAllText(Path.Combine(copy, "dir-to-file"), "now a file");
        File.Delete(Path.Combine(copy, "file-to-dir"));
        Write(Path.Combine(copy, "file-to-dir", "y"), "y");
        Write(Path.Combine(copy, "newdir", "sub", "f"), "f");
        File.WriteAllText(Path.Combine(copy, "keep", "new"), "rewritten");
        // Made only to be mounted over, as the runtime makes them when the image lacks them: not changes.
        Directory.CreateDirectory(Path.Combine(copy, "proc"));
        File.WriteAllText(Path.Combine(copy, "etc", "hosts"), "");
        var targets = new MountTargets(["/proc", "/etc/hosts"]);

        var changes = LayerChanges.Compare(copy, mount.LowerDirs, targets);

        Assert.Equal(
        [
            // tool-link is the same inode: its mode changed too.
            "C /bin", "C /bin/tool", "C /bin/tool-link", "C /dir-to-file", "C /etc", "D /etc/" + Latin1Cafe, "C /etc/group", "D /etc/passwd", "C /file-to-dir", "A /file-to-dir/y",
            "C /keep", "C /keep/new", "A /newdir", "A /newdir/sub", "A /newdir/sub/f",
        ], changes.Select(change => change.ToString()));

        // The layer written from those changes, put on top of the same layers, gives the edited tree back.
        var tar = new MemoryStream();
        TreeArchiver.WriteChanges(copy, changes, tar);
        tar.Position = 0;
        var names = new List<string>();
        var hardLinks = new List<(string, string)>();
        using (var reader = new TarReader(tar, leaveOpen: true))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
                if (entry.EntryType == TarEntryType.HardLink)
                    hardLinks.Add((entry.Name, entry.LinkName));
            }
        }
        Assert.Equal([("bin/tool-link", "bin/tool")], hardLinks);
        Assert.Equal(
        [
            "bin/", "bin/tool", "bin/tool-link", "dir-to-file", "etc/", "etc/.wh.caf\uFFFD", "etc/group", "etc/.wh.passwd", "file-to-dir/", "file-to-dir/y",
            "keep/", "keep/new", "newdir/", "newdir/sub/", "newdir/sub/f",
        ], names);
        tar.Position = 0;
        var top = Digest.Compute("top"u8);
        snapshotter.CommitLayer(top, directory => new LayerUnpacker().Unpack(tar, directory));
        string rebuilt = snapshotter.Prepare("rebuilt", [.. chainIds, top]).Source;

        Assert.False(File.Exists(Path.Combine(rebuilt, "etc", "passwd")));
        Assert.DoesNotContain(Latin1Cafe, FileTree.Names(Path.Combine(rebuilt, "etc")));
        Assert.Equal("edited"u8.ToArray(), FileStatus.Xattr(Path.Combine(rebuilt, "etc", "group"), "user.note"));
        Assert.Equal(0x1c0u, FileStatus.Of(Path.Combine(rebuilt, "bin", "tool"))!.Permissions);
        Assert.Equal(FileStatus.Of(Path.Combine(rebuilt, "bin", "tool"))!.Inode, FileStatus.Of(Path.Combine(rebuilt, "bin", "tool-link"))!.Inode);
        Assert.Equal("now a file", File.ReadAllText(Path.Combine(rebuilt, "dir-to-file")));
        Assert.Equal("y", File.ReadAllText(Path.Combine(rebuilt, "file-to-dir", "y")));
        Assert.Equal("f", File.ReadAllText(Path.Combine(rebuilt, "newdir", "sub", "f")));
        Assert.Equal("rewritten", File.ReadAllText(Path.Combine(rebuilt, "keep", "new")));
        Assert.Equal(["b"], Directory.GetFileSystemEntries(Path.Combine(rebuilt, "blocked")).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(rebuilt, "proc")));
        Assert.False(File.Exists(Path.Combine(rebuilt, "etc", "hosts")));
    }

    [Fact]
    public void ImageServiceDiffsAndCommitsACopySnapshot()
    {
        using var service = ImageService.Open(new ImageServiceOptions { Root = Path.Combine(_temp.Path, "store"), Snapshotter = SnapshotterKind.Copy });
        ImageInfo parent;
        using (service.LockShared())
        {
            byte[] rootfs = new LayerBuilder()
                .Directory("etc/").File("etc/gone", "deleted by the container").File("etc/stays", "here")
                .Directory("bin/").File("bin/tool", "tool", mode: (UnixFileMode)0x1ed)
                .Gzip();
            var loaded = RootfsImporter.Import(service.Content, new MemoryStream(rootfs), new ImportOptions { Changes = ["CMD [\"/bin/tool\"]"] });
            parent = service.Register(loaded, []);
        }
        var mount = service.PrepareRootfs(parent.Id, "ctr-copy");
        Assert.Null(mount.UpperDir);
        File.Delete(Path.Combine(mount.Source, "etc", "gone"));
        File.WriteAllText(Path.Combine(mount.Source, "etc", "stays"), "changed");
        File.WriteAllText(Path.Combine(mount.Source, "added"), "added");

        Assert.Equal(["A /added", "C /etc", "D /etc/gone", "C /etc/stays"], service.ContainerChanges("ctr-copy").Select(change => change.ToString()));
        var committed = service.Commit(new CommitRequest { ContainerId = "ctr-copy", ImageId = parent.Id, Names = ["localhost/copy/child:v1"] });

        Assert.Equal(2, committed.Layers.Count);
        string child = service.PrepareRootfs(committed.Id, "ctr-child").Source;
        Assert.Equal("added", File.ReadAllText(Path.Combine(child, "added")));
        Assert.Equal("changed", File.ReadAllText(Path.Combine(child, "etc", "stays")));
        Assert.False(File.Exists(Path.Combine(child, "etc", "gone")));
        Assert.Equal("tool", File.ReadAllText(Path.Combine(child, "bin", "tool")));
        Assert.Empty(service.ContainerChanges("ctr-child"));
        service.RemoveRootfs("ctr-copy");
        service.RemoveRootfs("ctr-child");
    }
}
