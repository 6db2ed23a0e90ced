using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;

namespace Skiff.Engine.Tests;

public sealed class PolicyTests
{
    [Theory]
    [InlineData("no", "no", 0)]
    [InlineData("always", "always", 0)]
    [InlineData("unless-stopped", "unless-stopped", 0)]
    [InlineData("on-failure", "on-failure", 0)]
    [InlineData("on-failure:5", "on-failure", 5)]
    public void Restart_policies_parse(string text, string name, int count)
        => Assert.Equal(new RestartPolicy(name, count), RestartPolicy.Parse(text));

    [Theory]
    [InlineData("sometimes")]
    [InlineData("on-failure:x")]
    [InlineData("on-failure:-1")]
    [InlineData("always:3")]
    public void Bad_restart_policies_say_what_is_allowed(string text)
        => Assert.Contains("restart policy", Assert.Throws<EngineException>(() => RestartPolicy.Parse(text)).Message);

    [Theory]
    [InlineData("no", 1, 0, false, false)]
    [InlineData("always", 0, 5, false, true)]
    [InlineData("always", 0, 5, true, false)]
    [InlineData("unless-stopped", 1, 0, true, false)]
    [InlineData("on-failure", 0, 0, false, false)]
    [InlineData("on-failure", 3, 100, false, true)]
    [InlineData("on-failure:2", 3, 1, false, true)]
    [InlineData("on-failure:2", 3, 2, false, false)]
    [InlineData("on-failure:2", 3, 0, true, false)]
    public void Restart_decisions_follow_docker(string policy, int exitCode, int restarts, bool stoppedByUser, bool expected)
        => Assert.Equal(expected, RestartPolicy.Parse(policy).ShouldRestart(exitCode, restarts, stoppedByUser));

    [Fact]
    public void Log_options_parse_and_check()
    {
        Assert.Equal(LogOptions.Default, LogOptions.Parse(null, []));
        Assert.Equal(new LogOptions(10 << 20, 3), LogOptions.Parse(null, ["max-size=10m", "max-file=3"]));
        Assert.Contains("max-file", Assert.Throws<EngineException>(() => LogOptions.Parse(null, ["max-file=0"])).Message);
        Assert.Contains("needs max-size", Assert.Throws<EngineException>(() => LogOptions.Parse(null, ["max-file=2"])).Message);
        Assert.Contains("unknown log option", Assert.Throws<EngineException>(() => LogOptions.Parse(null, ["compress=true"])).Message);
    }

    [Theory]
    [InlineData("exec: \"nope\": executable file not found in $PATH", 127)]
    [InlineData("exec /bin/x: permission denied", 126)]
    [InlineData("mount /data: invalid argument", 125)]
    public void Start_failures_map_to_docker_exit_codes(string error, int code) => Assert.Equal(code, ProgramFailure.ExitCodeOf(error));
}

public sealed class DetachKeysTests
{
    private static void AssertFeed(DetachKeys keys, byte[] typed, byte[] forwarded, bool detach)
    {
        var result = keys.Feed(typed);
        Assert.Equal(forwarded, result.Forward);
        Assert.Equal(detach, result.Detach);
    }

    [Fact]
    public void The_default_sequence_detaches_and_is_not_forwarded()
    {
        var keys = DetachKeys.Parse(DetachKeys.Default);
        AssertFeed(keys, "ab"u8.ToArray(), "ab"u8.ToArray(), false);
        AssertFeed(keys, [(byte)'x', 16, 17, (byte)'y'], [(byte)'x'], true);
    }

    [Fact]
    public void An_incomplete_sequence_is_passed_on_even_across_reads()
    {
        var keys = DetachKeys.Parse("ctrl-p,ctrl-q");
        AssertFeed(keys, [16], [], false);
        AssertFeed(keys, "z"u8.ToArray(), [16, (byte)'z'], false);
        AssertFeed(keys, [16, 16], [16], false);
        AssertFeed(keys, [17], [], true);
    }

    [Theory]
    [InlineData("ctrl-a,x", new byte[] { 1, (byte)'x' })]
    [InlineData("ctrl-@,ctrl-_", new byte[] { 0, 31 })]
    [InlineData("q", new byte[] { (byte)'q' })]
    public void Keys_parse_as_docker_writes_them(string text, byte[] sequence)
        => Assert.True(DetachKeys.Parse(text).Feed(sequence).Detach);

    [Theory]
    [InlineData("")]
    [InlineData("ctrl-1")]
    [InlineData("ctrl-p,,ctrl-q")]
    [InlineData("alt-x")]
    public void Bad_keys_are_refused(string text)
        => Assert.Contains("detach keys", Assert.Throws<EngineException>(() => DetachKeys.Parse(text)).Message);
}
