using Skiff.Build.Context;

namespace Skiff.Build.Tests.Context;

public class SourceTreeTests
{
    private static SourceTree Context(Scratch scratch) => BuildContext.FromDirectory(scratch.Path).Sources;

    private static string[] Targets(CopyPlan plan) => [.. plan.Entries.Select(e => e.Target)];

    [Fact]
    public void A_file_is_one_entry_named_after_it()
    {
        using var s = new Scratch();
        s.Write("dir/app.txt");
        var plan = Context(s).Plan(["dir/app.txt"], [], parents: false);
        Assert.Equal(["app.txt"], Targets(plan));
        Assert.True(plan.SingleFile);
        Assert.False(plan.DestinationIsDirectory);
    }

    [Fact]
    public void A_directory_copies_its_contents_in_order()
    {
        using var s = new Scratch();
        s.Write("src/b.txt");
        s.Write("src/a/x.txt");
        s.Link("src/link", "/etc/passwd");
        var plan = Context(s).Plan(["./src/"], [], parents: false);
        Assert.Equal(["", "a", "a/x.txt", "b.txt", "link"], Targets(plan));
        Assert.True(plan.DestinationIsDirectory);
        Assert.Equal(Interop.Interop.Libc.S_IFLNK, plan.Entries[^1].Type); // kept as a link, not followed
    }

    [Fact]
    public void Globs_match_as_go_and_matching_nothing_is_an_error()
    {
        using var s = new Scratch();
        s.Write("a1.txt");
        s.Write("a2.txt");
        s.Write("b.txt");
        s.Write("sub/a3.txt");
        var plan = Context(s).Plan(["a*.txt", "*/a?.txt"], [], parents: false);
        Assert.Equal(["a1.txt", "a2.txt", "a3.txt"], Targets(plan));
        Assert.True(plan.DestinationIsDirectory);
        var single = Context(s).Plan(["b*"], [], parents: false);
        Assert.True(single.DestinationIsDirectory); // a glob always names a directory destination, as docker
        var error = Assert.Throws<BuildException>(() => Context(s).Plan(["*.go"], [], parents: false));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains("\"*.go\"", error.Message);
    }

    [Fact]
    public void A_missing_source_is_named()
    {
        using var s = new Scratch();
        var error = Assert.Throws<BuildException>(() => Context(s).Plan(["nope/file"], [], parents: false));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains("\"nope/file\"", error.Message);
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("..")]
    public void Dotdot_out_of_the_context_is_refused(string source)
    {
        using var s = new Scratch();
        s.Write("a/x");
        var error = Assert.Throws<BuildException>(() => Context(s).Plan([source], [], parents: false));
        Assert.Contains(source, error.Message);
        Assert.Contains("outside", error.Message);
    }

    [Fact]
    public void Symlinks_leaving_the_context_are_refused()
    {
        using var s = new Scratch();
        s.Write("inside.txt", "ok");
        s.Link("abs", "/etc/passwd");
        s.Link("rel", "../../../../etc/passwd");
        s.Link("dirlink", "/etc");
        s.Link("good", "inside.txt");
        foreach (var source in new[] { "abs", "rel", "dirlink/passwd", "dirlink" })
        {
            var error = Assert.Throws<BuildException>(() => Context(s).Plan([source], [], parents: false));
            Assert.Contains($"\"{source}\"", error.Message);
            Assert.Contains("outside the build context", error.Message);
        }
        var plan = Context(s).Plan(["good"], [], parents: false);
        Assert.Equal("inside.txt", plan.Entries.Single().Source); // followed, inside
        Assert.Equal("good", plan.Entries.Single().Target);
    }

    [Fact]
    public void In_a_rootfs_symlinks_resolve_inside_it()
    {
        using var s = new Scratch();
        s.Write("etc/os-release", "skiff");
        s.Link("usr/lib/os-release", "/etc/os-release");
        s.Link("up", "../../../../etc");
        var tree = new SourceTree(s.Path, SourceScope.Rootfs, IgnorePatterns.None);
        Assert.Equal("etc/os-release", tree.Plan(["/usr/lib/os-release"], [], parents: false).Entries.Single().Source);
        Assert.Equal("etc/os-release", tree.Plan(["up/os-release"], [], parents: false).Entries.Single().Source);
    }

    [Fact]
    public void Dockerignore_hides_sources_and_exceptions_reinclude()
    {
        using var s = new Scratch();
        s.Write(".dockerignore", "*.log\nbuild\n!build/keep\n");
        s.Write("app.log");
        s.Write("main.c");
        s.Write("build/out.o");
        s.Write("build/keep");
        s.Write("Dockerfile");
        var tree = Context(s);
        Assert.Equal(["", ".dockerignore", "Dockerfile", "build", "build/keep", "main.c"], Targets(tree.Plan(["."], [], parents: false)));
        var error = Assert.Throws<BuildException>(() => tree.Plan(["app.log"], [], parents: false));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains(".dockerignore", error.Message);
        Assert.Equal(["main.c"], Targets(tree.Plan(["*.*"], [], parents: false)).Except([".dockerignore"]));
    }

    [Fact]
    public void Exclude_applies_below_each_source()
    {
        using var s = new Scratch();
        s.Write("src/a.txt");
        s.Write("src/b.md");
        s.Write("src/deep/c.md");
        s.Write("top.md");
        var plan = Context(s).Plan(["src", "top.md"], ["*.md", "**/*.md"], parents: false);
        Assert.Equal(["", "a.txt", "deep"], Targets(plan));
        Assert.Throws<BuildException>(() => Context(s).Plan(["src"], ["["], parents: false));
    }

    [Fact]
    public void Parents_keeps_paths_from_the_root_or_the_pivot()
    {
        using var s = new Scratch();
        s.Write("a/b/file.txt");
        s.Write("a/b/c/d.txt");
        Assert.Equal(["a/b/file.txt"], Targets(Context(s).Plan(["a/b/file.txt"], [], parents: true)));
        Assert.Equal(["b/file.txt"], Targets(Context(s).Plan(["a/./b/file.txt"], [], parents: true)));
        Assert.Equal(["a/b/c", "a/b/c/d.txt"], Targets(Context(s).Plan(["a/b/c"], [], parents: true)));
        Assert.True(Context(s).Plan(["a/b/file.txt"], [], parents: true).DestinationIsDirectory);
    }
}
