using System.Formats.Tar;
using System.Text;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Tests;

/// <summary>Runs as root (the test machines are): owners, devices and trusted.* xattrs need it.</summary>
public sealed class LayerUnpackerTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("skiff-unpack-test-").FullName;
    private readonly string _root;
    private readonly string _outside;

    public LayerUnpackerTests()
    {
        _root = Path.Combine(_temp, "root");
        _outside = Path.Combine(_temp, "outside");
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "sentinel"), "untouched");
    }

    public void Dispose() => Skiff.Interop.FileTree.Delete(_temp);

    private UnpackedLayer Unpack(byte[] layer) => new LayerUnpacker().Unpack(new MemoryStream(layer), _root);

    private string InRoot(string path) => Path.Combine(_root, path);

    private static string Mode(uint permissions) => Convert.ToString(permissions, 8);

    private void AssertOutsideUntouched()
    {
        Assert.Equal(["sentinel"], Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName));
        Assert.Equal("untouched", File.ReadAllText(Path.Combine(_outside, "sentinel")));
        Assert.Equal(["outside", "root"], Directory.GetFileSystemEntries(_temp).Select(Path.GetFileName).Order());
    }

    private static LayerBuilder Sample() => new LayerBuilder()
        .Directory("etc/", mode: (UnixFileMode)0x1ed)
        .File("etc/hostname", "box\n", mode: (UnixFileMode)0x1a4)
        .Directory("home/user/", uid: 1000, gid: 1000, mode: (UnixFileMode)0x1c0)
        .File("home/user/notes", "hello", uid: 1000, gid: 100, mode: (UnixFileMode)0x180)
        .Directory("bin/")
        .File("bin/busybox", "#!binary", mode: (UnixFileMode)0x1ed)
        .Symlink("bin/sh", "/bin/busybox")
        .Symlink("bin/ls", "busybox", uid: 7, gid: 8)
        .HardLink("bin/busybox-link", "bin/busybox");

    [Theory]
    [InlineData(LayerCompression.None)]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void UnpacksEveryCompression(LayerCompression compression)
    {
        var layer = Sample();
        byte[] tar = layer.Tar();
        byte[] bytes = compression switch
        {
            LayerCompression.Gzip => layer.Gzip(),
            LayerCompression.Zstd => layer.Zstd(),
            _ => layer.Tar(),
        };

        var result = Unpack(bytes);

        Assert.Equal((compression, 9, 0), (result.Compression, result.Entries, result.Whiteouts));
        Assert.Equal(Digest.Compute(tar), result.DiffId);
        Assert.Equal("box\n".Length + "hello".Length + "#!binary".Length, result.Size);
        Assert.Equal("box\n", File.ReadAllText(InRoot("etc/hostname")));
        Assert.Equal("hello", File.ReadAllText(InRoot("home/user/notes")));
    }

    [Fact]
    public void TypesModesOwnersAndLinks()
    {
        Unpack(Sample().Tar());

        var etc = FileStatus.Of(InRoot("etc"))!;
        Assert.Equal(Libc.S_IFDIR, etc.Type);
        Assert.Equal("755", Mode(etc.Permissions));

        var home = FileStatus.Of(InRoot("home/user"))!;
        Assert.Equal(("700", 1000u, 1000u), (Mode(home.Permissions), home.Uid, home.Gid));

        var notes = FileStatus.Of(InRoot("home/user/notes"))!;
        Assert.Equal((Libc.S_IFREG, "600", 1000u, 100u), (notes.Type, Mode(notes.Permissions), notes.Uid, notes.Gid));

        var sh = FileStatus.Of(InRoot("bin/sh"))!;
        Assert.Equal(Libc.S_IFLNK, sh.Type);
        Assert.Equal("/bin/busybox", new FileInfo(InRoot("bin/sh")).LinkTarget);
        var ls = FileStatus.Of(InRoot("bin/ls"))!;
        Assert.Equal((7u, 8u), (ls.Uid, ls.Gid));
        Assert.Equal("busybox", new FileInfo(InRoot("bin/ls")).LinkTarget);

        var busybox = FileStatus.Of(InRoot("bin/busybox"))!;
        var link = FileStatus.Of(InRoot("bin/busybox-link"))!;
        Assert.Equal(busybox.Inode, link.Inode);
        Assert.Equal(2u, busybox.Nlink);
        Assert.Equal("755", Mode(busybox.Permissions));
    }

    [Fact]
    public void SetuidSetgidAndStickyBitsSurviveChown()
    {
        Unpack(new LayerBuilder()
            .File("usr/bin/sudo", "x", mode: (UnixFileMode)0xded /* 4755 | 02000 */, uid: 0, gid: 0)
            .File("usr/bin/mine", "x", mode: (UnixFileMode)0x9ed /* 4755 */, uid: 1000, gid: 1000)
            .Directory("tmp/", mode: (UnixFileMode)0x3ff /* 1777 */)
            .Tar());

        Assert.Equal("6755", Mode(FileStatus.Of(InRoot("usr/bin/sudo"))!.Permissions));
        Assert.Equal("4755", Mode(FileStatus.Of(InRoot("usr/bin/mine"))!.Permissions));
        Assert.Equal(1000u, FileStatus.Of(InRoot("usr/bin/mine"))!.Uid);
        Assert.Equal("1777", Mode(FileStatus.Of(InRoot("tmp"))!.Permissions));
    }

    [Fact]
    public void MissingParentsAreCreated()
    {
        Unpack(new LayerBuilder().File("a/b/c/file", "deep").Tar());
        Assert.Equal("deep", File.ReadAllText(InRoot("a/b/c/file")));
        Assert.Equal("755", Mode(FileStatus.Of(InRoot("a/b"))!.Permissions));
    }

    [Fact]
    public void MissingParentsTakeTheMetadataOfTheLowerLayersDirectory()
    {
        var older = new DateTimeOffset(2019, 5, 6, 7, 8, 9, TimeSpan.Zero);
        string bottom = Path.Combine(_temp, "bottom"), middle = Path.Combine(_temp, "middle");
        Directory.CreateDirectory(bottom);
        Directory.CreateDirectory(middle);
        new LayerUnpacker().Unpack(new MemoryStream(new LayerBuilder()
            .Directory("srv/", mode: (UnixFileMode)0x1e8, uid: 5, gid: 6, time: older)
            .Directory("srv/app/", mode: (UnixFileMode)0x1c0, uid: 7, gid: 8)
            .Directory("hidden/", mode: (UnixFileMode)0x1c0).Directory("hidden/sub/", mode: (UnixFileMode)0x1c0)
            .Directory("deleted/", mode: (UnixFileMode)0x1c0)
            .Tar()), bottom);
        // The middle layer makes hidden/ opaque (its sub/ is gone) and deletes deleted/.
        new LayerUnpacker { LowerLayers = [bottom] }.Unpack(new MemoryStream(new LayerBuilder()
            .File("hidden/.wh..wh..opq", "").File(".wh.deleted", "").Tar()), middle);

        new LayerUnpacker { LowerLayers = [middle, bottom] }.Unpack(new MemoryStream(new LayerBuilder()
            .File("srv/app/new", "x").File("hidden/sub/new", "y").File("deleted/new", "z").File("fresh/new", "w").Tar()), _root);

        var srv = FileStatus.Of(InRoot("srv"))!;
        Assert.Equal(("750", 5u, 6u, older.ToUnixTimeSeconds()), (Mode(srv.Permissions), srv.Uid, srv.Gid, srv.MtimeSeconds));
        var app = FileStatus.Of(InRoot("srv/app"))!;
        Assert.Equal(("700", 7u, 8u), (Mode(app.Permissions), app.Uid, app.Gid));
        Assert.Equal("700", Mode(FileStatus.Of(InRoot("hidden"))!.Permissions));
        // Below an opaque directory or a whiteout there is nothing to inherit from: the defaults apply.
        Assert.Equal("755", Mode(FileStatus.Of(InRoot("hidden/sub"))!.Permissions));
        Assert.Equal("755", Mode(FileStatus.Of(InRoot("deleted"))!.Permissions));
        Assert.Equal("755", Mode(FileStatus.Of(InRoot("fresh"))!.Permissions));
    }

    [Fact]
    public void WhiteoutOfNothingBelowIsDroppedWhenTheLowerLayersAreKnown()
    {
        string bottom = Path.Combine(_temp, "bottom");
        Directory.CreateDirectory(bottom);
        new LayerUnpacker { LowerLayers = [] }.Unpack(new MemoryStream(new LayerBuilder()
            .File("etc/present", "p").File(".wh.nothing-at-the-bottom", "").Tar()), bottom);
        byte[] top = new LayerBuilder().File("etc/.wh.present", "").File("etc/.wh.absent", "").File("new/.wh.absent", "").Tar();

        new LayerUnpacker { LowerLayers = [bottom] }.Unpack(new MemoryStream(top), _root);

        Assert.Equal(["etc/present"], Directory.GetFileSystemEntries(bottom, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(bottom, p)).Where(p => p != "etc"));
        Assert.Equal((Libc.S_IFCHR, 0u, 0u), Device(InRoot("etc/present")));
        Assert.Null(FileStatus.Of(InRoot("etc/absent")));
        Assert.Null(FileStatus.Of(InRoot("new/absent")));

        // Without the lower layers nothing can be known: every whiteout is kept.
        string unknown = Path.Combine(_temp, "unknown");
        Directory.CreateDirectory(unknown);
        var result = new LayerUnpacker().Unpack(new MemoryStream(top), unknown);
        Assert.Equal(3, result.Whiteouts);
        Assert.Equal((Libc.S_IFCHR, 0u, 0u), Device(Path.Combine(unknown, "new/absent")));
    }

    private static (uint Type, uint Major, uint Minor) Device(string path)
    {
        var status = FileStatus.Of(path)!;
        return (status.Type, status.RdevMajor, status.RdevMinor);
    }

    [Fact]
    public void DevicesAndFifos()
    {
        Unpack(new LayerBuilder()
            .Device("dev/null", TarEntryType.CharacterDevice, 1, 3)
            .Device("dev/sda", TarEntryType.BlockDevice, 8, 0, mode: (UnixFileMode)0x1b0)
            .Device("dev/big", TarEntryType.CharacterDevice, 300, 70000)
            .Fifo("run/pipe")
            .Tar());

        var devNull = FileStatus.Of(InRoot("dev/null"))!;
        Assert.Equal((Libc.S_IFCHR, 1u, 3u, "666"), (devNull.Type, devNull.RdevMajor, devNull.RdevMinor, Mode(devNull.Permissions)));
        var sda = FileStatus.Of(InRoot("dev/sda"))!;
        Assert.Equal((Libc.S_IFBLK, 8u, 0u, "660"), (sda.Type, sda.RdevMajor, sda.RdevMinor, Mode(sda.Permissions)));
        var big = FileStatus.Of(InRoot("dev/big"))!;
        Assert.Equal((300u, 70000u), (big.RdevMajor, big.RdevMinor));
        var pipe = FileStatus.Of(InRoot("run/pipe"))!;
        Assert.Equal((Libc.S_IFIFO, "644"), (pipe.Type, Mode(pipe.Permissions)));
    }

    [Fact]
    public void XattrsIncludingFileCapabilities()
    {
        // vfs_cap_data v2: magic 0x02000000 | effective, permitted = CAP_NET_RAW (13); every byte is below 0x80.
        byte[] capability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Unpack(new LayerBuilder()
            .File("bin/ping", "ping", mode: (UnixFileMode)0x1ed, pax: new Dictionary<string, string>
            {
                ["SCHILY.xattr.security.capability"] = Encoding.UTF8.GetString(capability),
                ["SCHILY.xattr.user.origin"] = "debian",
            })
            .Tar());

        Assert.Equal(capability, FileStatus.Xattr(InRoot("bin/ping"), "security.capability"));
        Assert.Equal("debian"u8.ToArray(), FileStatus.Xattr(InRoot("bin/ping"), "user.origin"));
    }

    [Fact]
    public void BinaryXattrValuesFromGnuTarArriveByteForByte()
    {
        // cap_setuid is bit 7 of the permitted set: the value has a 0x80 byte, which is not UTF-8, as real
        // images' setuid-capable binaries have (System.Formats.Tar alone would hand it over as U+FFFD).
        string source = Path.Combine(_temp, "source");
        Directory.CreateDirectory(Path.Combine(source, "bin"));
        string file = Path.Combine(source, "bin", "su");
        File.WriteAllText(file, "su");
        Archive.ExternalTool.Run("setcap", "cap_setuid+ep", file);
        byte[] binary = [0xff, 0x00, 0xfe, 0x80, 0xc3];
        Libc.SetXattrNoFollow(file, "user.binary", binary);
        byte[] capability = FileStatus.Xattr(file, "security.capability")!;
        Assert.Throws<DecoderFallbackException>(() => new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(capability));
        string layer = Path.Combine(_temp, "layer.tar");
        Archive.ExternalTool.Run("tar", "--xattrs", "--xattrs-include=*", "--format=posix", "-C", source, "-cf", layer, "bin");
        Directory.Delete(source, recursive: true);

        Unpack(File.ReadAllBytes(layer));

        Assert.Equal(capability, FileStatus.Xattr(InRoot("bin/su"), "security.capability"));
        Assert.Equal(binary, FileStatus.Xattr(InRoot("bin/su"), "user.binary"));
    }

    [Theory]
    [InlineData("gnu")] // raw bytes in the name fields, GNU 'L'/'K' members for long ones
    [InlineData("posix")] // pax path/linkpath records with hdrcharset=BINARY
    [InlineData("ustar")] // raw bytes in the name fields, a long path split into prefix and name
    public void NamesThatAreNotUtf8ArriveByteForByte(string format)
    {
        string source = Path.Combine(_temp, "source");
        Archive.ExternalTool.Run("python3", "-c", """
            import os, sys
            root = sys.argv[1].encode()
            deep = root + b"/d\xff/" + b"p" * 80
            os.makedirs(deep)
            with open(root + b"/caf\xe9", "w") as f:
                f.write("latin-1")
            with open(deep + b"/" + b"n" * 60 + b"\xfe", "w") as f:
                f.write("deep")
            os.symlink(b"caf\xe9", root + b"/link\xfe")
            os.link(root + b"/caf\xe9", root + b"/hard\xe9")
            """, source);
        string layer = Path.Combine(_temp, "layer.tar");
        Archive.ExternalTool.Run("tar", $"--format={format}", "-C", source, "-cf", layer, ".");
        Skiff.Interop.FileTree.Delete(source);

        Unpack(File.ReadAllBytes(layer));

        string Name(params byte[][] parts) => Skiff.Interop.FileNames.Decode([.. parts.SelectMany(part => part)]);
        string cafe = Name("caf"u8.ToArray(), [0xe9]);
        Assert.Equal(
            [cafe, Name("d"u8.ToArray(), [0xff]), Name("hard"u8.ToArray(), [0xe9]), Name("link"u8.ToArray(), [0xfe])],
            Skiff.Interop.FileTree.Names(_root).Order(StringComparer.Ordinal));
        using (var reader = new StreamReader(Skiff.Interop.FileTree.OpenRead(InRoot(cafe))))
            Assert.Equal("latin-1", reader.ReadToEnd());
        string deepFile = Path.Combine(_root, Name("d"u8.ToArray(), [0xff]), new string('p', 80), Name([.. Enumerable.Repeat((byte)'n', 60)], [0xfe]));
        using (var reader = new StreamReader(Skiff.Interop.FileTree.OpenRead(deepFile)))
            Assert.Equal("deep", reader.ReadToEnd());
        Assert.Equal(cafe, Libc.ReadLink(InRoot(Name("link"u8.ToArray(), [0xfe]))));
        var root = new Skiff.Interop.FileDescriptor(Libc.AT_FDCWD, ownsHandle: false);
        Assert.Equal(Libc.TryStatAt(root, InRoot(cafe))!.Value.Ino, Libc.TryStatAt(root, InRoot(Name("hard"u8.ToArray(), [0xe9])))!.Value.Ino);
    }

    [Fact]
    public void ReplacementCharacterThatIsTextIsKeptAsWritten()
    {
        // TarReader gives a U+FFFD, which sends the unpacker to the raw record; here that record (TarWriter's, from
        // this very string) is valid UTF-8 with U+FFFD in it, and those are the bytes that must be stored.
        var layer = new LayerBuilder().File("bin/x", "x", pax: new Dictionary<string, string>
        {
            ["SCHILY.xattr.user.note"] = "\u0001\uFFFD",
        }).Tar();
        Unpack(layer);
        Assert.Equal("\u0001\uFFFD"u8.ToArray(), FileStatus.Xattr(InRoot("bin/x"), "user.note"));
    }

    [Fact]
    public void ModificationTimesIncludingDirectoriesWithLaterChildren()
    {
        var directoryTime = new DateTimeOffset(2000, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Unpack(new LayerBuilder()
            .Directory("data/", time: directoryTime)
            .File("data/a", "a")
            .Symlink("data/link", "a")
            .File("data/b", "b", time: new DateTimeOffset(2010, 1, 1, 0, 0, 0, TimeSpan.Zero))
            .Tar());

        Assert.Equal(directoryTime.ToUnixTimeSeconds(), FileStatus.Of(InRoot("data"))!.MtimeSeconds);
        Assert.Equal(LayerBuilder.Time.ToUnixTimeSeconds(), FileStatus.Of(InRoot("data/a"))!.MtimeSeconds);
        Assert.Equal(LayerBuilder.Time.ToUnixTimeSeconds(), FileStatus.Of(InRoot("data/link"))!.MtimeSeconds);
        Assert.Equal(new DateTimeOffset(2010, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), FileStatus.Of(InRoot("data/b"))!.MtimeSeconds);
    }

    [Fact]
    public void WhiteoutsBecomeOverlayWhiteouts()
    {
        var result = Unpack(new LayerBuilder()
            .Directory("etc/")
            .File("etc/.wh.shadow", "")
            .Directory("var/cache/")
            .File("var/cache/.wh..wh..opq", "")
            .File("var/cache/new", "kept")
            .File(".wh..wh.plnk", "")
            .Tar());

        Assert.Equal(2, result.Whiteouts);
        var whiteout = FileStatus.Of(InRoot("etc/shadow"))!;
        Assert.Equal((Libc.S_IFCHR, 0u, 0u), (whiteout.Type, whiteout.RdevMajor, whiteout.RdevMinor));
        Assert.False(File.Exists(InRoot("etc/.wh.shadow")));
        Assert.Equal("y"u8.ToArray(), FileStatus.Xattr(InRoot("var/cache"), "trusted.overlay.opaque"));
        Assert.Equal("kept", File.ReadAllText(InRoot("var/cache/new")));
        Assert.Equal(["cache"], Directory.GetFileSystemEntries(InRoot("var")).Select(Path.GetFileName));
        Assert.Equal(["new"], Directory.GetFileSystemEntries(InRoot("var/cache")).Select(Path.GetFileName));
        Assert.False(File.Exists(InRoot(".wh..wh.plnk")));
    }

    [Theory]
    [InlineData("../../x")]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/../x")]
    public void DotDotEscapeIsRejected(string name)
    {
        var error = Assert.Throws<LayerException>(() => Unpack(new LayerBuilder().File(name, "pwned").Tar()));
        Assert.Equal($"layer entry \"{name}\" escapes the root", error.Message);
        AssertOutsideUntouched();
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void HardLinkOutsideTheRootIsRejected()
    {
        var error = Assert.Throws<LayerException>(() => Unpack(new LayerBuilder().HardLink("stolen", "../outside/sentinel").Tar()));
        Assert.Equal("layer entry \"stolen\" links to \"../outside/sentinel\", outside the root", error.Message);
        Assert.Equal(1u, FileStatus.Of(Path.Combine(_outside, "sentinel"))!.Nlink);
    }

    [Fact]
    public void AbsoluteSymlinkToHostRootIsConfinedToTheTarget()
    {
        // evil -> / and then a file under evil/. On the host that path would be our "outside" directory (the test
        // uses it instead of evil/etc/passwd so that a regression cannot damage the machine); inside the root it
        // is <root>/<same path>, which is where it must land.
        string hostPathOfOutside = _outside.TrimStart('/');
        Unpack(new LayerBuilder()
            .Symlink("evil", "/")
            .File($"evil/{hostPathOfOutside}/passwd", "confined")
            .File("evil/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
            .Tar());

        Assert.Equal("confined", File.ReadAllText(InRoot($"{hostPathOfOutside}/passwd")));
        Assert.Equal("root:x:0:0::/root:/bin/sh\n", File.ReadAllText(InRoot("etc/passwd")));
        Assert.Equal("/", new FileInfo(InRoot("evil")).LinkTarget);
        AssertOutsideUntouched();
    }

    [Fact]
    public void SymlinkToTheOutsideDirectoryIsConfined()
    {
        Unpack(new LayerBuilder()
            .Directory(_outside.TrimStart('/') + "/")
            .Symlink("abs", _outside)
            .File("abs/sentinel", "confined-abs")
            .Symlink("up", "../../../../../../..")
            .File("up/file", "confined-up")
            .Directory("outside/")
            .Symlink("rel", "../outside")
            .File("rel/other", "confined-rel")
            .Tar());

        Assert.Equal("confined-abs", File.ReadAllText(InRoot(_outside.TrimStart('/') + "/sentinel")));
        Assert.Equal("confined-up", File.ReadAllText(InRoot("file")));
        Assert.Equal("confined-rel", File.ReadAllText(InRoot("outside/other")));
        AssertOutsideUntouched();
    }

    [Fact]
    public void WritingThroughADanglingSymlinkIsAClearError()
    {
        var error = Assert.Throws<LayerException>(() => Unpack(new LayerBuilder().Symlink("abs", _outside).File("abs/x", "y").Tar()));
        Assert.Equal("layer entry \"abs/x\": \"abs\" is a symlink to a directory that does not exist", error.Message);
        AssertOutsideUntouched();
    }

    [Fact]
    public void LaterEntryReplacesSymlinkInsteadOfWritingThroughIt()
    {
        Unpack(new LayerBuilder()
            .Symlink("victim", Path.Combine(_outside, "sentinel"))
            .File("victim", "replaced")
            .Symlink("dir", _outside)
            .Directory("dir/")
            .Tar());

        Assert.Equal(Libc.S_IFREG, FileStatus.Of(InRoot("victim"))!.Type);
        Assert.Equal("replaced", File.ReadAllText(InRoot("victim")));
        Assert.Equal(Libc.S_IFDIR, FileStatus.Of(InRoot("dir"))!.Type);
        AssertOutsideUntouched();
    }

    [Fact]
    public void AbsoluteEntryNamesAreRelativeToTheRoot()
    {
        Unpack(new LayerBuilder().File("/abs/file", "inside").File("./dot/file", "also").Tar());
        Assert.Equal("inside", File.ReadAllText(InRoot("abs/file")));
        Assert.Equal("also", File.ReadAllText(InRoot("dot/file")));
        AssertOutsideUntouched();
    }

    [Fact]
    public void DirectoryReplacedByFileAndFileByDirectory()
    {
        Unpack(new LayerBuilder()
            .File("x/inner", "1")
            .File("x", "now a file")
            .File("y", "file first")
            .Directory("y/")
            .Tar());
        Assert.Equal("now a file", File.ReadAllText(InRoot("x")));
        Assert.True(Directory.Exists(InRoot("y")));
    }

    [Fact]
    public void RootEntryUpdatesTheTargetItself()
    {
        Unpack(new LayerBuilder().Directory("./", mode: (UnixFileMode)0x1ed).File("f", "x").Tar());
        Assert.Equal("755", Mode(FileStatus.Of(_root)!.Permissions));
        Assert.Equal(LayerBuilder.Time.ToUnixTimeSeconds(), FileStatus.Of(_root)!.MtimeSeconds);
    }

    [Fact]
    public void FileUnderAFileIsAClearError()
    {
        var error = Assert.Throws<LayerException>(() => Unpack(new LayerBuilder().File("f", "x").File("f/g", "y").Tar()));
        Assert.Equal("layer entry \"f/g\": \"f\" is not a directory", error.Message);
    }

    [Fact]
    public void XzLayerIsRefusedClearly()
    {
        byte[] xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3];
        var error = Assert.Throws<LayerException>(() => Unpack(xz));
        Assert.Equal("layer is xz-compressed, which OCI layers do not use; only gzip, zstd and plain tar are supported", error.Message);
    }

    [Fact]
    public void TruncatedGzipLayerFails()
    {
        var gzip = Sample().Gzip();
        Assert.ThrowsAny<Exception>(() => Unpack(gzip[..(gzip.Length / 2)]));
    }

    [Fact]
    public void ReadsTheWholeCompressedStream()
    {
        var gzip = Sample().Gzip();
        var stream = new MemoryStream(gzip);
        new LayerUnpacker().Unpack(stream, _root);
        Assert.Equal(gzip.Length, stream.Position);
    }
}
