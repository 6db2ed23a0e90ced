using System.Formats.Tar;
using System.Security.Cryptography;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Tests.Registry;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Content;
using Skiff.Storage.Snapshots;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Tests.Archive;

/// <summary>
/// The rootfs skiff gives a container matches <c>umoci unpack</c>'s file for file. skiff unpacks each layer into its
/// own snapshot with overlay whiteouts, so its rootfs is the overlay mount of those snapshots (what a container
/// sees); umoci applies the layers onto one directory, deleting what whiteouts name. The image reaches umoci as
/// skiff's own oci-archive, so this also checks that a third tool reads that layout. Runs as root (devices, owners).
/// </summary>
public sealed class UmociInteropTests : IDisposable
{
    private const string Tag = "localhost/umoci-test:v1";
    private static readonly string[] Xattrs = ["user.note", "trusted.skiff"];
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private static IEnumerable<KeyValuePair<string, string>> Xattr(string name, string value) => [new($"SCHILY.xattr.{name}", value)];

    private static byte[][] Layers()
    {
        string longDirectory = "long/" + new string('d', 120) + "/";
        var bottom = new LayerBuilder()
            .Directory("bin/").Directory("etc/").Directory("usr/").Directory("usr/bin/").Directory("var/").Directory("dev/").Directory("long/")
            .Directory("home/").Directory("home/user/", mode: (UnixFileMode)0x1c0, uid: 1000, gid: 1000)
            .Directory("tmp/", mode: (UnixFileMode)0x3ff)
            .File("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
            .File("etc/shadow", "secret", mode: (UnixFileMode)0x1a0, gid: 42)
            .File("etc/noted", "with xattrs", pax: [.. Xattr("user.note", "hello"), .. Xattr("trusted.skiff", "t")])
            .File("etc/trusted", "kept", pax: Xattr("trusted.skiff", "kept"))
            .File("bin/busybox", "#!busybox", mode: (UnixFileMode)0x1ed)
            .HardLink("bin/busybox-hard", "bin/busybox")
            .HardLink("bin/busybox-gone", "bin/busybox")
            .Symlink("bin/sh", "/bin/busybox")
            .Symlink("bin/ls", "busybox", uid: 7, gid: 8)
            .File("usr/bin/sudo", "sudo", mode: (UnixFileMode)0x9ed)
            .File("home/user/notes", "mine", mode: (UnixFileMode)0x180, uid: 1000, gid: 1000)
            .Device("dev/null", TarEntryType.CharacterDevice, 1, 3)
            .Device("dev/loop0", TarEntryType.BlockDevice, 7, 0, mode: (UnixFileMode)0x1b0)
            .Fifo("dev/pipe")
            .Directory(longDirectory)
            .File(longDirectory + new string('f', 200), "long name")
            .File("var/old", "deleted above")
            .Directory("var/cache/").File("var/cache/entry", "deleted with its dir")
            .Directory("opaque/").File("opaque/lower", "hidden").Directory("opaque/sub/").File("opaque/sub/deeper", "hidden")
            .File("file-then-dir", "file")
            .Directory("dir-then-file/").File("dir-then-file/inside", "gone")
            .Symlink("link-then-file", "etc/passwd")
            .Tar();
        var middle = new LayerBuilder()
            .File("var/.wh.old", "")
            .File("var/.wh.cache", "")
            .File("bin/.wh.busybox-gone", "")
            .File("opaque/.wh..wh..opq", "").File("opaque/upper", "visible")
            .Directory("file-then-dir/").File("file-then-dir/inside", "now a directory")
            .File("dir-then-file", "now a file")
            .File("link-then-file", "now a file too")
            .File("etc/passwd", "root:x:0:0::/root:/bin/ash\n", mode: (UnixFileMode)0x180)
            .Directory("etc/", mode: (UnixFileMode)0x1e8)
            .Directory("data/").File("data/a", "linked", uid: 5, gid: 6).HardLink("data/b", "data/a")
            .Tar();
        var top = new LayerBuilder()
            .File("var/old", "back again")
            .Fifo("var/fifo", mode: (UnixFileMode)0x180)
            .File("opaque/.wh.upper", "").File("opaque/again", "after the opaque layer")
            .File("opaque/sub/.wh.deeper", "").File("opaque/sub/kept", "in a directory the opaque layer emptied")
            .File(".wh.never-existed", "")
            .File("etc/.wh.noted", "")
            .File("etc/noted", "replaced", pax: Xattr("user.note", "second"))
            .Gzip();
        return [bottom, middle, top];
    }

    [Fact]
    public void OverlayOfSkiffSnapshotsMatchesUmociUnpack()
    {
        byte[][] layers = Layers();
        var store = new ContentStore(Path.Combine(_temp.Path, "store"));
        var manifestDigest = PutImage(store, layers);

        string layout = Path.Combine(_temp.Path, "layout");
        Directory.CreateDirectory(layout);
        string archive = Path.Combine(_temp.Path, "image.tar");
        using (var file = File.Create(archive))
            ImageArchiveWriter.Write(store, [new ArchiveImage(manifestDigest, [Tag])], ArchiveFormat.OciArchive, file);
        ExternalTool.Run("tar", "-xf", archive, "-C", layout);
        string bundle = Path.Combine(_temp.Path, "bundle");
        ExternalTool.Run("umoci", "unpack", "--image", $"{layout}:{Tag}", bundle);

        var snapshotter = new OverlaySnapshotter(Path.Combine(_temp.Path, "snapshots"));
        var chain = ChainId.ForLayers(layers.Select(layer => Digest.Compute(Decompress(layer))));
        for (int i = 0; i < layers.Length; i++)
        {
            byte[] layer = layers[i];
            var lower = chain.Take(i).Reverse().Select(snapshotter.LayerPath).ToList();
            snapshotter.CommitLayer(chain[i], directory => new LayerUnpacker { LowerLayers = lower }.Unpack(new MemoryStream(layer), directory));
        }
        string rootfs = Path.Combine(_temp.Path, "rootfs");
        Directory.CreateDirectory(rootfs);
        snapshotter.View("view", chain);
        try
        {
            snapshotter.Mount("view", rootfs);
            var expected = Tree(Path.Combine(bundle, "rootfs"));
            var actual = Tree(rootfs);
            Assert.Equal(expected, actual);
            Assert.Equal(HardLinkGroups(Path.Combine(bundle, "rootfs")), HardLinkGroups(rootfs));
            Assert.Contains("dev/null c 666 0:0 1:3", actual);
            // The top layer lists etc/ only as the parent of its entries: the mode the middle layer gave it stays.
            Assert.Contains("etc d 750 0:0", actual);
            Assert.Contains(actual, line => line.StartsWith("etc/trusted f 644 0:0 4 ", StringComparison.Ordinal) && line.EndsWith(" trusted.skiff=kept", StringComparison.Ordinal));
            Assert.Contains(actual, line => line.StartsWith("etc/noted f 644 0:0 8 ", StringComparison.Ordinal) && line.EndsWith(" user.note=second", StringComparison.Ordinal));
        }
        finally
        {
            snapshotter.Remove("view");
        }
    }

    private static Digest PutImage(ContentStore store, byte[][] layers)
    {
        var config = new ImageConfig
        {
            Architecture = Platform.Host.Architecture,
            OS = "linux",
            RootFs = new ImageRootFs { DiffIds = [.. layers.Select(layer => Digest.Compute(Decompress(layer)).ToString())] },
        };
        byte[] configBytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(config, ImageJsonContext.Default.ImageConfig);
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = TestImage.Describe(MediaTypes.OciConfig, configBytes),
            Layers = [.. layers.Select(layer => TestImage.Describe(LayerDecompression.Detect(layer) == LayerCompression.Gzip ? MediaTypes.OciLayerGzip : MediaTypes.OciLayer, layer))],
        };
        byte[] manifestBytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest);
        foreach (byte[] blob in layers.Append(configBytes).Append(manifestBytes))
            store.Ingest(Digest.Compute(blob), blob.Length, new MemoryStream(blob));
        return Digest.Compute(manifestBytes);
    }

    private static byte[] Decompress(byte[] layer)
    {
        using var plain = LayerDecompression.Open(new MemoryStream(layer), out _);
        var output = new MemoryStream();
        plain.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Every path below <paramref name="root"/>: type, permission bits, owner, then size and content hash,
    /// link target or device numbers, then the test's xattrs.</summary>
    private static List<string> Tree(string root)
    {
        var lines = new List<string>();
        foreach (string path in Walk(root))
        {
            string full = Path.Combine(root, path);
            var status = FileStatus.Of(full) ?? throw new InvalidOperationException("no status: " + full);
            string line = $"{path} {TypeName(status.Type)} {Convert.ToString(status.Permissions, 8)} {status.Uid}:{status.Gid}";
            line += status.Type switch
            {
                Libc.S_IFREG => $" {new FileInfo(full).Length} {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full)))}",
                Libc.S_IFLNK => $" -> {new FileInfo(full).LinkTarget}",
                Libc.S_IFCHR or Libc.S_IFBLK => $" {status.RdevMajor}:{status.RdevMinor}",
                _ => "",
            };
            foreach (string name in Xattrs)
            {
                if (FileStatus.Xattr(full, name) is { } value)
                    line += $" {name}={System.Text.Encoding.UTF8.GetString(value)}";
            }
            lines.Add(line);
        }
        return lines;
    }

    /// <summary>Paths that share an inode, as sorted groups of two or more (link counts differ by design: a lower
    /// layer's inode keeps the links a whiteout hides in the overlay, umoci deletes them).</summary>
    private static List<string> HardLinkGroups(string root)
        => [.. Walk(root)
            .Select(path => (path, status: FileStatus.Of(Path.Combine(root, path))!))
            .Where(entry => entry.status.Type == Libc.S_IFREG)
            .GroupBy(entry => entry.status.Inode)
            .Where(group => group.Count() > 1)
            .Select(group => string.Join(" = ", group.Select(entry => entry.path).Order(StringComparer.Ordinal)))
            .Order(StringComparer.Ordinal)];

    private static IEnumerable<string> Walk(string root)
        => Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(full => Path.GetRelativePath(root, full)).Order(StringComparer.Ordinal);

    private static string TypeName(uint type) => type switch
    {
        Libc.S_IFREG => "f",
        Libc.S_IFDIR => "d",
        Libc.S_IFLNK => "l",
        Libc.S_IFCHR => "c",
        Libc.S_IFBLK => "b",
        Libc.S_IFIFO => "p",
        _ => "?",
    };
}
