using System.Diagnostics;
using Skiff.Build.Context;
using Xunit.Abstractions;

namespace Skiff.Build.Tests.Context;

public class ContentHasherTests(ITestOutputHelper output)
{
    private static ContentDigest Hash(Scratch s, StatCache? cache = null, (uint, uint)? owner = null, string? chmod = null, string source = "ctx")
    {
        var tree = new SourceTree(s[source], SourceScope.Context, IgnorePatterns.None);
        return ContentHasher.Compute(tree, tree.Plan(["."], [], parents: false), owner ?? (0, 0), chmod is null ? null : ModeChange.Parse(chmod), cache);
    }

    [Fact]
    public void Names_contents_modes_owners_and_link_targets_count_but_times_do_not()
    {
        using var s = new Scratch();
        s.Write("ctx/a.txt", "one");
        s.Write("ctx/dir/b.txt", "two");
        s.Link("ctx/link", "a.txt");
        var first = Hash(s).Digest;
        Assert.StartsWith("sha256:", first);

        File.SetLastWriteTimeUtc(s["ctx/a.txt"], new DateTime(2001, 1, 1));
        Assert.Equal(first, Hash(s).Digest);

        Assert.NotEqual(first, Hash(s, owner: (1000, 1000)).Digest);
        Assert.NotEqual(first, Hash(s, chmod: "700").Digest);

        File.SetUnixFileMode(s["ctx/a.txt"], (UnixFileMode)0x1C0);
        var moded = Hash(s).Digest;
        Assert.NotEqual(first, moded);

        s.Write("ctx/a.txt", "uno");
        var changed = Hash(s).Digest;
        Assert.NotEqual(moded, changed);

        File.Delete(s["ctx/link"]);
        s.Link("ctx/link", "dir/b.txt");
        Assert.NotEqual(changed, Hash(s).Digest);

        File.Move(s["ctx/dir/b.txt"], s["ctx/dir/c.txt"]);
        Assert.NotEqual(changed, Hash(s).Digest);
    }

    [Fact]
    public void Hard_links_count()
    {
        using var s = new Scratch();
        s.Write("ctx/a", "same");
        s.Write("ctx/b", "same");
        var copies = Hash(s).Digest;
        File.Delete(s["ctx/b"]);
        Interop.Interop.Libc.LinkAt(Interop.Interop.Libc.AT_FDCWD, s["ctx/a"], Interop.Interop.Libc.AT_FDCWD, s["ctx/b"], 0);
        Assert.NotEqual(copies, Hash(s).Digest);
    }

    [Fact]
    public void Extended_attributes_count()
    {
        using var s = new Scratch();
        var file = s.Write("ctx/a.txt", "one");
        var before = Hash(s).Digest;
        Interop.Interop.Libc.SetXattrNoFollow(file, "user.skiff", "1"u8);
        Assert.NotEqual(before, Hash(s).Digest);
    }

    [Fact]
    public void An_unchanged_file_is_not_read_again_even_by_a_new_process()
    {
        using var s = new Scratch();
        s.Write("ctx/a.txt", "one");
        s.Write("ctx/b.txt", "two");
        Thread.Sleep(100); // out of the racy window
        var cache = StatCache.Open(s["cache"]);
        var cold = Hash(s, cache);
        Assert.Equal(2, cold.FilesRead);
        cache.Save();
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(s["cache/" + StatCache.FileName]));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(s["cache"]));
        Assert.Empty(Directory.GetFiles(s["cache"], "*.tmp"));

        var reopened = StatCache.Open(s["cache"]);
        var warm = Hash(s, reopened);
        Assert.Equal(0, warm.FilesRead);
        Assert.Equal(cold.Digest, warm.Digest);

        // Same size, and the old mtime put back: ctime still tells.
        var mtime = File.GetLastWriteTimeUtc(s["ctx/a.txt"]);
        File.WriteAllText(s["ctx/a.txt"], "uno");
        File.SetLastWriteTimeUtc(s["ctx/a.txt"], mtime);
        var after = Hash(s, reopened);
        Assert.Equal(1, after.FilesRead);
        Assert.NotEqual(cold.Digest, after.Digest);
    }

    [Fact]
    public void A_file_changed_just_now_is_read_again_next_time()
    {
        using var s = new Scratch();
        s.Write("ctx/a.txt", "one");
        var cache = StatCache.Open(s["cache"]);
        Assert.Equal(1, Hash(s, cache).FilesRead);
        Assert.Equal(1, Hash(s, cache).FilesRead); // too recent to trust its ctime
    }

    [Fact]
    public void A_damaged_cache_file_is_an_empty_cache()
    {
        using var s = new Scratch();
        s.Write("ctx/a.txt", "one");
        s.Write("cache/" + StatCache.FileName, "{not json");
        var cache = StatCache.Open(s["cache"]);
        Assert.Equal(0, cache.Count);
        Assert.Equal(1, Hash(s, cache).FilesRead);
    }

    [Fact]
    public void Hashing_5000_files_of_50_MB_cold_and_warm()
    {
        using var s = new Scratch();
        var random = new Random(5000);
        var data = new byte[10 * 1024];
        for (int i = 0; i < 5000; i++)
        {
            random.NextBytes(data);
            var path = s[$"ctx/d{i % 50}/f{i}.bin"];
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
        }
        Thread.Sleep(100);
        var cache = StatCache.Open(s["cache"]);
        var clock = Stopwatch.StartNew();
        var cold = Hash(s, cache);
        cache.Save();
        var coldTime = clock.Elapsed;
        clock.Restart();
        var reopened = StatCache.Open(s["cache"]);
        var loadTime = clock.Elapsed;
        var warm = Hash(s, reopened);
        var warmTime = clock.Elapsed;
        clock.Restart();
        var tree = new SourceTree(s["ctx"], SourceScope.Context, IgnorePatterns.None);
        var plan = tree.Plan(["."], [], parents: false);
        var planTime = clock.Elapsed;
        clock.Restart();
        ContentHasher.Compute(tree, plan, (0, 0), null, reopened);
        output.WriteLine($"again: loading the cache {loadTime.TotalMilliseconds:F0} ms, resolving the sources {planTime.TotalMilliseconds:F0} ms, hashing {clock.Elapsed.TotalMilliseconds:F0} ms");
        output.WriteLine($"5000 files, {cold.BytesRead / 1e6:F1} MB: cold {coldTime.TotalMilliseconds:F0} ms (page cache warm), warm {warmTime.TotalMilliseconds:F0} ms (cache file loaded, nothing read)");
        Assert.Equal(5000, cold.FilesRead);
        Assert.Equal(0, warm.FilesRead);
        Assert.Equal(cold.Digest, warm.Digest);
    }
}
