using System.Text.Json;
using Skiff.Cgroups;
using Skiff.Cli;
using Skiff.Cli.Runtime;
using Skiff.Runtime;

namespace Skiff.Runtime.Tests;

public class ContainerEventTests
{
    [Fact]
    public void Stats_event_has_runcs_shape()
    {
        var stats = new CgroupStats();
        stats.Memory.Usage.Limit = 42;
        stats.Pids.Current = 3;
        var json = JsonSerializer.Serialize(new ContainerEvent("stats", "c1", stats), ContainerEventJsonContext.Default.ContainerEvent);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("stats", root.GetProperty("type").GetString());
        Assert.Equal("c1", root.GetProperty("id").GetString());
        var data = root.GetProperty("data");
        // Go's omitempty: zero numbers vanish, the others and nested structs stay
        Assert.Equal(42UL, data.GetProperty("memory").GetProperty("usage").GetProperty("limit").GetUInt64());
        Assert.Equal(0UL, data.GetProperty("memory").GetProperty("usage").GetProperty("failcnt").GetUInt64());
        Assert.False(data.GetProperty("memory").GetProperty("usage").TryGetProperty("usage", out _));
        Assert.Equal(3UL, data.GetProperty("pids").GetProperty("current").GetUInt64());
        Assert.False(data.GetProperty("pids").TryGetProperty("limit", out _));
        Assert.Equal(0UL, data.GetProperty("cpu").GetProperty("usage").GetProperty("kernel").GetUInt64());
        Assert.Equal(JsonValueKind.Object, data.GetProperty("intel_rdt").ValueKind);
        Assert.Equal(JsonValueKind.Object, data.GetProperty("hugetlb").ValueKind);
        Assert.Equal(JsonValueKind.Null, data.GetProperty("network_interfaces").ValueKind);
    }

    [Fact]
    public void Oom_event_has_no_data()
        => Assert.Equal("""{"type":"oom","id":"c1"}""",
            JsonSerializer.Serialize(new ContainerEvent("oom", "c1"), ContainerEventJsonContext.Default.ContainerEvent));
}
