using System.Diagnostics;
using System.Text.Json.Nodes;
using Skiff.Network.Cni;

namespace Skiff.Network.Tests;

/// <summary>The executor against fake plugins: shell scripts that log their environment and stdin and print canned answers.</summary>
public sealed class CniRunnerTests : IDisposable
{
    private const string Result1 = """{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/fake"}],"ips":[{"address":"10.231.3.2/24","gateway":"10.231.3.1","interface":0}]}""";
    private const string Result2 = """{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/fake","mtu":1400}],"ips":[{"address":"10.231.3.2/24","gateway":"10.231.3.1","interface":0}],"dns":{"nameservers":["10.231.3.1"]}}""";

    private readonly string _root = Directory.CreateTempSubdirectory("skcni-run-").FullName;
    private string Plugins => Path.Combine(_root, "bin");
    private string Log => Path.Combine(_root, "log");
    private string Cache => Path.Combine(_root, "cache");

    public CniRunnerTests()
    {
        Directory.CreateDirectory(Plugins);
        Directory.CreateDirectory(Log);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A plugin that logs what it got, then runs <paramref name="body"/> (which prints its answer).</summary>
    private void Plugin(string name, string body)
    {
        string path = Path.Combine(Plugins, name);
        File.WriteAllText(path, $"""
            #!/bin/sh
            echo "$CNI_COMMAND {name}" >> {Log}/order
            cat > {Log}/$CNI_COMMAND.{name}.stdin
            env | grep '^CNI_' | sort > {Log}/$CNI_COMMAND.{name}.env
            {body}
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void Succeeding(string name, string result) => Plugin(name, $"""
        if [ "$CNI_COMMAND" = ADD ]; then printf '%s' '{result}'; fi
        exit 0
        """);

    private static CniConfigList Network(string version, params string[] plugins)
        => CniConfigList.Parse($$"""{ "cniVersion": "{{version}}", "name": "testnet", "plugins": [{{string.Join(',', plugins)}}] }""");

    private static CniAttachment Attach(CniConfigList network, CniCapabilities? capabilities = null)
        => new("c0ffee", "/run/netns/fake", "eth0", network, capabilities, [new("K8S_POD_NAME", "web")]);

    private CniRunner Runner(TimeSpan? timeout = null) => new(Cache, [Path.Combine(_root, "nothing-here"), Plugins], timeout);

    private string[] Order() => File.Exists(Path.Combine(Log, "order")) ? File.ReadAllLines(Path.Combine(Log, "order")) : [];

    private JsonObject Stdin(string command, string plugin) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Log, $"{command}.{plugin}.stdin")))!;

    private Dictionary<string, string> Env(string command, string plugin)
        => File.ReadAllLines(Path.Combine(Log, $"{command}.{plugin}.env")).Select(line => line.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    private string CacheFile => Path.Combine(Cache, "results", "testnet-c0ffee-eth0");

    private static bool SameJson(string expected, JsonNode? actual) => JsonNode.DeepEquals(JsonNode.Parse(expected), actual);

    [Fact]
    public async Task Add_runs_the_plugins_in_order_with_the_spec_environment_and_chains_prevResult()
    {
        Succeeding("one", Result1);
        Succeeding("two", Result2);
        var network = Network("1.0.0",
            """{ "type": "one", "own": { "x": 1 }, "capabilities": { "portMappings": true }, "runtimeConfig": { "stale": 1 } }""",
            """{ "type": "two", "capabilities": { "mac": true } }""");
        var capabilities = new CniCapabilities { PortMappings = [new(8080, 80), new(5353, 53, "udp", "127.0.0.1")] };

        var result = await Runner().AddAsync(Attach(network, capabilities), CancellationToken.None);

        Assert.Equal(["ADD one", "ADD two"], Order());
        var first = Stdin("ADD", "one");
        Assert.Equal("testnet", (string)first["name"]!);
        Assert.Equal("1.0.0", (string)first["cniVersion"]!);
        Assert.Equal(1, (int)first["own"]!["x"]!);
        Assert.False(first.ContainsKey("prevResult"));
        Assert.False(first.ContainsKey("capabilities"));
        Assert.True(SameJson("""{ "portMappings": [ { "hostPort": 8080, "containerPort": 80, "protocol": "tcp" }, { "hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": "127.0.0.1" } ] }""", first["runtimeConfig"]));
        var second = Stdin("ADD", "two");
        Assert.True(SameJson(Result1, second["prevResult"]));
        Assert.False(second.ContainsKey("runtimeConfig")); // it declares mac, which was not given
        var env = Env("ADD", "one");
        Assert.Equal("ADD", env["CNI_COMMAND"]);
        Assert.Equal("c0ffee", env["CNI_CONTAINERID"]);
        Assert.Equal("/run/netns/fake", env["CNI_NETNS"]);
        Assert.Equal("eth0", env["CNI_IFNAME"]);
        Assert.Equal("K8S_POD_NAME=web", env["CNI_ARGS"]);
        Assert.Equal($"{Path.Combine(_root, "nothing-here")}:{Plugins}", env["CNI_PATH"]);

        Assert.Equal(1400, result.Interfaces[0].Mtu);
        Assert.Equal(["10.231.3.1"], result.Dns.Nameservers);
        Assert.True(SameJson(Result2, JsonNode.Parse(File.ReadAllText(CacheFile))!["result"]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(CacheFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Cache));
        Assert.Equal(1400, Runner().GetCachedResult(Attach(network))!.Interfaces[0].Mtu);
    }

    [Fact]
    public async Task Check_and_Delete_after_a_restart_use_the_cached_result_and_Delete_runs_in_reverse()
    {
        Succeeding("one", Result1);
        Succeeding("two", Result2);
        var network = Network("1.0.0", """{ "type": "one" }""", """{ "type": "two" }""");
        await Runner().AddAsync(Attach(network), CancellationToken.None);

        // A new runner is what the engine has after a restart: only the cache directory carries the result over.
        await Runner().CheckAsync(Attach(network), CancellationToken.None);
        Assert.True(SameJson(Result2, Stdin("CHECK", "one")["prevResult"]));
        Assert.True(SameJson(Result2, Stdin("CHECK", "two")["prevResult"]));

        await Runner().DeleteAsync(Attach(network), CancellationToken.None);
        Assert.Equal(["ADD one", "ADD two", "CHECK one", "CHECK two", "DEL two", "DEL one"], Order());
        Assert.True(SameJson(Result2, Stdin("DEL", "two")["prevResult"]));
        Assert.True(SameJson(Result2, Stdin("DEL", "one")["prevResult"]));
        Assert.Equal("DEL", Env("DEL", "one")["CNI_COMMAND"]);
        Assert.False(File.Exists(CacheFile));

        // Idempotent: a second DEL finds no cache and still asks every plugin, without prevResult.
        await Runner().DeleteAsync(Attach(network), CancellationToken.None);
        Assert.False(Stdin("DEL", "one").ContainsKey("prevResult"));
        Assert.Null(Runner().GetCachedResult(Attach(network)));
    }

    [Fact]
    public async Task Check_refuses_without_a_cached_result_and_before_0_4_0_and_is_skipped_when_disabled()
    {
        Succeeding("one", Result1);
        var missing = await Assert.ThrowsAsync<CniException>(() => Runner().CheckAsync(Attach(Network("1.0.0", """{ "type": "one" }""")), CancellationToken.None));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.Equal("Container c0ffee has no cached CNI result for network testnet on interface eth0; it was not attached (ADD) or was detached since.", missing.Message);

        var old = await Assert.ThrowsAsync<CniException>(() => Runner().CheckAsync(Attach(Network("0.3.1", """{ "type": "one" }""")), CancellationToken.None));
        Assert.Equal(ErrorKind.FailedPrecondition, old.Kind);

        var disabled = CniConfigList.Parse("""{ "cniVersion": "1.0.0", "name": "testnet", "disableCheck": true, "plugins": [{ "type": "one" }] }""");
        await Runner().AddAsync(Attach(disabled), CancellationToken.None);
        await Runner().CheckAsync(Attach(disabled), CancellationToken.None);
        Assert.Equal(["ADD one"], Order());
    }

    [Fact]
    public async Task A_failed_Add_deletes_the_whole_list_and_reports_the_plugins_error_result()
    {
        Succeeding("one", Result1);
        Plugin("two", """
            if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","code":11,"msg":"busy","details":"try later"}'; exit 1; fi
            exit 0
            """);
        Succeeding("three", Result1);
        var network = Network("1.0.0", """{ "type": "one" }""", """{ "type": "two" }""", """{ "type": "three" }""");

        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(Attach(network), CancellationToken.None));

        Assert.Equal("CNI plugin two failed ADD for network testnet: busy: try later (code 11).", error.Message);
        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Equal(11, error.Code);
        Assert.Equal("two", error.Plugin);
        Assert.Equal(["ADD one", "ADD two", "DEL three", "DEL two", "DEL one"], Order());
        Assert.True(SameJson(Result1, Stdin("DEL", "one")["prevResult"]));
        Assert.False(File.Exists(CacheFile));
    }

    [Fact]
    public async Task A_plugin_without_an_error_result_is_reported_by_its_stderr_and_a_failing_undo_is_reported_too()
    {
        Plugin("one", """
            echo "no such bridge: skcni9" >&2
            exit 2
            """);
        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(Attach(Network("1.0.0", """{ "type": "one" }""")), CancellationToken.None));
        Assert.Equal(ErrorKind.Internal, error.Kind);
        Assert.Null(error.Code);
        Assert.StartsWith("CNI plugin one failed ADD for network testnet: no such bridge: skcni9 (exit status 2). Undoing the ADD failed too, so some of it may remain: CNI plugin one failed DEL", error.Message);
    }

    [Fact]
    public async Task A_missing_plugin_fails_Add_before_any_plugin_runs_naming_the_directories_searched()
    {
        Succeeding("one", Result1);
        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(Attach(Network("1.0.0", """{ "type": "one" }""", """{ "type": "absent" }""")), CancellationToken.None));
        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Equal($"CNI plugin absent of network testnet is not installed, so ADD cannot run: it is in none of {Path.Combine(_root, "nothing-here")}, {Plugins}; install it (Debian: containernetworking-plugins) or add its directory.", error.Message);
        Assert.Empty(Order());
    }

    [Fact]
    public async Task Delete_goes_on_after_a_failing_plugin_reports_the_first_error_and_keeps_the_cache()
    {
        Succeeding("one", Result1);
        Plugin("two", $$"""
            if [ "$CNI_COMMAND" = ADD ]; then printf '%s' '{{Result2}}'; fi
            if [ "$CNI_COMMAND" = DEL ]; then echo '{"code":3,"msg":"gone"}'; exit 1; fi
            """);
        Plugin("three", $$"""
            if [ "$CNI_COMMAND" = ADD ]; then printf '%s' '{{Result2}}'; fi
            if [ "$CNI_COMMAND" = DEL ]; then echo '{"code":7,"msg":"bad"}'; exit 1; fi
            """);
        var network = Network("1.0.0", """{ "type": "one" }""", """{ "type": "two" }""", """{ "type": "three" }""");
        await Runner().AddAsync(Attach(network), CancellationToken.None);

        var error = await Assert.ThrowsAsync<CniException>(() => Runner().DeleteAsync(Attach(network), CancellationToken.None));

        Assert.Equal("CNI plugin three failed DEL for network testnet: bad (code 7).", error.Message);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Equal(["ADD one", "ADD two", "ADD three", "DEL three", "DEL two", "DEL one"], Order());
        Assert.True(File.Exists(CacheFile));
    }

    [Fact]
    public async Task A_plugin_that_overruns_its_timeout_is_killed_with_its_children_and_the_Add_undone()
    {
        Plugin("slow", $"""
            if [ "$CNI_COMMAND" = ADD ]; then sleep 30 & echo $! > {_root}/child; wait; fi
            exit 0
            """);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<CniException>(() => Runner(TimeSpan.FromMilliseconds(500)).AddAsync(Attach(Network("1.0.0", """{ "type": "slow" }""")), CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Equal("CNI plugin slow did not finish ADD for network testnet within 0.5 s and was killed.", error.Message);
        Assert.True(Gone(Path.Combine(_root, "child")), "the plugin's child survived");
        Assert.Equal(["ADD slow", "DEL slow"], Order());
    }

    /// <summary>Whether the process whose pid the file holds is dead (gone, or a zombie its new parent has yet to reap) within 2 s.</summary>
    private static bool Gone(string pidFile)
    {
        string stat = $"/proc/{File.ReadAllText(pidFile).Trim()}/stat";
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(2); Thread.Sleep(20))
        {
            try
            {
                string text = File.ReadAllText(stat);
                if (text[(text.LastIndexOf(')') + 2)..].StartsWith('Z'))
                    return true;
            }
            catch (IOException)
            {
                return true;
            }
        }
        return false;
    }

    [Fact]
    public async Task Cancelling_kills_the_plugin_and_undoes_the_Add()
    {
        Plugin("slow", $"""
            if [ "$CNI_COMMAND" = ADD ]; then echo $$ > {_root}/pid; exec sleep 30; fi
            exit 0
            """);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Runner().AddAsync(Attach(Network("1.0.0", """{ "type": "slow" }""")), cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.True(Gone(Path.Combine(_root, "pid")), "the plugin survived");
        Assert.Equal(["ADD slow", "DEL slow"], Order());
    }

    [Theory]
    [InlineData("printf 'not json'", "returned an invalid result for ADD on network testnet")]
    [InlineData("printf '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.1\"}]}'", "ips[0].address \"10.0.0.1\" is not an address in CIDR notation")]
    [InlineData("true", "printed no result for ADD on network testnet")]
    [InlineData("head -c 2000000 /dev/zero", "printed more than 1024 KiB for ADD")]
    public async Task A_result_that_is_not_one_fails_the_Add_and_undoes_it(string answer, string what)
    {
        Plugin("odd", $"""
            if [ "$CNI_COMMAND" = ADD ]; then {answer}; fi
            exit 0
            """);
        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(Attach(Network("1.0.0", """{ "type": "odd" }""")), CancellationToken.None));
        Assert.Equal(ErrorKind.Internal, error.Kind);
        Assert.Contains(what, error.Message);
        Assert.Equal(["ADD odd", "DEL odd"], Order());
        Assert.False(File.Exists(CacheFile));
    }

    [Fact]
    public async Task Status_runs_from_1_1_0_with_only_the_command_and_path_and_older_networks_are_ready()
    {
        Plugin("one", """
            echo '{"cniVersion":"1.1.0","code":50,"msg":"daemon down"}'
            exit 1
            """);
        var ready = await Runner().StatusAsync(Network("1.0.0", """{ "type": "one" }"""), CancellationToken.None);
        Assert.True(ready.Ready);
        Assert.Empty(Order());

        var status = await Runner().StatusAsync(Network("1.1.0", """{ "type": "one" }"""), CancellationToken.None);
        Assert.False(status.Ready);
        Assert.Equal(ErrorKind.Unavailable, status.Problem!.Kind);
        Assert.Equal("CNI plugin one failed STATUS for network testnet: daemon down (code 50).", status.Problem.Message);
        Assert.Equal(["CNI_COMMAND", "CNI_PATH"], Env("STATUS", "one").Keys.Order());
        Assert.False(Stdin("STATUS", "one").ContainsKey("prevResult"));

        var missing = await Runner().StatusAsync(Network("1.1.0", """{ "type": "absent" }"""), CancellationToken.None);
        Assert.False(missing.Ready);
        Assert.Contains("is not installed", missing.Problem!.Message);
    }

    [Fact]
    public async Task A_result_that_cannot_be_cached_undoes_the_Add()
    {
        Succeeding("one", Result1);
        var runner = Runner();
        File.WriteAllText(Path.Combine(Cache, "results"), "a file where the results directory goes");

        var error = await Assert.ThrowsAsync<CniException>(() => runner.AddAsync(Attach(Network("1.0.0", """{ "type": "one" }""")), CancellationToken.None));

        Assert.StartsWith($"The CNI result of container c0ffee on network testnet cannot be cached in {CacheFile}: ", error.Message);
        Assert.Equal(["ADD one", "DEL one"], Order());
    }

    [Fact]
    public async Task A_plugin_that_cannot_be_executed_is_a_clear_error()
    {
        Succeeding("one", Result1);
        File.SetUnixFileMode(Path.Combine(Plugins, "one"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(Attach(Network("1.0.0", """{ "type": "one" }""")), CancellationToken.None));
        Assert.StartsWith($"CNI plugin {Path.Combine(Plugins, "one")} could not be started for ADD on network testnet: ", error.Message);
        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
    }

    [Fact]
    public async Task Add_needs_a_netns_and_Delete_does_without_one()
    {
        Succeeding("one", Result1);
        var network = Network("1.0.0", """{ "type": "one" }""");
        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(new CniAttachment("c0ffee", "", "eth0", network, null), CancellationToken.None));
        Assert.Equal("Container c0ffee has no network namespace path to give CNI plugins; ADD and CHECK need one.", error.Message);
        Assert.Empty(Order());

        await Runner().DeleteAsync(new CniAttachment("c0ffee", "", "eth0", network, null), CancellationToken.None);
        Assert.False(Env("DEL", "one").ContainsKey("CNI_NETNS"));
    }

    [Theory]
    [InlineData("../x", "eth0")]
    [InlineData("", "eth0")]
    [InlineData("c0ffee", "eth0/../x")]
    [InlineData("c0ffee", "a-name-over-15-chars")]
    [InlineData("c0ffee", "")]
    public async Task Attachment_values_the_spec_forbids_are_refused_before_any_plugin_runs(string container, string ifname)
    {
        Succeeding("one", Result1);
        var attachment = new CniAttachment(container, "/run/netns/fake", ifname, Network("1.0.0", """{ "type": "one" }"""), null);
        var error = await Assert.ThrowsAsync<CniException>(() => Runner().AddAsync(attachment, CancellationToken.None));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Empty(Order());
    }
}
