using System.Text;
using Skiff.Oci.Image;

namespace Skiff.Images.Tests;

public class DigestTests
{
    [Fact]
    public void ComputesSha256AndSha512()
    {
        var data = Encoding.ASCII.GetBytes("hello");
        Assert.Equal("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", Digest.Compute(data).ToString());
        Assert.StartsWith("sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7", Digest.Compute(data, Digest.Sha512).ToString());
    }

    [Fact]
    public void ParsesRoundTrip()
    {
        var digest = Digest.Parse("sha256:" + new string('0', 64));
        Assert.Equal("sha256", digest.Algorithm);
        Assert.Equal(new string('0', 64), digest.Encoded);
        Assert.Equal("sha256:" + new string('0', 64), digest.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("abc", "expected algorithm:hex, e.g. sha256:<64 hex digits>")]
    [InlineData("sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000", "'A' is not a lowercase hex digit")]
    [InlineData("sha512:00", "sha512 needs 128 hex digits, got 2")]
    [InlineData("blake3:00", "unsupported digest algorithm \"blake3\" (supported: sha256, sha512)")]
    public void RejectsMalformed(string input, string reason)
    {
        var error = Assert.Throws<FormatException>(() => Digest.Parse(input));
        Assert.Equal($"invalid digest \"{input}\": {reason}", error.Message);
    }
}
