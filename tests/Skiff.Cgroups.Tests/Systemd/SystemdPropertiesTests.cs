using Skiff.Cgroups.Systemd;
using Skiff.Oci;

namespace Skiff.Cgroups.Tests.Systemd;

public sealed class SystemdPropertiesTests
{
    private static Dictionary<string, object> Props(LinuxResources r, CgroupMode mode) =>
        SystemdProperties.FromResources(r, mode).ToDictionary(p => p.Name, p => p.Value.Value);

    [Fact]
    public void A_new_scope_is_delegated_in_its_slice_with_the_pid()
    {
        var unit = SystemdUnit.Parse("c1", "machine.slice:skiff:c1");
        var props = SystemdProperties.ForNewUnit(unit, 4242, CgroupMode.Hybrid).ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(new DBusVariant("s", "machine.slice"), props["Slice"]);
        Assert.Equal(true, props["Delegate"].Value);
        Assert.Equal(false, props["DefaultDependencies"].Value);
        Assert.Equal("au", props["PIDs"].Signature);
        Assert.Equal([4242u], (IEnumerable<object>)props["PIDs"].Value);
        Assert.Equal("skiff container skiff-c1.scope", props["Description"].Value);
        Assert.True(props.ContainsKey("BlockIOAccounting"));
        Assert.Contains(SystemdProperties.ForNewUnit(unit, 1, CgroupMode.V2), p => p.Name == "IOAccounting");
    }

    [Fact]
    public void A_new_slice_wants_its_parent_and_has_no_pids()
    {
        var unit = SystemdUnit.Parse("c1", "system.slice:x:system-box.slice");
        var names = SystemdProperties.ForNewUnit(unit, 1, CgroupMode.V2).Select(p => p.Name).ToList();
        Assert.Contains("Wants", names);
        Assert.DoesNotContain("PIDs", names);
        Assert.DoesNotContain("Delegate", names);
    }

    [Fact]
    public void V1_resources_become_the_legacy_properties()
    {
        var props = Props(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 32 << 20 },
            CPU = new LinuxCPU { Shares = 512, Quota = 50_000, Period = 100_000, Cpus = "0-1", Mems = "0" },
            Pids = new LinuxPids { Limit = 64 },
            BlockIO = new LinuxBlockIO { Weight = 300 },
        }, CgroupMode.Hybrid);
        Assert.Equal(32UL << 20, props["MemoryLimit"]);
        Assert.Equal(512UL, props["CPUShares"]);
        Assert.Equal(100_000UL, props["CPUQuotaPeriodUSec"]);
        Assert.Equal(500_000UL, props["CPUQuotaPerSecUSec"]);
        Assert.Equal(64UL, props["TasksMax"]);
        Assert.Equal(300UL, props["BlockIOWeight"]);
        Assert.Equal(new byte[] { 0b11 }, props["AllowedCPUs"]);
        Assert.Equal(new byte[] { 1 }, props["AllowedMemoryNodes"]);
        Assert.DoesNotContain("MemoryMax", props.Keys);
    }

    [Fact]
    public void V2_resources_are_converted()
    {
        var props = Props(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 64 << 20, Swap = 96 << 20, Reservation = 16 << 20 },
            CPU = new LinuxCPU { Shares = 1024 },
            BlockIO = new LinuxBlockIO { Weight = 500 },
        }, CgroupMode.V2);
        Assert.Equal(64UL << 20, props["MemoryMax"]);
        Assert.Equal(32UL << 20, props["MemorySwapMax"]); // memory+swap → swap only
        Assert.Equal(16UL << 20, props["MemoryLow"]);
        Assert.Equal(100UL, props["CPUWeight"]);
        Assert.Equal(CgroupConversions.BlkioWeightToIoWeight(500), props["IOWeight"]);
        Assert.DoesNotContain("MemoryLimit", props.Keys);
        Assert.DoesNotContain("CPUShares", props.Keys);
    }

    [Fact]
    public void Unlimited_is_infinity_and_unset_is_absent()
    {
        var props = Props(new LinuxResources { Memory = new LinuxMemory { Limit = -1 }, Pids = new LinuxPids { Limit = -1 } }, CgroupMode.V2);
        Assert.Equal(ulong.MaxValue, props["MemoryMax"]);
        Assert.Equal(ulong.MaxValue, props["MemorySwapMax"]);
        Assert.Equal(ulong.MaxValue, props["TasksMax"]);
        Assert.Empty(Props(new LinuxResources { Pids = new LinuxPids { Limit = 0 }, Memory = new LinuxMemory() }, CgroupMode.V2));
        Assert.Empty(SystemdProperties.FromResources(null, CgroupMode.V1));
    }

    [Theory]
    [InlineData(50_000L, 100_000UL, 500_000UL)]
    [InlineData(12_345L, 100_000UL, 130_000UL)] // 123450 µs/s rounds up to whole percent
    [InlineData(20_000L, 0UL, 200_000UL)] // default period
    [InlineData(-1L, 100_000UL, ulong.MaxValue)]
    public void Cpu_quota_becomes_per_second_rounded_up_to_a_percent(long quota, ulong period, ulong expected)
    {
        var props = Props(new LinuxResources { CPU = new LinuxCPU { Quota = quota, Period = period } }, CgroupMode.V1);
        Assert.Equal(expected, props["CPUQuotaPerSecUSec"]);
    }

    [Theory]
    [InlineData("0", new byte[] { 1 })]
    [InlineData("0-2,7", new byte[] { 0b1000_0111 })]
    [InlineData("8", new byte[] { 0, 1 })]
    [InlineData(" 1 , 9-10,", new byte[] { 2, 6 })]
    public void Cpu_lists_become_little_endian_masks(string list, byte[] expected) =>
        Assert.Equal(expected, SystemdProperties.RangeToBits(list, "cpus"));

    [Theory]
    [InlineData("3-1")]
    [InlineData("a")]
    [InlineData(",")]
    public void Bad_cpu_lists_are_errors(string list)
    {
        var e = Assert.Throws<CgroupException>(() => SystemdProperties.RangeToBits(list, "cpus"));
        Assert.Contains($"cpus \"{list}\"", e.Message);
    }
}
