namespace Skiff.Images.Tests.Cli;

/// <summary>
/// Where skiff must behave as docker does for a docker user (issue 12): --privileged on a host whose bounding set
/// is short, State.OOMKilled, Config.Env and volume inspect's shape.
/// </summary>
public sealed partial class EngineCliTests
{
    [Fact]
    public async Task PrivilegedAndCapAddAllGrantTheHostsBoundingSet()
    {
        string hostBounding = StatusField(File.ReadAllText("/proc/self/status"), "CapBnd");

        foreach (var flags in new[] { new[] { "--privileged" }, new[] { "--cap-add", "ALL" } })
        {
            string status = (await Ok(["run", "--rm", .. flags, Image, "cat", "/proc/self/status"])).Stdout;
            Assert.Equal(hostBounding, StatusField(status, "CapBnd"));
            Assert.Equal(hostBounding, StatusField(status, "CapEff"));
        }

        // CAP_SYS_RESOURCE is bit 24; these machines lack it, and naming it must say why instead of failing in capset.
        if ((Convert.ToUInt64(hostBounding, 16) & (1UL << 24)) == 0)
        {
            var refused = await Skiff.RunAsync(Root, "run", "--rm", "--cap-add", "SYS_RESOURCE", Image, "true");
            Assert.Equal(125, refused.ExitCode);
            Assert.Equal("skiff: --cap-add CAP_SYS_RESOURCE: this host's bounding set lacks it, so no container here can have it; remove it\n", refused.Stderr);
        }
    }

    private static string StatusField(string status, string field)
        => status.Split('\n').Single(line => line.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim();
}
