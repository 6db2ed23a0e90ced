using System.Formats.Tar;
using System.IO.Compression;
using Skiff.Build.Context;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Tests.Context;

public class CopyApplierTests
{
    /// <summary>A context "ctx" and a rootfs "root" with users and groups of its own.</summary>
    private static Scratch Setup()
    {
        var s = new Scratch();
        s.Dir("ctx");
        s.Write("root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n");
        s.Write("root/etc/group", "root:x:0:\napps:x:1001:\nstaff:x:50:\n");
        return s;
    }

    private static void Copy(Scratch s, string[] sources, string destination, CopyOptions? options = null, string workdir = "/", string[]? excludes = null, bool parents = false)
    {
        var tree = BuildContext.FromDirectory(s["ctx"]).Sources;
        var plan = tree.Plan(sources, excludes ?? [], parents, options?.Instruction ?? "COPY");
        CopyApplier.Apply(tree, plan, s["root"], destination, workdir, options ?? new CopyOptions());
    }

    private static Libc.Statx Stat(string path) => Libc.TryStatAt(FileDescriptor.CurrentDirectory, path)!.Value;

    [Fact]
    public void A_file_takes_the_destination_name_or_goes_into_a_directory()
    {
        using var s = Setup();
        s.Write("ctx/app.conf", "conf");
        Copy(s, ["app.conf"], "/opt/renamed.conf");
        Assert.Equal("conf", File.ReadAllText(s["root/opt/renamed.conf"]));
        Copy(s, ["app.conf"], "/opt");
        Assert.Equal("conf", File.ReadAllText(s["root/opt/app.conf"])); // /opt exists: into it
        Copy(s, ["app.conf"], "/new/");
        Assert.Equal("conf", File.ReadAllText(s["root/new/app.conf"]));
        Copy(s, ["app.conf"], "rel.conf", workdir: "/work/dir");
        Assert.Equal("conf", File.ReadAllText(s["root/work/dir/rel.conf"]));
        Copy(s, ["app.conf"], ".", workdir: "/wd");
        Assert.Equal("conf", File.ReadAllText(s["root/wd/app.conf"]));
        var parent = Stat(s["root/work/dir"]);
        Assert.Equal(0x1EDu, parent.Mode & 0xFFFu);
        Assert.Equal((0u, 0u), (parent.Uid, parent.Gid));
    }

    [Fact]
    public void A_directory_copies_its_contents_with_modes_links_times_and_root_owner()
    {
        using var s = Setup();
        s.Write("ctx/src/bin/tool", "#!/bin/sh", (UnixFileMode)0x1ED);
        s.Write("ctx/src/secret", "s", (UnixFileMode)0x180);
        s.Link("ctx/src/bin/alias", "tool");
        File.SetLastWriteTimeUtc(s["ctx/src/secret"], new DateTime(2020, 2, 2, 0, 0, 0, DateTimeKind.Utc));
        Libc.FchownAt(Libc.AT_FDCWD, s["ctx/src/secret"], 1234, 1234, 0);
        Libc.SetXattrNoFollow(s["ctx/src/secret"], "user.note", "kept"u8);
        Copy(s, ["src"], "/app");
        Assert.Equal(0x1EDu, Stat(s["root/app/bin/tool"]).Mode & 0xFFFu);
        var secret = Stat(s["root/app/secret"]);
        Assert.Equal(0x180u, secret.Mode & 0xFFFu);
        Assert.Equal((0u, 0u), (secret.Uid, secret.Gid));
        Assert.Equal(new DateTime(2020, 2, 2, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(s["root/app/secret"]));
        Assert.Equal("kept"u8.ToArray(), Libc.GetXattrNoFollow(s["root/app/secret"], "user.note"));
        Assert.Equal("tool", new FileInfo(s["root/app/bin/alias"]).LinkTarget);
        Assert.False(Directory.Exists(s["root/app/src"]));
    }

    [Fact]
    public void Chown_resolves_names_in_the_rootfs_and_takes_numbers_as_they_are()
    {
        using var s = Setup();
        s.Write("ctx/f", "x");
        Copy(s, ["f"], "/a", new CopyOptions { Chown = "app" });
        Assert.Equal((1000u, 1001u), (Stat(s["root/a"]).Uid, Stat(s["root/a"]).Gid));
        Copy(s, ["f"], "/b", new CopyOptions { Chown = "app:staff" });
        Assert.Equal((1000u, 50u), (Stat(s["root/b"]).Uid, Stat(s["root/b"]).Gid));
        Copy(s, ["f"], "/c", new CopyOptions { Chown = "4242" });
        Assert.Equal((4242u, 4242u), (Stat(s["root/c"]).Uid, Stat(s["root/c"]).Gid));
        Copy(s, ["f"], "/d", new CopyOptions { Chown = "7:apps" });
        Assert.Equal((7u, 1001u), (Stat(s["root/d"]).Uid, Stat(s["root/d"]).Gid));
        var error = Assert.Throws<BuildException>(() => Copy(s, ["f"], "/e", new CopyOptions { Chown = "nobody" }));
        Assert.Contains("nobody", error.Message);
        Assert.False(Path.Exists(s["root/e"]));
        Assert.Throws<BuildException>(() => Copy(s, ["f"], "/e", new CopyOptions { Chown = "app:nogroup" }));
    }

    [Fact]
    public void Chown_gives_the_directories_a_copy_creates_its_owner_and_leaves_existing_ones_alone()
    {
        using var s = Setup();
        s.Write("ctx/f", "x");
        s.Dir("root/usr");
        Copy(s, ["f"], "/usr/local/bin/", new CopyOptions { Chown = "app" });
        // BuildKit's and buildah's copies chown every directory they make (fsutil's MkdirAll), not only the files.
        Assert.Equal((1000u, 1001u), (Stat(s["root/usr/local"]).Uid, Stat(s["root/usr/local"]).Gid));
        Assert.Equal((1000u, 1001u), (Stat(s["root/usr/local/bin"]).Uid, Stat(s["root/usr/local/bin"]).Gid));
        Assert.Equal(0x1EDu, Stat(s["root/usr/local/bin"]).Mode & 0xFFFu);
        Assert.Equal((0u, 0u), (Stat(s["root/usr"]).Uid, Stat(s["root/usr"]).Gid));
        Copy(s, ["f"], "/plain/dir/", new CopyOptions());
        Assert.Equal((0u, 0u), (Stat(s["root/plain/dir"]).Uid, Stat(s["root/plain/dir"]).Gid));
    }

    [Fact]
    public void A_copy_from_a_stage_keeps_the_owners_unless_chown()
    {
        using var s = Setup();
        s.Write("ctx/src/owned", "x");
        Libc.FchownAt(Libc.AT_FDCWD, s["ctx/src/owned"], 7, 8, 0);
        Copy(s, ["src"], "/kept", new CopyOptions { KeepOwners = true });
        Assert.Equal((7u, 8u), (Stat(s["root/kept/owned"]).Uid, Stat(s["root/kept/owned"]).Gid));
        Assert.Equal((0u, 0u), (Stat(s["root/kept"]).Uid, Stat(s["root/kept"]).Gid)); // made by the copy: root's
        Copy(s, ["src"], "/reset", new CopyOptions());
        Assert.Equal((0u, 0u), (Stat(s["root/reset/owned"]).Uid, Stat(s["root/reset/owned"]).Gid));
    }

    [Fact]
    public void Chmod_octal_and_symbolic()
    {
        using var s = Setup();
        s.Write("ctx/d/f", "x", (UnixFileMode)0x1A4);
        Copy(s, ["d"], "/octal", new CopyOptions { Chmod = "750" });
        Assert.Equal(0x1E8u, Stat(s["root/octal/f"]).Mode & 0xFFFu);
        Copy(s, ["d"], "/symbolic", new CopyOptions { Chmod = "u+x,o-r" });
        Assert.Equal(0x1E0u, Stat(s["root/symbolic/f"]).Mode & 0xFFFu);
        Assert.Throws<BuildException>(() => Copy(s, ["d"], "/bad", new CopyOptions { Chmod = "9" }));
    }

    [Fact]
    public void Hard_links_within_a_copy_stay_linked()
    {
        using var s = Setup();
        s.Write("ctx/d/one", "shared");
        Libc.LinkAt(Libc.AT_FDCWD, s["ctx/d/one"], Libc.AT_FDCWD, s["ctx/d/two"], 0);
        Copy(s, ["d"], "/x");
        var one = Stat(s["root/x/one"]);
        var two = Stat(s["root/x/two"]);
        Assert.Equal(one.Ino, two.Ino);
        Assert.Equal(2u, one.Nlink);
    }

    [Fact]
    public void The_destination_resolves_inside_the_rootfs()
    {
        using var s = Setup();
        using var host = new Scratch();
        s.Write("ctx/f", "planted");
        s.Link("root/escape", host.Path);          // absolute: the rootfs's own path of that name
        s.Dir("root" + host.Path);
        s.Link("root/dangling", host.Path + "/none");
        s.Link("root/up", "../../../../../../..");   // relative, climbing: stops at the rootfs's root
        s.Link("root/etclink", "/etc");
        Copy(s, ["f"], "/escape/");
        Copy(s, ["f"], "/up/tmp/");
        Copy(s, ["f"], "/etclink/");
        Assert.Contains("/dangling", Assert.Throws<BuildException>(() => Copy(s, ["f"], "/dangling/")).Message);
        Assert.Empty(Directory.GetFileSystemEntries(host.Path));
        Assert.Equal("planted", File.ReadAllText(s["root" + host.Path + "/f"]));
        Assert.Equal("planted", File.ReadAllText(s["root/tmp/f"]));
        Assert.Equal("planted", File.ReadAllText(s["root/etc/f"]));
    }

    [Fact]
    public void A_directory_source_merges_through_a_rootfs_symlink_to_a_directory()
    {
        using var s = Setup();
        s.Dir("root/usr/lib");
        s.Link("root/lib", "usr/lib");
        s.Write("ctx/tree/lib/libx.so", "elf");
        Copy(s, ["tree"], "/");
        Assert.Equal("usr/lib", new FileInfo(s["root/lib"]).LinkTarget);
        Assert.Equal("elf", File.ReadAllText(s["root/usr/lib/libx.so"]));
    }

    [Fact]
    public void A_directory_is_never_replaced_by_a_file()
    {
        using var s = Setup();
        s.Write("ctx/d/h", "z");
        s.Dir("root/out/h");
        var error = Assert.Throws<BuildException>(() => Copy(s, ["d"], "/out"));
        Assert.Contains("/out/h", error.Message);
        Assert.True(Directory.Exists(s["root/out/h"]));
    }

    [Fact]
    public void A_file_under_a_file_is_an_error()
    {
        using var s = Setup();
        s.Write("ctx/f", "x");
        s.Write("root/afile", "file");
        var error = Assert.Throws<BuildException>(() => Copy(s, ["f"], "/afile/sub/"));
        Assert.Contains("/afile/sub", error.Message);
    }

    [Fact]
    public void Several_sources_need_a_destination_ending_in_a_slash()
    {
        using var s = Setup();
        s.Write("ctx/f", "x");
        s.Write("ctx/g", "y");
        var error = Assert.Throws<BuildException>(() => Copy(s, ["f", "g"], "/dst"));
        Assert.Contains("\"/dst/\"", error.Message);
        Assert.False(Path.Exists(s["root/dst"]));
        Copy(s, ["f", "g"], "/dst/");
        Assert.Equal("y", File.ReadAllText(s["root/dst/g"]));
    }

    [Fact]
    public void An_existing_file_is_replaced()
    {
        using var s = Setup();
        s.Write("ctx/f", "new");
        s.Write("root/f", "old");
        Copy(s, ["f"], "/");
        Assert.Equal("new", File.ReadAllText(s["root/f"]));
    }

    [Fact]
    public void Copy_from_a_rootfs_resolves_its_symlinks_inside_it()
    {
        using var s = Setup();
        s.Write("stage/etc/app.conf", "from stage");
        s.Link("stage/conf", "/etc/app.conf");
        var tree = new SourceTree(s["stage"], SourceScope.Rootfs, IgnorePatterns.None);
        CopyApplier.Apply(tree, tree.Plan(["/conf"], [], parents: false), s["root"], "/copied", "/", new CopyOptions());
        Assert.Equal("from stage", File.ReadAllText(s["root/copied"]));
    }

    [Fact]
    public void Parents_keep_their_path_below_the_destination()
    {
        using var s = Setup();
        s.Write("ctx/a/b/one.txt", "1");
        s.Write("ctx/a/c/two.txt", "2");
        Copy(s, ["a/b/one.txt", "a/./c/two.txt"], "/dst/", parents: true);
        Assert.Equal("1", File.ReadAllText(s["root/dst/a/b/one.txt"]));
        Assert.Equal("2", File.ReadAllText(s["root/dst/c/two.txt"]));
    }

    private static void WriteTar(string path, Func<Stream, Stream> compress)
    {
        using var file = File.Create(path);
        using var output = compress(file);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "pkg/") { Mode = (UnixFileMode)0x1ED, Uid = 5, Gid = 6 });
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "pkg/file") { DataStream = new MemoryStream("in tar"u8.ToArray()), Mode = (UnixFileMode)0x1A4, Uid = 5, Gid = 6 });
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "pkg/.wh.gone") { DataStream = new MemoryStream(), Mode = (UnixFileMode)0x1A4 });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Add_extracts_a_local_tar(bool gzip)
    {
        using var s = Setup();
        WriteTar(s["ctx/pkg.tar"], stream => gzip ? new GZipStream(stream, CompressionLevel.Fastest) : stream);
        Copy(s, ["pkg.tar"], "/opt", new CopyOptions { ExtractArchives = true, Instruction = "ADD" });
        Assert.Equal("in tar", File.ReadAllText(s["root/opt/pkg/file"]));
        Assert.True(File.Exists(s["root/opt/pkg/.wh.gone"])); // whiteouts are not interpreted
        Assert.Equal((5u, 6u), (Stat(s["root/opt/pkg/file"]).Uid, Stat(s["root/opt/pkg/file"]).Gid));
        Copy(s, ["pkg.tar"], "/chowned/", new CopyOptions { ExtractArchives = true, Instruction = "ADD", Chown = "app" });
        Assert.Equal((1000u, 1001u), (Stat(s["root/chowned/pkg/file"]).Uid, Stat(s["root/chowned/pkg/file"]).Gid));
        Copy(s, ["pkg.tar"], "/copied/", new CopyOptions());
        Assert.True(File.Exists(s["root/copied/pkg.tar"])); // COPY never extracts
    }

    [Fact]
    public void Add_copies_a_file_that_only_looks_compressed()
    {
        using var s = Setup();
        File.WriteAllBytes(s["ctx/fake.gz"], [0x1f, 0x8b, 0, 1, 2, 3]);
        s.Write("ctx/plain.txt", "just text");
        Copy(s, ["fake.gz", "plain.txt"], "/o/", new CopyOptions { ExtractArchives = true, Instruction = "ADD" });
        Assert.Equal(6, new FileInfo(s["root/o/fake.gz"]).Length);
        Assert.Equal("just text", File.ReadAllText(s["root/o/plain.txt"]));
    }

    [Theory]
    [InlineData(new byte[] { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0 }, "xz")]
    [InlineData(new byte[] { 0x42, 0x5a, 0x68, 0x39, 0x31 }, "bzip2")]
    public void Add_of_an_archive_skiff_cannot_decompress_is_a_clear_error(byte[] start, string format)
    {
        using var s = Setup();
        File.WriteAllBytes(s["ctx/a.tar.x"], start);
        var error = Assert.Throws<BuildException>(() => Copy(s, ["a.tar.x"], "/o/", new CopyOptions { ExtractArchives = true, Instruction = "ADD" }));
        Assert.Contains(format, error.Message);
        Assert.Contains("ADD", error.Message);
        Assert.Contains("a.tar.x", error.Message);
    }

    [Fact]
    public void Tar_headers_are_recognized_by_their_checksum()
    {
        var block = new byte[512];
        Assert.False(CopyApplier.IsTarHeader(block));
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "d/"));
        var header = buffer.ToArray()[..512];
        Assert.True(CopyApplier.IsTarHeader(header));
        header[0] ^= 1;
        Assert.False(CopyApplier.IsTarHeader(header));
    }
}
