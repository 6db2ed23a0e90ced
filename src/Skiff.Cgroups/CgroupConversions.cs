namespace Skiff.Cgroups;

/// <summary>cgroup v1 (OCI) → v2 value conversions, as in opencontainers/cgroups (runc).</summary>
public static class CgroupConversions
{
    /// <summary>
    /// cpu.shares [2..262144] → cpu.weight [1..10000], runc ≥ 1.3 (opencontainers/cgroups, runc PR #4785):
    /// a quadratic in log2 space which maps 2 → 1, 1024 → 100 and 262144 → 10000. 0 means unset.
    /// </summary>
    public static ulong CpuSharesToWeight(ulong shares)
    {
        if (shares == 0) return 0;
        if (shares <= 2) return 1;
        if (shares >= 262144) return 10000;
        var l = Math.Log2(shares);
        var exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
        return (ulong)Math.Ceiling(Math.Pow(10, exponent));
    }

    /// <summary>
    /// OCI swap is memory+swap; v2 memory.swap.max is swap only. -1 = max, 0 = unset (runc ConvertMemorySwapToCgroupV2Value).
    /// </summary>
    public static long MemorySwapToV2(long memorySwap, long memory)
    {
        if (memory == -1 && memorySwap == 0) return -1;
        if (memorySwap == -1 || memorySwap == 0) return memorySwap;
        if (memory == 0 || memory == -1)
            throw new CgroupException(ErrorKind.InvalidArgument, "invalid memory resources: unable to set swap limit without memory limit");
        if (memory < 0)
            throw new CgroupException(ErrorKind.InvalidArgument, $"invalid memory resources: invalid memory value {memory}");
        if (memorySwap < memory)
            throw new CgroupException(ErrorKind.InvalidArgument, $"invalid memory resources: memory+swap limit ({memorySwap}) should be >= memory limit ({memory})");
        return memorySwap - memory;
    }

    /// <summary>blkio.weight [10..1000] → io.weight [1..10000] (runc ConvertBlkIOToIOWeightValue).</summary>
    public static ulong BlkioWeightToIoWeight(ushort weight)
    {
        if (weight == 0) return 0;
        if (weight < 10) return 1;
        return 1 + ((ulong)weight - 10) * 9999 / 990;
    }
}
