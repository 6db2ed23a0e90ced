using Skiff.Images.References;
using Skiff.Oci.Image;

namespace Skiff.Images.Tests;

public class ImageReferenceTests
{
    private const string Hex64 = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";

    [Theory]
    [InlineData("busybox", "docker.io/library/busybox:latest")]
    [InlineData("busybox:1.36", "docker.io/library/busybox:1.36")]
    [InlineData("user/repo", "docker.io/user/repo:latest")]
    [InlineData("docker.io/busybox", "docker.io/library/busybox:latest")]
    [InlineData("index.docker.io/busybox", "docker.io/library/busybox:latest")]
    [InlineData("index.docker.io/user/repo:v1", "docker.io/user/repo:v1")]
    [InlineData("localhost/x", "localhost/x:latest")]
    [InlineData("localhost:5000/x/y:tag", "localhost:5000/x/y:tag")]
    [InlineData("host:5000/repo:tag", "host:5000/repo:tag")]
    [InlineData("quay.io/podman/stable", "quay.io/podman/stable:latest")]
    [InlineData("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest")]
    [InlineData("[::1]:5000/repo:1", "[::1]:5000/repo:1")]
    [InlineData("Registry/repo", "Registry/repo:latest")]
    [InlineData("a/b__c/d-e.f_g---h", "docker.io/a/b__c/d-e.f_g---h:latest")]
    [InlineData("busybox:Latest_1.0-rc.2", "docker.io/library/busybox:Latest_1.0-rc.2")]
    public void Normalizes(string input, string expected)
        => Assert.Equal(expected, ImageReference.Parse(input).ToString());

    [Fact]
    public void SplitsDomainPathTagDigest()
    {
        var reference = ImageReference.Parse($"localhost:5000/team/app:v2@sha256:{Hex64}");
        Assert.Equal("localhost:5000", reference.Domain);
        Assert.Equal("team/app", reference.Path);
        Assert.Equal("localhost:5000/team/app", reference.Name);
        Assert.Equal("v2", reference.Tag);
        Assert.Equal(Digest.Parse($"sha256:{Hex64}"), reference.Digest);
        Assert.Equal($"localhost:5000/team/app:v2@sha256:{Hex64}", reference.ToString());
    }

    [Fact]
    public void DigestOnlyHasNoDefaultTag()
    {
        var reference = ImageReference.Parse($"busybox@sha256:{Hex64}");
        Assert.Null(reference.Tag);
        Assert.Equal($"docker.io/library/busybox@sha256:{Hex64}", reference.ToString());
    }

    [Fact]
    public void Sha512DigestAccepted()
    {
        string hex = new('a', 128);
        Assert.Equal($"sha512:{hex}", ImageReference.Parse($"repo@sha512:{hex}").Digest.ToString());
    }

    [Theory]
    [InlineData("busybox", "busybox:latest")]
    [InlineData("user/repo:1", "user/repo:1")]
    [InlineData("docker.io/library/a/b", "library/a/b:latest")]
    [InlineData("quay.io/x/y:2", "quay.io/x/y:2")]
    public void FamiliarForm(string input, string expected)
        => Assert.Equal(expected, ImageReference.Parse(input).FamiliarString);

    [Fact]
    public void TagOf128CharactersAccepted()
    {
        string tag = new('t', 128);
        Assert.Equal(tag, ImageReference.Parse($"busybox:{tag}").Tag);
    }

    [Theory]
    [InlineData("", "empty reference")]
    [InlineData("Busybox", "repository name \"library/Busybox\" must be lowercase")]
    [InlineData("user/Repo", "repository name \"user/Repo\" must be lowercase")]
    [InlineData("quay.io/User/repo", "repository name \"User/repo\" must be lowercase")]
    [InlineData(Hex64, "a 64-character hexadecimal string is an image ID, not a repository name")]
    [InlineData("busybox:", "empty tag after ':'")]
    [InlineData("busybox:.hidden", "tag \".hidden\" may contain only letters, digits, '_', '.' and '-', and must not start with '.' or '-'")]
    [InlineData("busybox:a/b", "registry host \"busybox:a\" is not a valid host[:port]")]
    [InlineData("busybox@sha256:abc", "digest \"sha256:abc\": sha256 needs 64 hex digits, got 3")]
    [InlineData("busybox@md5:" + Hex64, "digest \"md5:" + Hex64 + "\": unsupported digest algorithm \"md5\" (supported: sha256, sha512)")]
    [InlineData("-bad/x", "repository name \"-bad/x\" must be lowercase letters and digits separated by '/', '.', '_', '__' or '-'")]
    [InlineData("host:port/x", "registry host \"host:port\" is not a valid host[:port]")]
    [InlineData("a//b", "repository name \"a//b\" must be lowercase letters and digits separated by '/', '.', '_', '__' or '-'")]
    [InlineData("busybox\n", "repository name \"library/busybox\n\" must be lowercase letters and digits separated by '/', '.', '_', '__' or '-'")]
    public void RejectsWithOneLineErrorNamingInput(string input, string reason)
    {
        var error = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(input));
        Assert.Equal($"invalid reference \"{input}\": {reason}", error.Message);
        Assert.Equal(reason, error.Reason);
    }

    [Fact]
    public void TagLongerThan128Rejected()
    {
        string input = "busybox:" + new string('t', 129);
        var error = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(input));
        Assert.Equal("tag is 129 characters, more than 128", error.Reason);
    }

    [Fact]
    public void NameLongerThan255Rejected()
    {
        string input = "example.com/" + new string('a', 250);
        var error = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(input));
        Assert.Equal("repository name is 262 characters, more than 255", error.Reason);
    }

    [Fact]
    public void TryParseReportsFailureWithoutThrowing()
    {
        Assert.False(ImageReference.TryParse("UPPER", out _));
        Assert.True(ImageReference.TryParse("ok", out var reference));
        Assert.Equal("docker.io/library/ok:latest", reference.ToString());
    }
}
