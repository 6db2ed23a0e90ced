using System.Diagnostics;
using Skiff.Interop;

namespace Skiff.Storage.Tests;

/// <summary>FileTree.Delete: trees a container wrote, whatever their names, without following symlinks.</summary>
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
}
