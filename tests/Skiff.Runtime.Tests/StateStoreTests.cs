using Skiff.Cgroups;
using Skiff.Runtime.State;

namespace Skiff.Runtime.Tests;

public sealed class StateStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("skiff-state-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void RecordRoundTripsThroughStateJson()
    {
        var store = new StateStore(_root);
        store.Claim("c1");
        var record = new ContainerRecord
        {
            Id = "c1", Pid = 42, PidStartTime = 123456789, Bundle = "/b",
            Created = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), Owner = "root", Paused = true,
            Cgroups = new CgroupPaths { Mode = CgroupMode.Hybrid, Paths = { ["memory"] = "/sys/fs/cgroup/memory/c1", ["unified"] = "/sys/fs/cgroup/unified/c1" } },
        };
        store.Save(record);
        var loaded = store.Load("c1");
        Assert.Equal((record.Id, record.Pid, record.PidStartTime, record.Bundle, record.Created, record.Owner, record.Paused),
            (loaded.Id, loaded.Pid, loaded.PidStartTime, loaded.Bundle, loaded.Created, loaded.Owner, loaded.Paused));
        Assert.Equal(CgroupMode.Hybrid, loaded.Cgroups!.Mode);
        Assert.Equal(record.Cgroups.Paths, loaded.Cgroups.Paths);
        Assert.Null(loaded.Cgroups.SystemdUnit);

        record.Cgroups.SystemdUnit = "skiff-c1.scope";
        store.Save(record);
        Assert.Equal("skiff-c1.scope", store.Load("c1").Cgroups!.SystemdUnit);
    }

    [Theory]
    [InlineData("/bundles/a+b/c")]
    [InlineData("/bundles/\"quoted\"/back\\slash")]
    [InlineData("/bundles/tab\tnew\nline\u0001")]
    [InlineData("/bundles/été/日本/😀")]
    public void PathsWithAnyCharacterRoundTripAndOnlyJsonSyntaxIsEscaped(string bundle)
    {
        var record = new ContainerRecord { Id = "c1", Bundle = bundle, Created = DateTimeOffset.UtcNow, Owner = "root" };
        var utf8 = ContainerRecordJson.Write(record);
        Assert.Equal(bundle, ContainerRecordJson.Read(utf8).Bundle);
        var text = System.Text.Encoding.UTF8.GetString(utf8);
        // the default encoder would have written \u002B, \u00E9 and surrogate escapes
        Assert.DoesNotContain("\\u00", text.Replace("\\u0001", ""));
        Assert.Equal(bundle.Any(c => c > 127), text.Any(c => c > 127));
        using var document = System.Text.Json.JsonDocument.Parse(utf8);
        Assert.Equal(bundle, document.RootElement.GetProperty("bundle").GetString());
    }

    [Fact]
    public void ClaimingATakenIdFails()
    {
        var store = new StateStore(_root);
        store.Claim("c1");
        var error = Assert.Throws<RuntimeException>(() => store.Claim("c1"));
        Assert.Contains("already exists", error.Message);
        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
    }

    [Fact]
    public void CorruptStateIsNamedNotThrownRaw()
    {
        var store = new StateStore(_root);
        store.Claim("c1");
        File.WriteAllText(Path.Combine(_root, "c1", "state.json"), """{"id":"c1"}""");
        Assert.Contains("corrupt", Assert.Throws<RuntimeException>(() => store.Load("c1")).Message);
        var missing = Assert.Throws<RuntimeException>(() => store.Load("nope"));
        Assert.Contains("does not exist", missing.Message);
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
    }
}
