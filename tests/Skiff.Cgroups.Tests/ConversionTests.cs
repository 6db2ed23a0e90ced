using Skiff.Cgroups;

namespace Skiff.Cgroups.Tests;

public class ConversionTests
{
    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(1UL, 1UL)]
    [InlineData(2UL, 1UL)]
    [InlineData(1024UL, 100UL)]
    [InlineData(262144UL, 10000UL)]
    [InlineData(1000000UL, 10000UL)]
    public void Cpu_shares_to_weight(ulong shares, ulong weight) => Assert.Equal(weight, CgroupConversions.CpuSharesToWeight(shares));

    [Fact]
    public void Cpu_shares_to_weight_is_monotonic()
    {
        ulong last = 0;
        for (ulong s = 2; s <= 262144; s += 37)
        {
            var w = CgroupConversions.CpuSharesToWeight(s);
            Assert.InRange(w, last, 10000UL);
            last = w;
        }
    }

    [Theory]
    [InlineData(0L, -1L, -1L)]
    [InlineData(-1L, 100L, -1L)]
    [InlineData(0L, 100L, 0L)]
    [InlineData(300L, 100L, 200L)]
    [InlineData(100L, 100L, 0L)]
    public void Memory_swap_to_v2(long swap, long memory, long expected) =>
        Assert.Equal(expected, CgroupConversions.MemorySwapToV2(swap, memory));

    [Theory]
    [InlineData(100L, 0L)]
    [InlineData(100L, -1L)]
    [InlineData(50L, 100L)]
    public void Memory_swap_to_v2_errors(long swap, long memory) =>
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<CgroupException>(() => CgroupConversions.MemorySwapToV2(swap, memory)).Kind);

    [Theory]
    [InlineData((ushort)10, 1UL)]
    [InlineData((ushort)1000, 10000UL)]
    [InlineData((ushort)500, 4950UL)]
    public void Blkio_weight_to_io_weight(ushort w, ulong expected) => Assert.Equal(expected, CgroupConversions.BlkioWeightToIoWeight(w));
}
