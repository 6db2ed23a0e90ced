using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;

namespace Skiff.Storage.Tests;

/// <summary>
/// Conformance tests every <see cref="ISnapshotter"/> passes, run as root with real mounts. Each test's root,
/// mounts included, is torn down in Dispose whatever happened.
/// </summary>
public abstract class SnapshotterConformanceTests : IDisposable
{
    private readonly SnapshotFixture _fixture = new();

    protected abstract ISnapshotter Create(string root);

    protected string Root => _fixture.Root;

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void ThreeLayerStackShowsOverridesWhiteoutsAndOpaqueDirs()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        string target = _fixture.MountPoint("rootfs");

        snapshotter.Prepare("c1", chain);
        snapshotter.Mount("c1", target);

        Assert.Equal(TestLayers.ThreeLayerExpected, TestLayers.Contents(target));
        Assert.Equal(TestLayers.ThreeLayerManifest(), TestLayers.Manifest(target));
    }

    [Fact]
    public void WritesGoToTheSnapshotNotTheLayers()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        string target = _fixture.MountPoint("rootfs");
        snapshotter.Prepare("c1", chain);
        snapshotter.Mount("c1", target);

        File.WriteAllText(Path.Combine(target, "etc/config"), "changed");
        File.Delete(Path.Combine(target, "newfile"));

        Assert.Equal("two", File.ReadAllText(Path.Combine(snapshotter.LayerPath(chain[1]), "etc/config")));
        Assert.True(File.Exists(Path.Combine(snapshotter.LayerPath(chain[2]), "newfile")));

        // A second container over the same layers sees them unchanged.
        string other = _fixture.MountPoint("other");
        snapshotter.Prepare("c2", chain);
        snapshotter.Mount("c2", other);
        Assert.Equal(TestLayers.ThreeLayerExpected, TestLayers.Contents(other));
    }

    [Fact]
    public void ViewIsReadOnly()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        string target = _fixture.MountPoint("view");

        var mount = snapshotter.View("v1", chain);
        Assert.True(mount.ReadOnly);
        snapshotter.Mount("v1", target);

        Assert.Equal(TestLayers.ThreeLayerExpected, TestLayers.Contents(target));
        var error = Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "newfile"), "x"));
        Assert.Contains("Read-only", error.Message);
    }

    [Fact]
    public void SixtyLayerStackMountsAndShowsTheTopLayer()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitNumbered(snapshotter, 60);
        string target = _fixture.MountPoint("rootfs");

        var mount = snapshotter.Prepare("big", chain);
        snapshotter.Mount("big", target);

        if (mount.Type == "overlay")
            Assert.True(string.Join(',', mount.Options).Length > 4096, "the test must force the long-lowerdir path");
        Assert.Equal("59", File.ReadAllText(Path.Combine(target, "top")));
        for (int i = 0; i < 60; i++)
            Assert.Equal($"layer {i}", File.ReadAllText(Path.Combine(target, $"layer-{i:D2}")));
        Assert.False(File.Exists(Path.Combine(target, "removed-by-59")));
    }

    [Fact]
    public void ConcurrentCommitsOfTheSameChainIdLeaveOneCompleteLayer()
    {
        var snapshotter = Create(Root);
        var chainId = Digest.Compute("concurrent"u8);
        int populated = 0;
        var paths = new string[8];
        using var start = new Barrier(paths.Length);
        var threads = Enumerable.Range(0, paths.Length).Select(i => new Thread(() =>
        {
            // Each thread opens its own snapshotter on the same root, as separate processes would.
            var own = Create(Root);
            start.SignalAndWait();
            paths[i] = own.CommitLayer(chainId, fs =>
            {
                Interlocked.Increment(ref populated);
                for (int f = 0; f < 50; f++)
                    File.WriteAllText(Path.Combine(fs, $"f{f}"), new string('x', 1000 + f));
            });
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.All(paths, path => Assert.Equal(snapshotter.LayerPath(chainId), path));
        Assert.Equal(50, Directory.GetFiles(paths[0]).Length);
        Assert.InRange(populated, 1, paths.Length);
        Assert.Single(Directory.GetDirectories(Path.Combine(Root, "layers", "sha256")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "tmp")));

        // Preparing the same key at once: exactly one wins, the others get a clear error.
        var results = new string?[6];
        Parallel.For(0, results.Length, i =>
        {
            try
            {
                Create(Root).Prepare("same", [chainId]);
                results[i] = "ok";
            }
            catch (SnapshotException error)
            {
                results[i] = error.Message;
            }
        });
        Assert.Single(results, r => r == "ok");
        Assert.All(results.Where(r => r != "ok"), r => Assert.Equal("snapshot \"same\" already exists", r));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "tmp")));
    }

    [Fact]
    public void RemoveLeavesNoMountAndNoDirectory()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        string target = _fixture.MountPoint("rootfs");
        snapshotter.Prepare("c1", chain);
        snapshotter.Mount("c1", target);
        Assert.True(MountInfo.IsMountPoint(target));

        Assert.True(snapshotter.Remove("c1"));

        Assert.False(MountInfo.IsMountPoint(target));
        Assert.DoesNotContain(MountInfo.Read(), entry => entry.MountPoint.StartsWith(Root, StringComparison.Ordinal)
            || entry.SuperOptions.Contains(Root, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "snapshots")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "tmp")));
        Assert.Empty(snapshotter.Keys());
        Assert.False(snapshotter.Remove("c1"));

        // The layers stay, and once nothing uses them they can go too.
        foreach (var chainId in chain)
            Assert.True(snapshotter.RemoveLayer(chainId));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "layers", "sha256")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "l")));
    }

    [Fact]
    public void UnmountThenRemove()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        string target = _fixture.MountPoint("rootfs");
        snapshotter.Prepare("c1", chain);
        snapshotter.Mount("c1", target);
        snapshotter.Unmount("c1", target);
        Assert.False(MountInfo.IsMountPoint(target));
        Assert.Empty(Directory.GetFileSystemEntries(target));
        Assert.True(snapshotter.Remove("c1"));
    }

    [Fact]
    public void LayerInUseCannotBeRemovedAndMissingLayersAreNamed()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        snapshotter.Prepare("c1", chain);

        var inUse = Assert.Throws<SnapshotException>(() => snapshotter.RemoveLayer(chain[0]));
        Assert.Contains("used by snapshot \"c1\"", inUse.Message);

        var missing = Digest.Compute("missing"u8);
        var error = Assert.Throws<SnapshotException>(() => snapshotter.Prepare("c2", [chain[0], missing]));
        Assert.Contains(missing.ToString(), error.Message);
        Assert.Equal(["c1"], snapshotter.Keys());
        Assert.Throws<ArgumentException>(() => snapshotter.Prepare("../escape", chain));
    }

    [Fact]
    public void FailedPopulateLeavesNoLayer()
    {
        var snapshotter = Create(Root);
        var chainId = Digest.Compute("broken"u8);
        Assert.Throws<InvalidOperationException>(() => snapshotter.CommitLayer(chainId, fs =>
        {
            File.WriteAllText(Path.Combine(fs, "half"), "x");
            throw new InvalidOperationException("unpack failed");
        }));
        Assert.False(snapshotter.HasLayer(chainId));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Root, "tmp")));
    }
}

public sealed class OverlaySnapshotterTests : SnapshotterConformanceTests
{
    protected override ISnapshotter Create(string root) => new OverlaySnapshotter(root);

    [Theory]
    [InlineData(OverlayMountMethod.FsConfig)]
    [InlineData(OverlayMountMethod.ShortLinks)]
    public void EveryLongLowerdirMethodWorks(OverlayMountMethod method)
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitNumbered(snapshotter, 60);
        string target = Path.Combine(Root, "mnt");
        Directory.CreateDirectory(target);
        snapshotter.Prepare("big", chain);
        snapshotter.Mount("big", target, method);

        Assert.Equal("59", File.ReadAllText(Path.Combine(target, "top")));
        Assert.Equal(61, Directory.GetFiles(target).Length); // layer-00..59 and top
        var entry = Assert.Single(MountInfo.Read(), e => e.MountPoint == target);
        Assert.Equal("overlay", entry.FileSystemType);
    }

    [Fact]
    public void LongReadOnlyViewThroughFsConfig()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitNumbered(snapshotter, 60);
        string target = Path.Combine(Root, "mnt");
        Directory.CreateDirectory(target);
        snapshotter.View("v", chain);
        snapshotter.Mount("v", target, OverlayMountMethod.FsConfig);

        Assert.Equal("59", File.ReadAllText(Path.Combine(target, "top")));
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(target, "top"), "x"));
        Assert.Contains("ro", Assert.Single(MountInfo.Read(), e => e.MountPoint == target).SuperOptions.Split(','));
    }

    [Fact]
    public void FsConfigErrorsNameTheParameter()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        string target = Path.Combine(Root, "mnt");
        Directory.CreateDirectory(target);
        snapshotter.Prepare("c1", chain);
        Directory.Delete(Path.Combine(Root, "snapshots", "c1", "work"));

        var error = Assert.Throws<Skiff.Interop.SyscallException>(() => snapshotter.Mount("c1", target, OverlayMountMethod.FsConfig));
        Assert.Equal("fsconfig", error.Syscall);
        Assert.StartsWith($"fsconfig workdir={Path.Combine(Root, "snapshots", "c1", "work")}: No such file or directory", error.Message);
        Assert.False(MountInfo.IsMountPoint(target));
    }

    [Fact]
    public void PlainOptionsAreRefusedClearlyWhenTooLong()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitNumbered(snapshotter, 60);
        string target = Path.Combine(Root, "mnt");
        Directory.CreateDirectory(target);
        snapshotter.Prepare("big", chain);

        var error = Assert.Throws<SnapshotException>(() => snapshotter.Mount("big", target, OverlayMountMethod.MountOptions));
        Assert.Contains("4095-byte mount(2) limit", error.Message);
        Assert.False(MountInfo.IsMountPoint(target));
    }

    [Fact]
    public void MountDescriptionListsTopmostLowerFirst()
    {
        var snapshotter = Create(Root);
        var chain = TestLayers.CommitThreeLayers(snapshotter);
        var mount = snapshotter.Prepare("c1", chain);

        Assert.Equal("overlay", mount.Type);
        Assert.Equal([.. chain.Reverse().Select(snapshotter.LayerPath)], mount.LowerDirs);
        Assert.Equal(Path.Combine(Root, "snapshots", "c1", "upper"), mount.UpperDir);
        Assert.Equal(Path.Combine(Root, "snapshots", "c1", "work"), mount.WorkDir);
        Assert.Equal($"lowerdir={string.Join(':', mount.LowerDirs)}", mount.Options[0]);
        for (int i = 0; i < mount.LowerDirs.Count; i++)
            Assert.Equal(mount.LowerDirs[i], Path.GetFullPath(Path.Combine(Path.GetDirectoryName(mount.LowerLinks()[i])!, new FileInfo(mount.LowerLinks()[i]).LinkTarget!)));
    }
}

public sealed class CopySnapshotterTests : SnapshotterConformanceTests
{
    protected override ISnapshotter Create(string root) => new CopySnapshotter(root);
}

/// <summary>The overlay mount and the copy give the same tree, file for file (types, modes, owners, sizes, contents, links).</summary>
public sealed class SnapshotterEquivalenceTests : IDisposable
{
    private readonly SnapshotFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void OverlayAndCopyShowIdenticalTrees()
    {
        var overlay = new OverlaySnapshotter(Path.Combine(_fixture.Root, "overlay"));
        var copy = new CopySnapshotter(Path.Combine(_fixture.Root, "copy"));
        string overlayTarget = _fixture.MountPoint("o"), copyTarget = _fixture.MountPoint("c");

        overlay.Prepare("c", TestLayers.CommitThreeLayers(overlay));
        overlay.Mount("c", overlayTarget);
        copy.Prepare("c", TestLayers.CommitThreeLayers(copy));
        copy.Mount("c", copyTarget);

        Assert.Equal(TestLayers.Manifest(overlayTarget), TestLayers.Manifest(copyTarget));
    }
}

/// <summary>A test root under /tmp whose mounts and files are all removed on Dispose, even after a failure.</summary>
internal sealed class SnapshotFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("skiff-snap-").FullName;

    public string MountPoint(string name)
    {
        string path = Path.Combine(Root, "mnt", name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        // Deepest first, and again while anything is left (a target may be mounted more than once).
        for (int round = 0; round < 10; round++)
        {
            var mounted = MountInfo.Read().Where(e => e.MountPoint == Root || e.MountPoint.StartsWith(Root + "/", StringComparison.Ordinal))
                .Select(e => e.MountPoint).Distinct().OrderByDescending(p => p.Length).ToList();
            if (mounted.Count == 0)
                break;
            foreach (string path in mounted)
                SnapshotMount.Unmount(path, detach: true);
        }
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>Test layers, built as real tar streams and unpacked by <see cref="LayerUnpacker"/>, as a pull would.</summary>
internal static class TestLayers
{
    public static IReadOnlyList<Digest> CommitThreeLayers(ISnapshotter snapshotter)
    {
        var layers = new[]
        {
            Tar(w =>
            {
                Dir(w, "etc/"); File(w, "etc/config", "one"); File(w, "etc/passwd", "root");
                Dir(w, "bin/"); File(w, "bin/tool", "tool v1", 0x1ed); File(w, "bin/hard1", "shared");
                Link(w, "bin/hard2", "bin/hard1"); Symlink(w, "link", "etc/config");
                Dir(w, "opaque/"); File(w, "opaque/a", "a"); Dir(w, "opaque/sub/"); File(w, "opaque/sub/b", "b");
                File(w, "deleted.txt", "gone soon"); Dir(w, "gone-dir/"); File(w, "gone-dir/inside", "i");
            }),
            Tar(w =>
            {
                File(w, "etc/config", "two"); File(w, ".wh.deleted.txt", "");
                File(w, "opaque/.wh..wh..opq", ""); File(w, "opaque/c", "c");
                Dir(w, "newdir/", 0x1c0); File(w, "newdir/x", "x", 0x180, uid: 1000, gid: 1000);
                File(w, ".wh.gone-dir", "");
            }),
            Tar(w =>
            {
                File(w, "etc/passwd", "root\nuser"); File(w, "bin/.wh.tool", ""); File(w, "newfile", "top");
            }),
        };
        return Commit(snapshotter, layers);
    }

    public static readonly IReadOnlyList<string> ThreeLayerExpected =
    [
        "bin/", "bin/hard1=shared", "bin/hard2=shared", "etc/", "etc/config=two", "etc/passwd=root\nuser",
        "link->etc/config", "newdir/", "newdir/x=x", "newfile=top", "opaque/", "opaque/c=c",
    ];

    /// <summary>Types, modes, owners and link counts that the three layers must produce.</summary>
    public static IReadOnlyList<string> ThreeLayerManifest() =>
    [
        "bin d 755 0:0", "bin/hard1 f 644 0:0 n2 6 " + Sha("shared"), "bin/hard2 f 644 0:0 n2 6 " + Sha("shared"),
        "etc d 755 0:0", "etc/config f 644 0:0 n1 3 " + Sha("two"), "etc/passwd f 644 0:0 n1 9 " + Sha("root\nuser"),
        "link l etc/config", "newdir d 700 0:0", "newdir/x f 600 1000:1000 n1 1 " + Sha("x"),
        "newfile f 644 0:0 n1 3 " + Sha("top"), "opaque d 755 0:0", "opaque/c f 644 0:0 n1 1 " + Sha("c"),
    ];

    public static IReadOnlyList<Digest> CommitNumbered(ISnapshotter snapshotter, int count)
        => Commit(snapshotter, [.. Enumerable.Range(0, count).Select(i => Tar(w =>
        {
            File(w, $"layer-{i:D2}", $"layer {i}");
            File(w, "top", i.ToString());
            if (i == count - 2)
                File(w, "removed-by-59", "x");
            if (i == count - 1)
                File(w, ".wh.removed-by-59", "");
        }))]);

    private static IReadOnlyList<Digest> Commit(ISnapshotter snapshotter, byte[][] layers)
    {
        var chain = ChainId.ForLayers(layers.Select(layer => Digest.Compute(layer)));
        for (int i = 0; i < layers.Length; i++)
        {
            byte[] layer = layers[i];
            snapshotter.CommitLayer(chain[i], fs => new LayerUnpacker().Unpack(new MemoryStream(layer), fs));
        }
        return chain;
    }

    /// <summary>Every path under <paramref name="root"/>, sorted: "dir/", "file=content", "link->target".</summary>
    public static IReadOnlyList<string> Contents(string root)
        => [.. Walk(root).Select(path =>
        {
            string full = Path.Combine(root, path);
            var info = new FileInfo(full);
            if (info.LinkTarget is { } target)
                return $"{path}->{target}";
            return Directory.Exists(full) ? path + "/" : $"{path}={System.IO.File.ReadAllText(full)}";
        })];

    /// <summary>Every path with type, mode, owner, link count, size and content hash (or link target).</summary>
    public static IReadOnlyList<string> Manifest(string root)
        => [.. Walk(root).Select(path =>
        {
            string full = Path.Combine(root, path);
            var status = Skiff.Interop.Interop.Libc.TryStatAt(new Skiff.Interop.FileDescriptor(-100, ownsHandle: false), full)!.Value;
            string mode = Convert.ToString(status.Mode & 0xfff, 8);
            return (status.Mode & 0xF000) switch
            {
                0xA000 => $"{path} l {new FileInfo(full).LinkTarget}",
                0x4000 => $"{path} d {mode} {status.Uid}:{status.Gid}",
                _ => $"{path} f {mode} {status.Uid}:{status.Gid} n{status.Nlink} {status.Size} {Sha(System.IO.File.ReadAllBytes(full))}",
            };
        })];

    private static IEnumerable<string> Walk(string root)
        => Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(full => Path.GetRelativePath(root, full)).Order(StringComparer.Ordinal);

    private static string Sha(string text) => Sha(Encoding.UTF8.GetBytes(text));

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data))[..12];

    private static byte[] Tar(Action<TarWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
            write(writer);
        return buffer.ToArray();
    }

    private static void Dir(TarWriter w, string name, int mode = 0x1ed)
        => w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode, ModificationTime = Time });

    private static void File(TarWriter w, string name, string content, int mode = 0x1a4, int uid = 0, int gid = 0)
        => w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = (UnixFileMode)mode, Uid = uid, Gid = gid, ModificationTime = Time,
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
        });

    private static void Link(TarWriter w, string name, string target)
        => w.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, ModificationTime = Time });

    private static void Symlink(TarWriter w, string name, string target)
        => w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Mode = (UnixFileMode)0x1ff, ModificationTime = Time });

    private static readonly DateTimeOffset Time = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
}
