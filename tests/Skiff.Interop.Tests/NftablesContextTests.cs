using System.Security.Cryptography;
using System.Text.Json;

namespace Skiff.Interop.Tests;

public sealed class NftablesContextTests
{
    [Fact]
    public void AMissingLibraryIsNamedWithThePackageToInstall()
    {
        var error = Assert.Throws<NftablesException>(() => NftablesContext.EnsureLibrary("libnftables-absent.so.1"));
        Assert.Equal("libnftables-absent.so.1 is missing: install Debian's libnftables1.", error.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
    }

    [Fact]
    public void TheLibrarysFirstErrorAndItsCommandBecomeOneSentence()
    {
        const string text = "Error: Could not process rule: File exists\nadd element inet sk m { 1 : 2 }\n                         ^\n" +
                            "Error: Could not process rule: No such file or directory\nadd rule inet sk c drop\n^^^\n";
        var error = NftablesException.FromLibrary(text, "add element inet sk m { 1 : 2 }\n");
        Assert.Equal("nftables refused the change: Could not process rule: File exists (in `add element inet sk m { 1 : 2 }`).", error.Message);
        Assert.Equal("nftables refused the change: Could not process rule: File exists.", NftablesException.FromLibrary(text, "add table inet sk\nadd element inet sk m { 1 : 2 }").Message);
        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(text, error.LibraryText);
        Assert.Equal(ErrorKind.NotFound, NftablesException.FromLibrary("Error: No such file or directory; did you mean table ‘x’ in family inet?\nlist table inet y\n", "list table inet y").Kind);
        Assert.Equal(ErrorKind.Internal, NftablesException.FromLibrary("Error: syntax error, unexpected newline\nadd rule\n", "add rule").Kind);
        Assert.Equal("nftables refused the change: the library gave no reason.", NftablesException.FromLibrary("", "x").Message);
        Assert.StartsWith("Creating x: nftables refused", NftablesException.FromLibrary(text, "x").WithContext("Creating x").Message);
    }

    [RootFact]
    public void ABatchAppliesWholeOrNotAtAll()
    {
        var table = $"skiff_t_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        using var context = new NftablesContext();
        try
        {
            var error = Assert.Throws<NftablesException>(() => context.Run(
                $"add table inet {table}\nadd chain inet {table} c\nadd rule inet {table} c jump absent\n"));
            Assert.Equal(ErrorKind.NotFound, error.Kind);
            Assert.StartsWith("nftables refused the change: ", error.Message);
            Assert.Contains("No such file or directory", error.Message);
            Assert.Equal(ErrorKind.NotFound, Assert.Throws<NftablesException>(() => context.Run($"list table inet {table}")).Kind);

            Assert.Equal("", context.Run($"add table inet {table}\nadd chain inet {table} c\nadd rule inet {table} c counter accept\n"));
            Assert.Contains("counter packets 0 bytes 0 accept", context.Run($"list chain inet {table} c"));
            using var json = new NftablesContext(json: true);
            using var document = JsonDocument.Parse(json.Run($"list table inet {table}"));
            Assert.Contains(document.RootElement.GetProperty("nftables").EnumerateArray(),
                e => e.TryGetProperty("chain", out var c) && c.GetProperty("name").GetString() == "c");
        }
        finally
        {
            try { context.Run($"delete table inet {table}"); } catch (NftablesException) { }
        }
    }

    [Fact]
    public void ASyntaxErrorIsRefusedBeforeTheKernelIsAsked()
    {
        using var context = new NftablesContext();
        var error = Assert.Throws<NftablesException>(() => context.Run("add rule inet nowhere"));
        Assert.StartsWith("nftables refused the change: syntax error", error.Message);
    }
}
