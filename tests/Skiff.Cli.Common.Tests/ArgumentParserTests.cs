using Skiff.Cli;

namespace Skiff.Cli.Common.Tests;

public sealed class ArgumentParserTests
{
    private static readonly Flag[] Flags =
    [
        new("bundle", 'b', TakesValue: true),
        new("detach", 'd'),
        new("env", 'e', TakesValue: true, Repeatable: true),
    ];

    [Fact]
    public void AcceptsTheSpellingsUrfaveCliAccepts()
    {
        var parsed = ParsedArguments.Parse("run", Flags, ["--bundle", "/b1", "-d", "id"]);
        Assert.Equal("/b1", parsed.Value("bundle"));
        Assert.True(parsed.Bool("detach"));
        Assert.Equal(["id"], parsed.Positionals);
        Assert.Equal("/b2", ParsedArguments.Parse("run", Flags, ["--bundle=/b2", "id"]).Value("bundle"));
        Assert.Equal("/b3", ParsedArguments.Parse("run", Flags, ["-b", "/b3", "id"]).Value("bundle"));
        Assert.Equal("/b4", ParsedArguments.Parse("run", Flags, ["-bundle", "/b4", "id"]).Value("bundle"));
        Assert.False(ParsedArguments.Parse("run", Flags, ["--detach=false", "id"]).Bool("detach"));
    }

    [Fact]
    public void DockerStyleTakesClustersOfOneLetterFlags()
    {
        var parsed = ParsedArguments.Parse("images", Flags, ["-de", "A=1", "-bfoo", "x"], style: FlagStyle.Docker);
        Assert.True(parsed.Bool("detach"));
        Assert.Equal(["A=1"], parsed.Values("env"));
        Assert.Equal("foo", parsed.Value("bundle"));
        Assert.Equal(["x"], parsed.Positionals);
        // pflag reads -bundle as -b with the value "undle", not as a long flag.
        Assert.Equal("undle", ParsedArguments.Parse("images", Flags, ["-bundle"], style: FlagStyle.Docker).Value("bundle"));
        Assert.Throws<UsageException>(() => ParsedArguments.Parse("images", Flags, ["-dz"], style: FlagStyle.Docker));
    }

    [Fact]
    public void RepeatableFlagsKeepEveryValue()
        => Assert.Equal(["A=1", "B=2"], ParsedArguments.Parse("exec", Flags, ["-e", "A=1", "--env", "B=2", "id"]).Values("env"));

    [Fact]
    public void ExecStopsParsingAtTheContainerId()
    {
        var parsed = ParsedArguments.Parse("exec", Flags, ["-d", "id", "ls", "-d", "--bundle"], stopAtFirstPositional: true);
        Assert.Equal(["id", "ls", "-d", "--bundle"], parsed.Positionals);
    }

    [Fact]
    public void DoubleDashEndsFlags()
        => Assert.Equal(["-x"], ParsedArguments.Parse("kill", Flags, ["--", "-x"]).Positionals);

    [Theory]
    [InlineData("--nope")]
    [InlineData("--bundle")]
    [InlineData("--detach=maybe")]
    public void BadFlagsAreUsageErrors(string arg)
        => Assert.Throws<UsageException>(() => ParsedArguments.Parse("run", Flags, [arg]));

    [Fact]
    public void NumbersAreChecked()
    {
        var parsed = ParsedArguments.Parse("run", [new Flag("preserve-fds", TakesValue: true)], ["--preserve-fds", "-1"]);
        Assert.Throws<UsageException>(() => parsed.Int("preserve-fds", 0));
    }

    [Theory]
    [InlineData("5s", 5_000)]
    [InlineData("500ms", 500)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("250000us", 250)]
    [InlineData("-2s", -2_000)]
    [InlineData("0", 0)]
    public void DurationsAreGoDurations(string text, int milliseconds)
        => Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Parse(["--interval", text]).Duration("interval"));

    [Theory]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5 s")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("3d")]
    public void ADurationWithoutAKnownUnitIsAUsageError(string text)
        => Assert.Contains("--interval must be a duration", Assert.Throws<UsageException>(() => Parse(["--interval", text]).Duration("interval")).Message);

    [Fact]
    public void AnAbsentDurationIsNull() => Assert.Null(Parse([]).Duration("interval"));

    private static ParsedArguments Parse(string[] args) => ParsedArguments.Parse("events", [new("interval", TakesValue: true)], args);
}
