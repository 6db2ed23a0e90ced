namespace Skiff.Api.Tests;

public sealed class ApiVersionsTests
{
    [Theory]
    [InlineData("/v1.41/containers/json", "1.41", "/containers/json")]
    [InlineData("/v1.47/_ping", "1.47", "/_ping")]
    [InlineData("/v1.9/info", "1.9", "/info")]
    [InlineData("/_ping", null, "/_ping")]
    [InlineData("/v1.41", null, "/v1.41")]
    [InlineData("/vfoo/info", null, "/vfoo/info")]
    [InlineData("/v1/info", null, "/v1/info")]
    [InlineData("/volumes", null, "/volumes")]
    [InlineData("/", null, "/")]
    public void SplitsThePrefix(string path, string? version, string rest)
        => Assert.Equal((version, rest), ApiVersions.Split(path));

    [Theory]
    [InlineData("1.41")]
    [InlineData("1.44")]
    [InlineData("1.47")]
    public void ServesTheRange(string version) => Assert.Null(ApiVersions.Refusal(version));

    [Theory]
    [InlineData("1.40", "too old")]
    [InlineData("1.9", "too old")]
    [InlineData("0.99", "too old")]
    [InlineData("1.48", "too new")]
    [InlineData("2.0", "too new")]
    public void RefusesOthersAsDockerd(string version, string why)
        => Assert.Contains($"client version {version} is {why}", ApiVersions.Refusal(version));
}
