using System.Diagnostics;
using Skiff.Interop;

namespace Skiff.Storage.Tests;

/// <summary>
/// FileTree and FileNames: trees a container wrote, whatever their names, listed, copied and deleted without
/// following symlinks; names that are not UTF-8 carried through strings and back to the same bytes.
/// </summary>
public sealed class FileTreeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Names .NET cannot express are made by python from bytes.</summary>
    private static void Python(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
    }

    [Fact]
    public void Deletes_names_that_are_not_utf8_nested_dirs_and_many_entries_but_not_what_symlinks_point_to()
    {
        string tree = Path.Combine(_temp.Path, "tree");
        string outside = Path.Combine(_temp.Path, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "keep"), "keep");
        Python("""
            import os, sys
            root = sys.argv[1].encode()
            os.makedirs(root + b"/d\xff/e", exist_ok=True)
            open(root + b"/d\xff/e/f\xfe", "w").close()
            os.mkfifo(root + b"/fifo")
            os.symlink(sys.argv[2].encode(), root + b"/link-out")
            os.symlink(sys.argv[2].encode(), root + b"/d\xff/dir-link")
            # Enough long names for several getdents64 reads of 32 KiB.
            for i in range(600):
                open(root + b"/many-" + str(i).encode() + b"-" + b"x" * 100, "w").close()
            os.makedirs(root + b"/locked/inner")
            os.chmod(root + b"/locked", 0)
            """, tree, outside);
        // .NET's own recursive delete throws on the first of these names (and would have removed part of the tree).
        FileTree.Delete(tree);

        Assert.False(Directory.Exists(tree));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "keep")));
    }

    [Fact]
    public void A_file_or_a_missing_path()
    {
        string file = Path.Combine(_temp.Path, "file");
        File.WriteAllText(file, "x");
        FileTree.Delete(file);
        Assert.False(File.Exists(file));
        FileTree.Delete(Path.Combine(_temp.Path, "missing"));
    }

    [Theory]
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xe9 })] // Latin-1 "café"
    [InlineData(new byte[] { 0xff, 0xfe, 0x80 })]
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xc3, 0xa9, 0xed, 0xb2, 0x80 })] // UTF-8 "café", then an encoded surrogate (not UTF-8)
    [InlineData(new byte[] { 0xf0, 0x9f, 0x98, 0x80, 0xc3 })] // an emoji, then a truncated sequence
    public void Names_that_are_not_utf8_round_trip_through_strings(byte[] bytes)
    {
        string name = FileNames.Decode(bytes);

        Assert.True(FileNames.HasEscapes(name));
        Assert.Equal(bytes, FileNames.GetBytes(name));
    }

    [Fact]
    public void Utf8_names_are_plain_strings()
    {
        string name = FileNames.Decode("caf\u00e9 \U0001F600"u8);

        Assert.Equal("caf\u00e9 \U0001F600", name);
        Assert.False(FileNames.HasEscapes(name));
        Assert.Equal("caf\u00e9 \U0001F600"u8.ToArray(), FileNames.GetBytes(name));
    }

    private static readonly byte[] Latin1Cafe = [0x63, 0x61, 0x66, 0xe9];

    [Fact]
    public void Names_lists_and_path_calls_reach_files_named_with_any_bytes()
    {
        string tree = Path.Combine(_temp.Path, "tree");
        Python("""
            import os, sys
            root = sys.argv[1].encode()
            os.makedirs(root + b"/d\xff")
            with open(root + b"/d\xff/caf\xe9", "w") as f:
                f.write("latin-1")
            os.symlink(b"caf\xe9", root + b"/d\xff/link\xfe")
            open(root + b"/plain", "w").close()
            """, tree);

        var names = FileTree.Names(tree).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, names.Count);
        Assert.Equal("plain", names[1]);
        Assert.Equal(new byte[] { (byte)'d', 0xff }, FileNames.GetBytes(names[0]));
        string directory = Path.Combine(tree, names[0]);
        var inner = FileTree.Names(directory).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Latin1Cafe, FileNames.GetBytes(inner[0]));
        Assert.Equal(Latin1Cafe, FileNames.GetBytes(Interop.Interop.Libc.ReadLink(Path.Combine(directory, inner[1]))));
        string copy = Path.Combine(directory, inner[0] + "-copy");
        FileTree.CopyFile(Path.Combine(directory, inner[0]), copy);
        using (var reader = new StreamReader(FileTree.OpenRead(copy)))
            Assert.Equal("latin-1", reader.ReadToEnd());
        Assert.Contains(FileTree.Names(directory), name => FileNames.GetBytes(name).SequenceEqual([.. Latin1Cafe, .. "-copy"u8]));
    }
}
