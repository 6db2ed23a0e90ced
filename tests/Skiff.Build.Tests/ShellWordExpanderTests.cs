using Skiff.Build.Dockerfile;

namespace Skiff.Build.Tests;

public class ShellWordExpanderTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["A"] = "alpha",
        ["EMPTY"] = "",
        ["PORTS"] = "80  443",
        ["PATHV"] = "/usr/local/bin/tool.tar.gz",
        ["_x1"] = "under",
    };

    [Theory]
    [InlineData("$A", "alpha")]
    [InlineData("${A}", "alpha")]
    [InlineData("x${A}y$A-$_x1", "xalphayalpha-under")]
    [InlineData("$UNSET|${UNSET}", "|")]
    [InlineData("$", "$")]
    [InlineData("a$ b", "a$ b")]
    [InlineData("$1x", "x")]
    [InlineData("${A:-w}|${EMPTY:-w}|${UNSET:-w}", "alpha|w|w")]
    [InlineData("${A-w}|${EMPTY-w}|${UNSET-w}", "alpha||w")]
    [InlineData("${A:+w}|${EMPTY:+w}|${UNSET:+w}", "w||")]
    [InlineData("${A+w}|${EMPTY+w}|${UNSET+w}", "w|w|")]
    [InlineData("${A:?m}|${EMPTY?m}", "alpha|")]
    [InlineData("${UNSET:-$A}|${UNSET:-'$A'}|${UNSET:-\"x $A\"}", "alpha|$A|x alpha")]
    [InlineData("${PATHV#*/}", "usr/local/bin/tool.tar.gz")]
    [InlineData("${PATHV##*/}", "tool.tar.gz")]
    [InlineData("${PATHV%.*}", "/usr/local/bin/tool.tar")]
    [InlineData("${PATHV%%.*}", "/usr/local/bin/tool")]
    [InlineData("${PATHV#nomatch}", "/usr/local/bin/tool.tar.gz")]
    [InlineData("${PATHV/o/0}", "/usr/l0cal/bin/tool.tar.gz")]
    [InlineData("${PATHV//o/0}", "/usr/l0cal/bin/t00l.tar.gz")]
    [InlineData("${PATHV//[a-c]/}", "/usr/lol/in/tool.tr.gz")]
    [InlineData("${PATHV/\\/usr/}", "/local/bin/tool.tar.gz")]
    [InlineData("${A/l?h/L}", "aLa")]
    [InlineData("${A/x}", "alpha")]
    [InlineData("'$A' \"$A\" \"'$A'\" '\"'", "$A alpha 'alpha' \"")]
    [InlineData("\\$A \\\\ \\a", "$A \\ a")]
    [InlineData("\"\\$A \\\" \\\\ \\a\"", "$A \" \\ \\a")]
    [InlineData("trailing\\", "trailing")]
    public void Expand(string word, string expected) => Assert.Equal(expected, ShellWordExpander.Expand(word, Env));

    [Fact]
    public void BacktickEscape()
    {
        Assert.Equal("$A c:\\dir", ShellWordExpander.Expand("`$A c:\\dir", Env, '`'));
        Assert.Equal("\"alpha`", ShellWordExpander.Expand("\"`\"$A``\"", Env, '`'));
    }

    [Theory]
    [InlineData("${A", "syntax error: missing '}'")]
    [InlineData("${A:-x", "syntax error: missing '}'")]
    [InlineData("${", "syntax error: missing '}'")]
    [InlineData("${}", "syntax error: bad substitution")]
    [InlineData("${:x}", "syntax error: bad substitution")]
    [InlineData("${A:x}", "unsupported modifier (x) in substitution")]
    [InlineData("${A^}", "unsupported modifier (^) in substitution")]
    [InlineData("${UNSET:?must be set}", "UNSET: must be set")]
    [InlineData("${UNSET?}", "UNSET: is not allowed to be unset")]
    [InlineData("${EMPTY:?}", "EMPTY: is not allowed to be empty")]
    [InlineData("'open", "unexpected end of statement while looking for matching single-quote")]
    [InlineData("\"open", "unexpected end of statement while looking for matching double-quote")]
    public void Errors(string word, string message)
        => Assert.Equal(message, Assert.Throws<BuildException>(() => ShellWordExpander.Expand(word, Env)).Message);

    [Fact]
    public void WordsSplitAtUnquotedWhitespaceIncludingExpandedValues()
    {
        Assert.Equal(["80", "443", "53/udp"], ShellWordExpander.ExpandWords("$PORTS 53/udp", Env));
        Assert.Equal(["80  443", "a b", "c d", "e"], ShellWordExpander.ExpandWords("\"$PORTS\" 'a b' c\\ d   e", Env));
        Assert.Equal(["x"], ShellWordExpander.ExpandWords("\"\" x $UNSET", Env));
        Assert.Empty(ShellWordExpander.ExpandWords("   ", Env));
    }

    [Fact]
    public void ReportsTheVariablesLookedUp()
    {
        var used = new HashSet<string>();
        ShellWordExpander.Expand("$A ${UNSET:-$EMPTY} '$QUOTED' \\$ESCAPED ${PATHV##*/}", Env, used: used);
        Assert.Equal(["A", "EMPTY", "PATHV", "UNSET"], used.Order());
    }

    [Fact]
    public void PatternsCannotMakeItHang()
    {
        var env = new Dictionary<string, string> { ["V"] = new string('a', 3000) };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(new string('a', 3000), ShellWordExpander.Expand("${V%%*b*a*a*a*a*a*a*a*a*a*a*a*a*b}", env));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
