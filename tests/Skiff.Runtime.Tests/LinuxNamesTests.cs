using Skiff.Oci;
using Skiff.Runtime.Plan;

namespace Skiff.Runtime.Tests;

public sealed class LinuxNamesTests
{
    [Theory]
    [InlineData("KILL", 9)]
    [InlineData("SIGKILL", 9)]
    [InlineData("term", 15)]
    [InlineData("USR1", 10)]
    [InlineData("9", 9)]
    [InlineData("SIGRTMIN", 34)]
    [InlineData("RTMIN+3", 37)]
    [InlineData("SIGRTMAX-1", 63)]
    public void ParsesSignalsLikeRunc(string text, int expected) => Assert.Equal(expected, LinuxNames.ParseSignal(text));

    [Theory]
    [InlineData("BOGUS")]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("RTMIN+40")]
    public void RejectsWhatIsNotASignal(string text) => Assert.Null(LinuxNames.ParseSignal(text));

    [Fact]
    public void MountOptionsSplitIntoFlagsPropagationAndData()
    {
        var parsed = PlanCompiler.ParseMountOptions(["rw", "nosuid", "noexec", "rslave", "mode=1777", "size=10m", "bind"]);
        Assert.Equal(LinuxNames.MS_NOSUID | LinuxNames.MS_NOEXEC, parsed.Flags);
        Assert.Equal(LinuxNames.MS_SLAVE | LinuxNames.MS_REC, parsed.Propagation);
        Assert.True(parsed.Bind);
        Assert.False(parsed.Recursive);
        Assert.Equal("mode=1777,size=10m", parsed.Data);
    }

    [Fact]
    public void LaterOptionsOverrideEarlierOnes()
    {
        Assert.Equal(0UL, PlanCompiler.ParseMountOptions(["ro", "rw"]).Flags);
        Assert.Equal(LinuxNames.MS_RDONLY, PlanCompiler.ParseMountOptions(["rw", "ro"]).Flags);
    }

    [Fact]
    public void RuncsExtensionsAreNotFilesystemData()
    {
        var parsed = PlanCompiler.ParseMountOptions(["rro", "rnosuid", "rnoatime", "tmpcopyup", "size=1m"]);
        Assert.True(parsed.CopyUp);
        Assert.Equal("size=1m", parsed.Data);
        Assert.Equal(0x1UL | 0x2UL | 0x10UL, parsed.AttributesSet);   // MOUNT_ATTR_RDONLY | NOSUID | NOATIME
        Assert.Equal(0x70UL, parsed.AttributesClear);                 // the whole atime field
        var undone = PlanCompiler.ParseMountOptions(["rro", "rrw"]);
        Assert.Equal(0UL, undone.AttributesSet);
        Assert.Equal(0x1UL, undone.AttributesClear);
    }

    [Fact]
    public void PlanWriterPadsRecordsTo8Bytes()
    {
        var plan = new PlanWriter().Add(PlanOp.Hostname, "abc").Add(PlanOp.Rlimit, [7, 1, 2]).ToArray();
        var records = PlanReader.Read(plan);
        Assert.Equal(2, records.Count);
        Assert.Equal("abc", records[0].Strings[0]);
        Assert.Equal([7UL, 1UL, 2UL], records[1].Ints);
        Assert.Throws<ArgumentException>(() => new PlanWriter().Add(PlanOp.Hostname, "a\0b"));
    }
}
