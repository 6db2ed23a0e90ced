namespace Skiff.Api.Tests;

public sealed class HijackedConnectionsTests
{
    [Theory]
    [InlineData("/containers/abc/attach?stream=1&stdout=1", null, "abc", "?stream=1&stdout=1")]
    [InlineData("/v1.41/containers/web/attach", "1.41", "web", "")]
    [InlineData("/v1.47/containers/a%2Fb/attach?stdin=1", "1.47", "a/b", "?stdin=1")]
    public void AttachRequestsAreTaken(string target, string? version, string id, string query)
        => Assert.Equal((version, id, query), HijackedConnections.AttachTarget(target));

    [Theory]
    [InlineData("/containers/abc/json")]
    [InlineData("/containers//attach")]
    [InlineData("/containers/abc/attach/ws")]
    [InlineData("/images/containers/abc/attach")]
    [InlineData("/_ping")]
    public void OthersGoToHttp(string target) => Assert.Null(HijackedConnections.AttachTarget(target));
}
