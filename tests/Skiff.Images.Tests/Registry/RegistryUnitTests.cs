using Skiff.Images.Registry;
using Skiff.Oci.Image;

namespace Skiff.Images.Tests.Registry;

public sealed class RegistryUnitTests
{
    [Fact]
    public void ParsesBearerChallengesWithQuotedCommas()
    {
        var challenge = AuthChallenge.Parse("Bearer", "realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\", error=insufficient_scope");
        Assert.Equal("https://auth.example/token", challenge["realm"]);
        Assert.Equal("registry.example", challenge["service"]);
        Assert.Equal("repository:a/b:pull,push", challenge["scope"]);
        Assert.Equal("insufficient_scope", challenge["error"]);
        Assert.Null(challenge["missing"]);
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("registry-1.docker.io", "docker.io")]
    [InlineData("http://localhost:5000/v2/", "localhost:5000")]
    [InlineData("Quay.IO", "quay.io")]
    [InlineData("quay.io/org", "quay.io/org")]
    public void NormalizesDockerConfigKeys(string key, string host)
        => Assert.Equal(host, DockerConfigCredentials.NormalizeHost(key));

    [Fact]
    public void ReadsDockerConfigAuths()
    {
        using var directory = new TempDir();
        string path = Path.Combine(directory.Path, "config.json");
        File.WriteAllText(path, $$$"""
            {"auths":{"https://index.docker.io/v1/":{"auth":"{{{Convert.ToBase64String("me:pa:ss"u8)}}}"},
                      "quay.io":{"username":"q","password":"w"}},
             "credsStore":"desktop"}
            """);
        var credentials = new DockerConfigCredentials(path);
        Assert.Equal(new RegistryCredential("me", "pa:ss"), credentials.Find("docker.io"));
        Assert.Equal(new RegistryCredential("q", "w"), credentials.Find("quay.io"));
        Assert.Null(credentials.Find("ghcr.io"));
        Assert.Null(new DockerConfigCredentials(Path.Combine(directory.Path, "absent.json")).Find("docker.io"));
    }

    [Fact]
    public void PlatformsParseAndMatchWithVariantOnlyWhenGiven()
    {
        var arm = Platform.Parse("linux/arm64");
        Assert.True(arm.Matches(new Platform { OS = "linux", Architecture = "arm64", Variant = "v8" }));
        Assert.False(Platform.Parse("linux/arm/v7").Matches(new Platform { OS = "linux", Architecture = "arm", Variant = "v6" }));
        Assert.True(Platform.Parse("linux/arm/v7").Matches(new Platform { OS = "linux", Architecture = "arm", Variant = "v7" }));
        Assert.False(arm.Matches(new Platform { OS = "windows", Architecture = "arm64" }));
        Assert.Equal("linux", Platform.Host.OS);
        Assert.Throws<FormatException>(() => Platform.Parse("linux"));
        Assert.Throws<FormatException>(() => Platform.Parse("linux//v7"));
    }

    [Fact]
    public void RefusesDescriptorsWithInvalidDigests()
    {
        var error = Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize(
            """{"mediaType":"a","digest":"md5:abc","size":1}""", ImageJsonContext.Default.Descriptor));
        Assert.Contains("unsupported digest algorithm \"md5\"", error.Message);
        Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize(
            """{"mediaType":"a","size":1}""", ImageJsonContext.Default.Descriptor));
    }
}
