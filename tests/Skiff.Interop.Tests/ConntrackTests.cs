using System.Net;

namespace Skiff.Interop.Tests;

public sealed class ConntrackTests
{
    [Fact]
    public void NothingToForgetAsksNothing() => Assert.Equal(0, Conntrack.DeleteDnatTo([]));

    [Fact]
    public void AnAbsentLibraryIsReportedAsAbsent() => Assert.False(NativeLibraries.IsPresent("libskiff-absent.so.1"));

    [RootFact]
    public void DumpsBothFamiliesAndDeletesNothingThatDoesNotMatch()
        // No connection was ever DNAT'd to these (the published-port integration test deletes real ones).
        => Assert.Equal(0, Conntrack.DeleteDnatTo([new DnatTarget(6, 1, IPAddress.Parse("10.231.2.250"), 1), new DnatTarget(17, 1, IPAddress.Parse("fd31:2::250"), 1)]));
}
