using System.Security.Cryptography;
using System.Text;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;

namespace Skiff.Storage.Tests;

public sealed class ChainIdTests
{
    private static readonly Digest A = Digest.Parse("sha256:" + new string('a', 64));
    private static readonly Digest B = Digest.Parse("sha256:" + new string('b', 64));
    private static readonly Digest C = Digest.Parse("sha256:" + new string('c', 64));

    private static string Sha256Of(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void BottomLayerChainIdIsItsDiffId() => Assert.Equal(A, ChainId.Of([A]));

    [Fact]
    public void ChainIdsFollowTheImageSpecFormula()
    {
        // Computed independently over the exact strings config.md names.
        string ab = Sha256Of($"sha256:{new string('a', 64)} sha256:{new string('b', 64)}");
        string abc = Sha256Of($"{ab} sha256:{new string('c', 64)}");

        var chain = ChainId.ForLayers([A, B, C]);

        Assert.Equal([A.ToString(), ab, abc], chain.Select(d => d.ToString()));
        Assert.Equal(abc, ChainId.Of([A, B, C]).ToString());
        Assert.Equal(ab, ChainId.Next(A, B).ToString());
    }

    [Fact]
    public void KnownVector()
    {
        // Computed outside .NET (python hashlib) over "sha256:aaa…a sha256:bbb…b", so a change in the formula
        // (separator, prefix, encoding) cannot go unnoticed.
        Assert.Equal("sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c", ChainId.Of([A, B]).ToString());
    }

    [Fact]
    public void EmptyStackIsAnError() => Assert.Throws<ArgumentException>(() => ChainId.Of([]));
}
