using Skiff.Build.Execution;

namespace Skiff.Build.Tests.Execution;

public sealed class BuildCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-buildcache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string DatabasePath => Path.Combine(_directory, "cache.db");

    [Fact]
    public void AHitNamesTheImageAndSurvivesReopening()
    {
        using (var cache = BuildCache.Open(DatabasePath))
        {
            Assert.Null(cache.Find("k1", _ => true));
            cache.Put("k1", "sha256:aa", "RUN true");
        }
        using var reopened = BuildCache.Open(DatabasePath);
        Assert.Equal("sha256:aa", reopened.Find("k1", _ => true));
        Assert.Equal("RUN true", Assert.Single(reopened.List()).Instruction);
        Assert.Equal(Convert.ToInt32("600", 8), (int)File.GetUnixFileMode(DatabasePath));
    }

    [Fact]
    public void AnEntryWhoseImageIsGoneIsDroppedAtLookup()
    {
        using var cache = BuildCache.Open(DatabasePath);
        cache.Put("k1", "sha256:gone", "COPY a /");
        Assert.Null(cache.Find("k1", id => id != "sha256:gone"));
        Assert.Empty(cache.List());
    }

    [Fact]
    public void ALaterStepWithTheSameKeyReplacesItAndRemoveTakesWhatIsSelected()
    {
        using var cache = BuildCache.Open(DatabasePath);
        cache.Put("k1", "sha256:old", "ENV A=1");
        cache.Put("k1", "sha256:new", "ENV A=1");
        cache.Put("k2", "sha256:other", "ENV B=2");
        Assert.Equal("sha256:new", cache.Find("k1", _ => true));
        var removed = cache.Remove(entry => entry.Key == "k2");
        Assert.Equal("sha256:other", Assert.Single(removed).ImageId);
        Assert.Equal(["k1"], cache.List().Select(e => e.Key));
    }
}
