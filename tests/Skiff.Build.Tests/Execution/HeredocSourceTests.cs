using Skiff.Build.Context;
using Skiff.Build.Dockerfile;
using Skiff.Build.Execution;
using Skiff.Build.Tests.Context;

namespace Skiff.Build.Tests.Execution;

/// <summary>COPY/ADD heredocs as sources: files named after their delimiters, with BuildKit's substitution, in the key by content.</summary>
public class HeredocSourceTests
{
    private static FileInstruction File(string line)
        => Assert.IsAssignableFrom<FileInstruction>(DockerfileParser.Parse("FROM a\n" + line, "Dockerfile").Stages[0].Instructions[0]);

    private static Task<CopySources> Open(FileInstruction file, Scratch s, IReadOnlyDictionary<string, string>? scope = null)
        => CopySources.OpenAsync(file, file.Sources, file.Sources, '\\', scope ?? new Dictionary<string, string>(),
            new SourceTree(s.Dir("ctx"), SourceScope.Context, IgnorePatterns.None), "context", s["tmp"],
            url => throw new InvalidOperationException("no URL here"));

    private static void Apply(CopySources sources, FileInstruction file, string rootfs, string? chmod = null)
    {
        foreach (var group in sources.Groups)
            CopyApplier.Apply(group.Tree, group.Tree.Plan(group.Sources, [], false, file.Keyword) with { SourceCount = file.Sources.Count }, rootfs,
                file.Destination, "/", new CopyOptions { Instruction = file.Keyword, Chmod = chmod, Chown = file.Chown });
    }

    [Fact]
    public async Task OneHeredocIsTheDestinationFile0644WithItsVariablesSubstituted()
    {
        using var s = new Scratch();
        var copy = File("COPY <<EOF /etc/app.conf\nname=${NAME} home=$HOME\n\tkept\nEOF\n");
        using (var sources = await Open(copy, s, new Dictionary<string, string> { ["NAME"] = "skiff" }))
        {
            Assert.Equal(["heredoc"], sources.Groups.Select(g => g.Origin));
            Apply(sources, copy, s.Dir("root"));
        }
        Assert.Equal("name=skiff home=$HOME\n\tkept\n", System.IO.File.ReadAllText(s["root/etc/app.conf"]));
        Assert.Equal((UnixFileMode)0x1A4, System.IO.File.GetUnixFileMode(s["root/etc/app.conf"]));
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
    }

    [Fact]
    public async Task SeveralHeredocsGoIntoADirectoryQuotedOnesAsWrittenChompedWithoutTabsWithChmod()
    {
        using var s = new Scratch();
        var copy = File("COPY --chmod=0755 <<-A <<'B' /bin/\n\t#!/bin/sh\n\techo $X\n\tA\necho $X\nB\n");
        using (var sources = await Open(copy, s, new Dictionary<string, string> { ["X"] = "x" }))
            Apply(sources, copy, s.Dir("root"), "0755");
        Assert.Equal("#!/bin/sh\necho x\n", System.IO.File.ReadAllText(s["root/bin/A"]));
        Assert.Equal("echo $X\n", System.IO.File.ReadAllText(s["root/bin/B"]));
        Assert.Equal((UnixFileMode)0x1ED, System.IO.File.GetUnixFileMode(s["root/bin/B"]));
    }

    [Fact]
    public async Task HeredocsComeAfterTheContextsPathsAndTheirContentIsInTheKey()
    {
        using var s = new Scratch();
        s.Write("ctx/a.txt", "from the context\n");
        var copy = File("COPY <<EOF a.txt /d/\nbody\nEOF\n");
        string Digest(CopySources sources) => string.Join(' ', sources.Groups.Select(g => ContentHasher.Compute(g.Tree, g.Tree.Plan(g.Sources, [], false), (0, 0), null, null).Digest));
        string first, same, other;
        using (var sources = await Open(copy, s))
        {
            Assert.Equal(["context", "heredoc"], sources.Groups.Select(g => g.Origin));
            first = Digest(sources);
        }
        using (var sources = await Open(copy, s))
            same = Digest(sources);
        var changed = File("COPY <<EOF a.txt /d/\nother body\nEOF\n");
        using (var sources = await Open(changed, s))
            other = Digest(sources);
        Assert.Equal(first, same);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task ADelimiterThatCannotNameAFileIsRefusedAndLeavesNothing()
    {
        using var s = new Scratch();
        var copy = File("COPY <<.. /x\nbody\n..\n");
        var error = await Assert.ThrowsAsync<BuildException>(() => Open(copy, s));
        Assert.Contains("cannot name a file", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(s["tmp"]));
    }
}
