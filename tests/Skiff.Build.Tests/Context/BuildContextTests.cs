using System.Formats.Tar;
using System.IO.Compression;
using Skiff.Build.Context;
using Skiff.Interop;

namespace Skiff.Build.Tests.Context;

public class BuildContextTests
{
    [Fact]
    public void The_dockerfiles_own_ignore_file_wins_over_the_contexts()
    {
        using var s = new Scratch();
        s.Write(".dockerignore", "a");
        s.Write("build/app.Dockerfile", "FROM scratch");
        s.Write("build/app.Dockerfile.dockerignore", "b");
        using (var plain = BuildContext.FromDirectory(s.Path))
        {
            Assert.True(plain.Ignore.Matches("a"));
            Assert.False(plain.Ignore.Matches("b"));
        }
        using var own = BuildContext.FromDirectory(s.Path, "build/app.Dockerfile");
        Assert.False(own.Ignore.Matches("a"));
        Assert.True(own.Ignore.Matches("b"));
    }

    [Fact]
    public void An_ignored_dockerfile_is_still_readable_but_not_through_an_escaping_link()
    {
        using var s = new Scratch();
        s.Write(".dockerignore", "Dockerfile\n.dockerignore\n");
        s.Write("Dockerfile", "FROM scratch");
        s.Link("evil", "/etc/passwd");
        using var context = BuildContext.FromDirectory(s.Path);
        Assert.Equal("FROM scratch"u8.ToArray(), context.ReadFile("Dockerfile"));
        Assert.Throws<BuildException>(() => context.Sources.Plan(["Dockerfile"], [], parents: false));
        Assert.Contains("outside", Assert.Throws<BuildException>(() => context.ReadFile("evil")).Message);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<BuildException>(() => context.ReadFile("missing")).Kind);
    }

    [Fact]
    public void A_missing_or_file_context_is_an_error()
    {
        using var s = new Scratch();
        s.Write("file");
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<BuildException>(() => BuildContext.FromDirectory(s["nope"])).Kind);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<BuildException>(() => BuildContext.FromDirectory(s["file"])).Kind);
    }

    private static MemoryStream Tar(bool gzip, params TarEntry[] entries)
    {
        var buffer = new MemoryStream();
        using (Stream output = gzip ? new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true) : new NonClosing(buffer))
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
                writer.WriteEntry(entry);
        }
        buffer.Position = 0;
        return buffer;
    }

    private static PaxTarEntry File(string name, string content)
        => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)), Mode = (UnixFileMode)0x1A4 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tar_context_is_extracted_privately_and_removed(bool gzip)
    {
        using var s = new Scratch();
        var device = new PaxTarEntry(TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 };
        var link = new PaxTarEntry(TarEntryType.SymbolicLink, "passwd") { LinkName = "/etc/passwd" };
        string directory;
        using (var context = BuildContext.FromTar(Tar(gzip, File("Dockerfile", "FROM scratch"), File(".dockerignore", "secret"), File("secret", "s"),
                   File("src/main.c", "int main;"), device, link), s["tmp"]))
        {
            directory = context.Directory;
            Assert.StartsWith(s["tmp"] + "/", directory);
            Assert.Equal((UnixFileMode)0x1C0, System.IO.File.GetUnixFileMode(directory));
            Assert.Equal("int main;", System.IO.File.ReadAllText(Path.Combine(directory, "src/main.c")));
            Assert.False(Path.Exists(Path.Combine(directory, "null"))); // no device nodes from a context
            Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(directory, "passwd")).LinkTarget); // kept as a link
            Assert.True(context.Ignore.Matches("secret"));
            Assert.Contains("outside", Assert.Throws<BuildException>(() => context.Sources.Plan(["passwd"], [], parents: false)).Message);
        }
        Assert.False(Directory.Exists(directory));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    public void A_tar_context_climbing_out_is_refused_and_leaves_nothing(string name)
    {
        using var s = new Scratch();
        var error = Assert.ThrowsAny<SkiffException>(() => BuildContext.FromTar(Tar(false, File("ok", "1"), File(name, "x")), s["tmp"]));
        Assert.Contains("escape", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
        Assert.False(Path.Exists(s["escape"]));
    }

    [Fact]
    public void A_tar_context_through_its_own_symlink_stays_inside()
    {
        using var s = new Scratch();
        var link = new PaxTarEntry(TarEntryType.SymbolicLink, "out") { LinkName = s.Path };
        // The link resolves inside the context, where its target does not exist: refused, nothing written anywhere.
        Assert.Throws<BuildException>(() => BuildContext.FromTar(Tar(false, link, File("out/planted", "x")), s["tmp"]));
        Assert.False(Path.Exists(s["planted"]));
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
    }

    [Fact]
    public void A_broken_stream_is_an_error_and_leaves_nothing()
    {
        using var s = new Scratch();
        var whole = Tar(false, File("a", new string('x', 5000))).ToArray();
        var error = Assert.Throws<BuildException>(() => BuildContext.FromTar(new MemoryStream(whole[..1000]), s["tmp"]));
        Assert.Contains("tar", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
        Assert.Throws<BuildException>(() => BuildContext.FromTar(new MemoryStream(new byte[] { 0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }), s["tmp"]));
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
    }

    [Fact]
    public void Mutated_tar_contexts_fail_only_with_a_build_error_and_leave_nothing()
    {
        using var s = new Scratch();
        var link = new PaxTarEntry(TarEntryType.SymbolicLink, "l") { LinkName = "d" };
        var hard = new PaxTarEntry(TarEntryType.HardLink, "h") { LinkName = "d/f" };
        var original = Tar(false, new PaxTarEntry(TarEntryType.Directory, "d/"), File("d/f", "content"), link, hard, File("l/g", "through")).ToArray();
        var random = new Random(1414);
        for (int i = 0; i < 1000; i++)
        {
            var mutated = original.ToArray();
            for (int flips = random.Next(1, 8); flips > 0; flips--)
                mutated[random.Next(Math.Min(mutated.Length, 3 * 512))] = (byte)random.Next(256);
            var length = random.Next(4) == 0 ? random.Next(mutated.Length) : mutated.Length;
            try
            {
                using var context = BuildContext.FromTar(new MemoryStream(mutated[..length]), s["tmp"]);
            }
            catch (BuildException)
            {
                // the documented failure
            }
            Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
        }
    }

    /// <summary>Lets a TarWriter dispose its stream without closing the buffer.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
