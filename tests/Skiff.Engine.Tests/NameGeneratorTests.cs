using Skiff.Engine.Containers;
using Skiff.Interop;

namespace Skiff.Engine.Tests;

/// <summary>Container ids and generated names come from getrandom through SecureRandom.</summary>
public sealed class NameGeneratorTests
{
    [Fact]
    public void Ids_are_64_lowercase_hex_digits_and_differ()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => NameGenerator.NewId()).ToList();
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{64}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Generated_names_are_adjective_underscore_surname_and_valid()
    {
        for (int i = 0; i < 200; i++)
        {
            var name = NameGenerator.Random();
            Assert.Matches("^[a-z]+_[a-z]+$", name);
            Assert.NotEqual("boring_wozniak", name);
            Assert.Equal(name, NameGenerator.Validate(name));
        }
    }

    [Fact]
    public void Below_stays_in_range_and_reaches_every_value()
    {
        var seen = new int[7];
        for (int i = 0; i < 2000; i++)
            seen[SecureRandom.Below(7)]++;
        // 2000 draws over 7 values: each is expected ~286 times; missing one has probability ~7*(6/7)^2000.
        Assert.All(seen, count => Assert.True(count > 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SecureRandom.Below(0));
    }

    [Fact]
    public void Fill_covers_the_whole_buffer()
    {
        var buffer = new byte[4096];
        SecureRandom.Fill(buffer);
        // All zero after a fill of 4 KiB has probability 2^-32768.
        Assert.Contains(buffer, b => b != 0);
        Assert.True(buffer.Distinct().Count() > 200);
    }
}
