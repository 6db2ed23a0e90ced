using Skiff.Cli;
using Skiff.Cli.Runtime;
using Skiff.Oci;

namespace Skiff.Runtime.Tests;

public sealed class UpdateTests
{
    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("64m", 64L << 20)]
    [InlineData("64MB", 64L << 20)]
    [InlineData("2g", 2L << 30)]
    [InlineData("1k", 1024L)]
    [InlineData("-1", -1L)]
    public void SizesTakeDockersSuffixes(string text, long expected) => Assert.Equal(expected, Commands.Bytes("memory", text));

    [Theory]
    [InlineData("lots")]
    [InlineData("-5")]
    [InlineData("1x")]
    public void BadSizesAreUsageErrors(string text) => Assert.Throws<UsageException>(() => Commands.Bytes("memory", text));

    [Fact]
    public void MergeKeepsWhatTheUpdateDoesNotMention()
    {
        var current = new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 100, Swap = 200 },
            CPU = new LinuxCPU { Shares = 512, Cpus = "0" },
            Pids = new LinuxPids { Limit = 10 },
        };
        var merged = ContainerRuntime.Merge(current, new LinuxResources { Memory = new LinuxMemory { Limit = 150 }, CPU = new LinuxCPU { Quota = 5000 } });
        Assert.Equal(150, merged.Memory!.Limit);
        Assert.Equal(200, merged.Memory.Swap);
        Assert.Equal(512UL, merged.CPU!.Shares);
        Assert.Equal(5000, merged.CPU.Quota);
        Assert.Equal("0", merged.CPU.Cpus);
        Assert.Equal(10, merged.Pids!.Limit);
        // The current document is not modified in place.
        Assert.Equal(100, current.Memory.Limit);
    }
}
