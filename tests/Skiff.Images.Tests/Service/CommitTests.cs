using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.Data.Sqlite;
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
/// A container's upper dir (written here directly, with real overlay whiteouts and opaque xattrs, as overlayfs
/// leaves them) turned into a layer, a diff and a committed image whose rootfs is mounted and checked. Runs as root.
/// </summary>
public sealed partial class CommitTests : IDisposable
{
    // A file capability (VFS_CAP_REVISION_2, cap_net_raw permitted and effective): bytes all below 0x80.
    private static readonly byte[] NetRawCapability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private readonly TempDir _temp = new();
    private readonly ImageService _service;

    public CommitTests()
        => _service = ImageService.Open(new ImageServiceOptions { Root = Path.Combine(_temp.Path, "store"), Snapshotter = SnapshotterKind.Overlay });

    public void Dispose()
    {
        foreach (string key in _service.Snapshotter.Keys())
            _service.RemoveRootfs(key);
        _service.Dispose();
        _temp.Dispose();
    }

    /// <summary>An imported image: /bin/tool, /etc/gone, /keep/old-a and -b, /link -> /bin/tool.</summary>
    private ImageInfo ImportBase()
    {
        byte[] rootfs = new LayerBuilder()
            .Directory("bin/").File("bin/tool", "tool", mode: (UnixFileMode)0x1ed)
            .Directory("etc/").File("etc/gone", "deleted by the container").File("etc/stays", "here")
            .Directory("keep/").File("keep/old-a", "a").File("keep/old-b", "b")
            .Symlink("link", "/bin/tool")
            .Gzip();
        using var shared = _service.LockShared();
        var loaded = RootfsImporter.Import(_service.Content, new MemoryStream(rootfs), new ImportOptions
        {
            Changes = ["CMD [\"/bin/tool\"]", "ENV BASE=1"],
            Tags = ["localhost/commit/base:v1"],
        });
        return _service.Register(loaded, ["localhost/commit/base:v1"]);
    }

    private static void Whiteout(string path)
        => Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, path, Libc.S_IFCHR, Libc.MakeDev(0, 0)), "mknodat", path);

    private static void Opaque(string directory) => Libc.SetXattrNoFollow(directory, LowerLayersView.OpaqueXattr, "y"u8);

    /// <summary>What a container that deleted /etc/gone, replaced /keep, added /added and changed /etc/stays leaves in its upper dir.</summary>
    private static void ChangeUpper(string upper)
    {
        Directory.CreateDirectory(Path.Combine(upper, "etc"));
        Whiteout(Path.Combine(upper, "etc", "gone"));
        File.WriteAllText(Path.Combine(upper, "etc", "stays"), "changed");
        Directory.CreateDirectory(Path.Combine(upper, "keep"));
        Opaque(Path.Combine(upper, "keep"));
        File.WriteAllText(Path.Combine(upper, "keep", "new"), "new");
        File.WriteAllText(Path.Combine(upper, "added"), "added");
    }

    private static List<TarEntry> ReadTar(Stream tar)
    {
        var entries = new List<TarEntry>();
        using var reader = new TarReader(tar);
        while (reader.GetNextEntry(copyData: true) is { } entry)
            entries.Add(entry);
        return entries;
    }

    [Fact]
    public void LayerTarCarriesWhiteoutsOpaqueDirsLinksDevicesOwnersAndXattrs()
    {
        string upper = Directory.CreateDirectory(Path.Combine(_temp.Path, "upper")).FullName;
        ChangeUpper(upper);
        string tool = Path.Combine(upper, "tool");
        File.WriteAllText(tool, "binary");
        Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, tool, 1000, 2000, 0), "fchownat", tool);
        Errno.Check(Libc.FchmodAt(Libc.AT_FDCWD, tool, 0x9ed /* 04755 */, 0), "fchmodat", tool);
        Libc.SetXattrNoFollow(tool, "security.capability", NetRawCapability);
        Libc.SetXattrNoFollow(tool, "trusted.overlay.origin", "bookkeeping"u8);
        Errno.Check(Libc.LinkAt(Libc.AT_FDCWD, tool, Libc.AT_FDCWD, Path.Combine(upper, "tool-link"), 0), "linkat", tool);
        File.CreateSymbolicLink(Path.Combine(upper, "sym"), "/tool");
        Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(upper, "null"), Libc.S_IFCHR | 0x1b6, Libc.MakeDev(1, 3)), "mknodat", "null");
        Errno.Check(Libc.MknodAt(Libc.AT_FDCWD, Path.Combine(upper, "fifo"), Libc.S_IFIFO | 0x1a4, 0), "mknodat", "fifo");
        var mtime = new DateTimeOffset(2020, 5, 6, 7, 8, 9, TimeSpan.Zero);
        File.SetLastWriteTimeUtc(Path.Combine(upper, "added"), mtime.UtcDateTime);

        var tar = new MemoryStream();
        TreeArchiver.WriteLayer(upper, tar);
        tar.Position = 0;
        var entries = ReadTar(tar).ToDictionary(entry => entry.Name);

        Assert.Equal(
            ["added", "etc/", "etc/.wh.gone", "etc/stays", "fifo", "keep/", "keep/.wh..wh..opq", "keep/new", "null", "sym", "tool", "tool-link"],
            entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TarEntryType.RegularFile, entries["etc/.wh.gone"].EntryType);
        Assert.Equal(0, entries["etc/.wh.gone"].Length);
        Assert.Equal(TarEntryType.RegularFile, entries["keep/.wh..wh..opq"].EntryType);
        Assert.Equal(mtime, entries["added"].ModificationTime);
        var toolEntry = (PaxTarEntry)entries["tool"];
        Assert.Equal((1000, 2000, 0x9ed), (toolEntry.Uid, toolEntry.Gid, (int)toolEntry.Mode));
        Assert.Equal(NetRawCapability, System.Text.Encoding.UTF8.GetBytes(toolEntry.ExtendedAttributes["SCHILY.xattr.security.capability"]));
        Assert.DoesNotContain(toolEntry.ExtendedAttributes.Keys, key => key.Contains("trusted.overlay", StringComparison.Ordinal));
        Assert.Equal((TarEntryType.HardLink, "tool"), (entries["tool-link"].EntryType, entries["tool-link"].LinkName));
        Assert.Equal((TarEntryType.SymbolicLink, "/tool"), (entries["sym"].EntryType, entries["sym"].LinkName));
        var device = (PaxTarEntry)entries["null"];
        Assert.Equal((TarEntryType.CharacterDevice, 1, 3), (device.EntryType, device.DeviceMajor, device.DeviceMinor));
        Assert.Equal(TarEntryType.Fifo, entries["fifo"].EntryType);
        Assert.DoesNotContain(((PaxTarEntry)entries["keep/"]).ExtendedAttributes.Keys, key => key.Contains("opaque", StringComparison.Ordinal));
    }

    [Fact]
    public void BinaryXattrValuesReachTheLayerByteForByte()
    {
        string upper = Directory.CreateDirectory(Path.Combine(_temp.Path, "upper")).FullName;
        string tool = Path.Combine(upper, "tool");
        File.WriteAllText(tool, "setuid-capable");
        // cap_setuid (bit 7): a 0x80 byte, not UTF-8, which TarWriter's string records cannot carry.
        Archive.ExternalTool.Run("setcap", "cap_setuid+ep", tool);
        byte[] capability = FileStatus.Xattr(tool, "security.capability")!;
        byte[] binary = [0xff, 0x00, 0xfe, 0x80];
        Libc.SetXattrNoFollow(tool, "user.binary", binary);
        Directory.CreateDirectory(Path.Combine(upper, "dir"));
        Libc.SetXattrNoFollow(Path.Combine(upper, "dir"), "user.binary", binary);
        File.WriteAllText(Path.Combine(upper, "dir", "after"), "after");

        string layer = Path.Combine(_temp.Path, "layer.tar");
        using (var output = File.Create(layer))
            TreeArchiver.WriteLayer(upper, output);

        // Our unpacker, TarReader's view of the members, and GNU tar all read the same tree back.
        string unpacked = Directory.CreateDirectory(Path.Combine(_temp.Path, "unpacked")).FullName;
        using (var input = File.OpenRead(layer))
            new LayerUnpacker().Unpack(input, unpacked);
        string extracted = Directory.CreateDirectory(Path.Combine(_temp.Path, "extracted")).FullName;
        Archive.ExternalTool.Run("tar", "--xattrs", "--xattrs-include=*", "-C", extracted, "-xf", layer);
        foreach (string root in new[] { unpacked, extracted })
        {
            Assert.Equal(capability, FileStatus.Xattr(Path.Combine(root, "tool"), "security.capability"));
            Assert.Equal(binary, FileStatus.Xattr(Path.Combine(root, "tool"), "user.binary"));
            Assert.Equal(binary, FileStatus.Xattr(Path.Combine(root, "dir"), "user.binary"));
            Assert.Equal("setuid-capable", File.ReadAllText(Path.Combine(root, "tool")));
            Assert.Equal("after", File.ReadAllText(Path.Combine(root, "dir", "after")));
        }
        using (var input = File.OpenRead(layer))
            Assert.Equal(["dir/", "dir/after", "tool"], ReadTar(input).Select(entry => entry.Name));
    }

    [Fact]
    public void NamesThatAreNotUtf8GoIntoTheLayerAndComeBackByteForByte()
    {
        var parent = ImportBase();
        var mount = _service.PrepareRootfs(parent.Id, "ctr-names");
        Archive.ExternalTool.Run("python3", "-c", """
            import os, sys
            root = sys.argv[1].encode()
            os.makedirs(root + b"/d\xff")
            with open(root + b"/d\xff/caf\xe9", "w") as f:
                f.write("latin-1")
            os.link(root + b"/d\xff/caf\xe9", root + b"/d\xff/hard\xe9")
            os.symlink(b"caf\xe9", root + b"/d\xff/link\xfe")
            os.makedirs(root + b"/etc")
            os.mknod(root + b"/etc/gone\xfe", 0o600)
            """, mount.UpperDir!);
        Whiteout(Path.Combine(mount.UpperDir!, "etc", "gone"));
        string directory = FileNames.Decode([(byte)'d', 0xff]);
        string cafe = FileNames.Decode([.. "caf"u8, 0xe9]);

        Assert.Contains(_service.ContainerChanges("ctr-names"), change => change.Path == $"/{directory}/{cafe}" && change.Kind == ChangeKind.Added);
        var committed = _service.Commit(new CommitRequest { ContainerId = "ctr-names", ImageId = parent.Id });

        // GNU tar reads the very bytes back from the layer.
        string extracted = Directory.CreateDirectory(Path.Combine(_temp.Path, "extracted")).FullName;
        string layerTar = Path.Combine(_temp.Path, "layer.tar");
        using (var blob = _service.Content.Open(Digest.Parse(committed.Layers[1].BlobDigest)))
        using (var gzip = new GZipStream(blob, CompressionMode.Decompress))
        using (var output = File.Create(layerTar))
            gzip.CopyTo(output);
        Archive.ExternalTool.Run("tar", "-C", extracted, "-xf", layerTar);
        string listing = Archive.ExternalTool.Run("python3", "-c", """
            import os, sys
            for base, dirs, files in sorted(os.walk(sys.argv[1].encode())):
                for name in sorted(dirs + files):
                    path = os.path.join(base, name)
                    print(os.path.relpath(path, sys.argv[1].encode()).hex(), os.readlink(path).hex() if os.path.islink(path) else "")
            """, extracted);
        string Hex(string name) => Convert.ToHexString(FileNames.GetBytes(name)).ToLowerInvariant();
        Assert.Contains($"{Hex(directory + "/" + cafe)} ", listing);
        Assert.Contains($"{Hex(directory + "/link" + FileNames.Decode([0xfe]))} {Hex(cafe)}", listing);
        Assert.Contains($"{Hex("etc/.wh.gone")} ", listing);
        Assert.Contains($"{Hex("etc/gone" + FileNames.Decode([0xfe]))} ", listing);

        // And the committed image's rootfs has them.
        string target = Directory.CreateDirectory(Path.Combine(_temp.Path, "merged")).FullName;
        _service.PrepareRootfs(committed.Id, "ctr-names-2").Mount(target);
        try
        {
            Assert.Equal([cafe, "hard" + FileNames.Decode([0xe9]), "link" + FileNames.Decode([0xfe])],
                FileTree.Names(Path.Combine(target, directory)).Order(StringComparer.Ordinal));
            using var reader = new StreamReader(FileTree.OpenRead(Path.Combine(target, directory, cafe)));
            Assert.Equal("latin-1", reader.ReadToEnd());
            Assert.Equal(cafe, Libc.ReadLink(Path.Combine(target, directory, "link" + FileNames.Decode([0xfe]))));
            Assert.False(File.Exists(Path.Combine(target, "etc", "gone")));
        }
        finally
        {
            SnapshotMount.Unmount(target);
        }
    }

    [Fact]
    public void DiffListsAddedChangedAndDeletedPathsWithTheirParents()
    {
        var image = ImportBase();
        var mount = _service.PrepareRootfs(image.Id, "ctr-diff");
        ChangeUpper(mount.UpperDir!);

        var changes = _service.ContainerChanges("ctr-diff").Select(change => change.ToString()).ToList();

        Assert.Equal(["A /added", "C /etc", "D /etc/gone", "C /etc/stays", "C /keep", "A /keep/new"], changes);
    }

    [Fact]
    public void CommittedImageShowsTheContainersChangesOverItsParent()
    {
        var parent = ImportBase();
        var mount = _service.PrepareRootfs(parent.Id, "ctr-1");
        ChangeUpper(mount.UpperDir!);

        var committed = _service.Commit(new CommitRequest
        {
            ContainerId = "ctr-1",
            ImageId = parent.Id,
            Changes = ["ENV ADDED=2", "LABEL stage=committed"],
            Author = "Jane <jane@example.com>",
            Comment = "first commit",
            CreatedBy = "/bin/sh -c change",
            Names = ["localhost/commit/child:v1"],
        });

        Assert.Equal(["localhost/commit/child:v1"], committed.RepoTags);
        Assert.Equal(2, committed.Layers.Count);
        Assert.Equal(parent.Layers[0].DiffId, committed.Layers[0].DiffId);
        Assert.True(_service.Snapshotter.HasLayer(committed.ChainIds[1]));
        var config = _service.Config(committed);
        Assert.Equal("Jane <jane@example.com>", config.Author);
        // Go reads timestamps without unescaping: the parent's "+00:00" offsets must stay literal, not \u002B.
        Assert.DoesNotContain("\\u", File.ReadAllText(_service.Content.BlobPath(Digest.Parse(committed.ConfigDigest))));
        Assert.Equal(["/bin/tool"], config.Config!.Cmd!);
        Assert.Equal(["BASE=1", "ADDED=2"], config.Config.Env!);
        Assert.Equal("committed", config.Config.Labels!["stage"]);
        Assert.Equal(committed.Layers.Select(layer => layer.DiffId), config.RootFs.DiffIds);
        var history = config.History!.Last();
        Assert.Equal(("/bin/sh -c change", "first commit", "Jane <jane@example.com>"), (history.CreatedBy, history.Comment, history.Author));
        using (var manifest = _service.Content.Open(Digest.Parse(committed.ManifestDigest)))
        {
            var layers = JsonSerializer.Deserialize(manifest, ImageJsonContext.Default.ImageManifest)!.Layers;
            Assert.All(layers, layer => Assert.Equal(MediaTypes.OciLayerGzip, layer.MediaType));
        }

        string target = Directory.CreateDirectory(Path.Combine(_temp.Path, "merged")).FullName;
        _service.PrepareRootfs(committed.Id, "ctr-2").Mount(target);
        try
        {
            Assert.Equal("added", File.ReadAllText(Path.Combine(target, "added")));
            Assert.Equal("changed", File.ReadAllText(Path.Combine(target, "etc", "stays")));
            Assert.False(File.Exists(Path.Combine(target, "etc", "gone")));
            Assert.Equal(["new"], Directory.GetFileSystemEntries(Path.Combine(target, "keep")).Select(Path.GetFileName));
            Assert.Equal("/bin/tool", new FileInfo(Path.Combine(target, "link")).LinkTarget);
            Assert.Equal("tool", File.ReadAllText(Path.Combine(target, "bin", "tool")));
        }
        finally
        {
            SnapshotMount.Unmount(target);
        }
    }

    [Fact]
    public void ContainerWithoutChangesStillGetsAnEmptyLayer()
    {
        var parent = ImportBase();
        _service.PrepareRootfs(parent.Id, "ctr-empty");

        var committed = _service.Commit(new CommitRequest { ContainerId = "ctr-empty", ImageId = parent.Id });

        Assert.Empty(committed.RepoTags);
        Assert.Equal(2, committed.Layers.Count);
        using var blob = _service.Content.Open(Digest.Parse(committed.Layers[1].BlobDigest));
        using var gzip = new GZipStream(blob, CompressionMode.Decompress);
        Assert.Empty(ReadTar(gzip));
        Assert.Equal(committed.Id, _service.Resolve(committed.ShortId).Id);
    }

    private (int Blobs, int Layers, int Images, int Ingests) StoreCounts()
        => (_service.Content.List().Count(), _service.Snapshotter.Layers().Count, _service.List().Count,
            Directory.GetFileSystemEntries(Path.Combine(_service.Content.Root, "ingest")).Length);

    [Fact]
    public void FailedRecordingRemovesTheNewBlobsAndSnapshot()
    {
        var parent = ImportBase();
        var mount = _service.PrepareRootfs(parent.Id, "ctr-fail");
        ChangeUpper(mount.UpperDir!);
        var before = StoreCounts();
        // A failure of the last step, after the blobs are stored and the layer unpacked: the database refuses the image.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_service.Root, "metadata.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON images BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
            command.ExecuteNonQuery();
        }

        Assert.Throws<SqliteException>(() => _service.Commit(new CommitRequest { ContainerId = "ctr-fail", ImageId = parent.Id, Names = ["localhost/commit/fail:v1"] }));

        Assert.Equal(before, StoreCounts());
        Assert.Null(_service.TryResolve("localhost/commit/fail:v1"));
    }

    [Fact]
    public void LayerThatCannotBeWrittenLeavesNothingAndBadChangesAreRefusedFirst()
    {
        var parent = ImportBase();
        var mount = _service.PrepareRootfs(parent.Id, "ctr-bad");
        File.WriteAllText(Path.Combine(mount.UpperDir!, "a-first"), "written before the failure");
        // A tree deeper than PATH_MAX (made with relative mkdirs) cannot be archived by path: the layer fails after
        // its first entry was written.
        Archive.ExternalTool.Run("python3", "-c", """
            import os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY)
            for _ in range(20):
                os.mkdir("b" * 250, dir_fd=fd)
                fd = os.open("b" * 250, os.O_RDONLY, dir_fd=fd)
            """, mount.UpperDir!);
        var before = StoreCounts();

        var error = Assert.Throws<LayerException>(() => _service.Commit(new CommitRequest { ContainerId = "ctr-bad", ImageId = parent.Id }));
        Assert.Contains("cannot archive", error.Message);
        Assert.Throws<ArchiveException>(() => _service.Commit(new CommitRequest { ContainerId = "ctr-bad", ImageId = parent.Id, Changes = ["FROM scratch"] }));

        Assert.Equal(before, StoreCounts());
    }

    /// <summary>Commits an unchanged container of <paramref name="imageId"/> (then removes the container, so only the parent link holds the image).</summary>
    private ImageInfo CommitOf(string imageId, string container, params string[] names)
    {
        _service.PrepareRootfs(imageId, container);
        var committed = _service.Commit(new CommitRequest { ContainerId = container, ImageId = imageId, Names = names });
        _service.RemoveRootfs(container);
        return committed;
    }

    [Fact]
    public void CommitRecordsItsParentAndLocalNamingsTheirTime()
    {
        // Names an archive carries (load, and ImportBase registers that way) are not a naming here: no tag time.
        var parent = ImportBase();
        Assert.Null(parent.Parent);
        Assert.Null(parent.LastTagTime);

        var before = DateTimeOffset.UtcNow;
        var named = CommitOf(parent.Id, "ctr-named", "localhost/commit/named:v1");
        Assert.Equal(parent.Id, named.Parent);
        Assert.InRange(named.LastTagTime!.Value, before, DateTimeOffset.UtcNow);

        var unnamed = CommitOf(named.Id, "ctr-unnamed");
        Assert.Equal(named.Id, unnamed.Parent);
        Assert.Null(unnamed.LastTagTime);

        before = DateTimeOffset.UtcNow;
        _service.Tag(unnamed.ShortId, "localhost/commit/later:v1");
        var tagged = _service.Resolve("localhost/commit/later:v1");
        Assert.InRange(tagged.LastTagTime!.Value, before, DateTimeOffset.UtcNow);
        Assert.Equal(named.Id, tagged.Parent);
        Assert.Null(_service.Resolve(parent.Id).LastTagTime);
    }

    [Fact]
    public void ImportWithANameRecordsTheTagTimeAndWithoutNoneAndNoParent()
    {
        byte[] rootfs = new LayerBuilder().Directory("etc/").File("etc/only", "x").Gzip();
        using var shared = _service.LockShared();
        var unnamed = _service.Register(RootfsImporter.Import(_service.Content, new MemoryStream(rootfs), new ImportOptions()), [], namedHere: true);
        Assert.Null(unnamed.LastTagTime);

        var before = DateTimeOffset.UtcNow;
        var named = _service.Register(RootfsImporter.Import(_service.Content, new MemoryStream(rootfs), new ImportOptions { Message = "named" }),
            ["localhost/import/named:v1"], namedHere: true);
        Assert.InRange(named.LastTagTime!.Value, before, DateTimeOffset.UtcNow);
        Assert.Null(named.Parent);
    }

    [Fact]
    public void AParentIsOnlyUntaggedByNameRefusedByIdAndKeptByPrune()
    {
        var parent = ImportBase();
        var child = CommitOf(parent.Id, "ctr-child", "localhost/commit/child:v1");

        foreach (bool force in new[] { false, true })
        {
            var error = Assert.Throws<ImageException>(() => _service.Remove(parent.ShortId, force));
            Assert.Equal($"conflict: unable to delete {parent.ShortId} (cannot be forced) - image has dependent child images", error.Message);
        }
        Assert.Equal(["localhost/commit/base:v1"], _service.Resolve(parent.Id).RepoTags);

        var untag = _service.Remove("localhost/commit/base:v1");
        Assert.Equal(["localhost/commit/base:v1"], untag.Untagged);
        Assert.Empty(untag.Deleted);
        Assert.Empty(_service.Resolve(parent.Id).RepoTags);

        Assert.Empty(_service.Prune(all: false).Deleted);
        Assert.Equal(2, _service.List().Count);

        // Deleting the child releases the untagged parent, which goes with it as with docker's rmi.
        var removal = _service.Remove("localhost/commit/child:v1");
        Assert.Equal([child.Id, parent.Id], removal.Deleted);
        Assert.Empty(_service.List());
    }

    [Fact]
    public void PruneRemovesAnUntaggedChainChildFirst()
    {
        var parent = ImportBase();
        var middle = CommitOf(parent.Id, "ctr-middle");
        var top = CommitOf(middle.Id, "ctr-top", "localhost/commit/top:v1");
        var dangling = CommitOf(parent.Id, "ctr-dangling");

        // middle is untagged but top was made from it; dangling has neither names nor children.
        Assert.Equal([dangling.Id], _service.Prune(all: false).Deleted);

        _service.Remove("localhost/commit/base:v1");
        _service.Remove("localhost/commit/top:v1");
        Assert.Empty(_service.List());

        var again = ImportBase();
        var chain = CommitOf(CommitOf(again.Id, "ctr-a").Id, "ctr-b");
        _service.Remove("localhost/commit/base:v1");
        Assert.Equal(3, _service.Prune(all: false).Deleted.Count);
        Assert.Null(_service.TryResolve(chain.Id));
    }
}
