using Skiff.Build.Context;

namespace Skiff.Build.Tests.Context;

public class PatternTests
{
    [Theory]
    [InlineData("*.md", "README.md", true)]
    [InlineData("*.md", "docs/a.md", false)]
    [InlineData("**/*.md", "docs/a.md", true)]
    [InlineData("**/*.md", "a.md", true)]
    [InlineData("**/*.md", "a/b/c.md", true)]
    [InlineData("docs", "docs/a/b", true)]
    [InlineData("docs", "docsx", false)]
    [InlineData("/abs", "abs", true)]
    [InlineData("./rel/x", "rel/x", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[a-c]x", "dx", false)]
    [InlineData("dir/**", "dir/x/y", true)]
    [InlineData("**", "anything/at/all", true)]
    [InlineData("a/../b", "b", true)]
    [InlineData("*/temp*", "somedir/temporary.txt", true)]
    [InlineData("*/*/temp*", "somedir/subdir/temporary.txt", true)]
    [InlineData("temp?", "temp1", true)]
    [InlineData("x.y", "xay", false)]
    [InlineData("node_modules", "src/node_modules/a", false)]
    [InlineData("**/node_modules", "src/node_modules/a", true)]
    public void Matches_as_docker(string pattern, string path, bool expected)
        => Assert.Equal(expected, IgnorePatterns.ParseDockerignore(pattern, ".dockerignore").Matches(path));

    [Fact]
    public void Later_patterns_win_and_exceptions_reinclude()
    {
        var patterns = IgnorePatterns.ParseDockerignore("# comment\n\n*.md\n!README*.md\nREADME-secret.md\n  docs  \n!docs/keep.txt\n", "f");
        Assert.True(patterns.Matches("CHANGES.md"));
        Assert.False(patterns.Matches("README.md"));
        Assert.True(patterns.Matches("README-secret.md"));
        Assert.True(patterns.Matches("docs/other.txt"));
        Assert.False(patterns.Matches("docs/keep.txt"));
        Assert.False(patterns.Matches("# comment"));
        Assert.True(patterns.HasExclusions);
    }

    [Theory]
    [InlineData("!")]
    [InlineData("[")]
    [InlineData("a[")]
    [InlineData("x\\")]
    public void Malformed_patterns_are_errors_naming_the_file(string pattern)
    {
        var error = Assert.Throws<BuildException>(() => IgnorePatterns.ParseDockerignore(pattern, "/ctx/.dockerignore"));
        Assert.Contains("/ctx/.dockerignore", error.Message);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Theory]
    // Go's filepath.Match test table (path/filepath/match_test.go), the part that applies on Linux.
    [InlineData("abc", "abc", true)]
    [InlineData("*", "abc", true)]
    [InlineData("*c", "abc", true)]
    [InlineData("a*", "a", true)]
    [InlineData("a*", "abc", true)]
    [InlineData("a*", "ab/c", false)]
    [InlineData("a*/b", "abc/b", true)]
    [InlineData("a*/b", "a/c/b", false)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxe/f", true)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxexxx/f", true)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false)]
    [InlineData("a*b?c*x", "abxbbxdbxebxczzx", true)]
    [InlineData("a*b?c*x", "abxbbxdbxebxczzy", false)]
    [InlineData("ab[c]", "abc", true)]
    [InlineData("ab[b-d]", "abc", true)]
    [InlineData("ab[e-g]", "abc", false)]
    [InlineData("ab[^c]", "abc", false)]
    [InlineData("ab[^b-d]", "abc", false)]
    [InlineData("ab[^e-g]", "abc", true)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "ab", false)]
    [InlineData("a?b", "a☺b", true)]
    [InlineData("a[^a]b", "a☺b", true)]
    [InlineData("a???b", "a☺b", false)]
    [InlineData("[a-ζ]*", "α", true)]
    [InlineData("*[a-ζ]", "A", false)]
    [InlineData("a?b", "a/b", false)]
    [InlineData("a*b", "a/b", false)]
    [InlineData("[\\]a]", "]", true)]
    [InlineData("[\\-]", "-", true)]
    [InlineData("[x\\-]", "x", true)]
    [InlineData("[x\\-]", "-", true)]
    [InlineData("[x\\-]", "z", false)]
    [InlineData("[\\-x]", "x", true)]
    [InlineData("[\\-x]", "a", false)]
    [InlineData("*x", "xxx", true)]
    public void Go_glob(string pattern, string name, bool expected) => Assert.Equal(expected, GoGlob.Match(pattern, name));

    [Theory]
    [InlineData("[]a]", "]")]
    [InlineData("[-]", "-")]
    [InlineData("[x-]", "x")]
    [InlineData("[-x]", "x")]
    [InlineData("\\", "a")]
    [InlineData("[a-b-c]", "a")]
    [InlineData("[", "a")]
    [InlineData("[^", "a")]
    [InlineData("[^bc", "a")]
    [InlineData("a[", "a")]
    [InlineData("a[", "ab")]
    [InlineData("a[", "x")]
    [InlineData("a/b[", "x")]
    [InlineData("*x[", "xxx")]
    public void Go_glob_bad_patterns(string pattern, string name) => Assert.Null(GoGlob.Match(pattern, name));

    [Fact]
    public void Random_patterns_never_throw_or_hang()
    {
        var random = new Random(14);
        const string alphabet = "ab*?[]^-\\/!.";
        for (int i = 0; i < 5000; i++)
        {
            var pattern = new string([.. Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            var name = new string([.. Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            GoGlob.Match(pattern, name);
            try
            {
                IgnorePatterns.Parse([pattern], "fuzz").Matches(name.Trim('/').Length == 0 ? "x" : name.Trim('/'));
            }
            catch (BuildException)
            {
                // the documented error for a malformed pattern
            }
        }
    }

    [Theory]
    [InlineData("755", 0x1A4u, 0x1EDu)]
    [InlineData("0644", 0x1EDu, 0x1A4u)]
    [InlineData("u+x", 0x81A4u, 0x1E4u)]
    [InlineData("go-w", 0x81B6u, 0x1A4u)]
    [InlineData("a+rX", 0x8180u, 0x1A4u)]
    [InlineData("a+rX", 0x4180u, 0x1EDu)]
    [InlineData("u=rw,go=r", 0x81FFu, 0x1A4u)]
    public void Chmod(string text, uint mode, uint expected) => Assert.Equal(expected, ModeChange.Parse(text).Apply(mode));

    [Theory]
    [InlineData("")]
    [InlineData("888")]
    [InlineData("17777")]
    [InlineData("u+q")]
    [InlineData("z+x")]
    public void Bad_chmod(string text) => Assert.Throws<BuildException>(() => ModeChange.Parse(text));
}
