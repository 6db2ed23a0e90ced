using System.Diagnostics;
using Skiff.Cgroups;
using Skiff.Interop;
using Skiff.Oci;
using static Skiff.Interop.Interop;

namespace Skiff.Cgroups.Tests;

public sealed class DeviceFilterTests
{
    private static LinuxDeviceCgroup Rule(bool allow, string type, long? major, long? minor, string access)
        => new() { Allow = allow, Type = type, Major = major, Minor = minor, Access = access };

    /// <summary>runc's AllowedDevices (specconv), as in runc's TestDeviceFilter_BuiltInAllowList.</summary>
    private static readonly LinuxDeviceCgroup[] RuncAllowedDevices =
    [
        Rule(true, "c", null, null, "m"), Rule(true, "b", null, null, "m"),
        Rule(true, "c", 1, 3, "rwm"), Rule(true, "c", 1, 8, "rwm"), Rule(true, "c", 1, 7, "rwm"), Rule(true, "c", 5, 0, "rwm"),
        Rule(true, "c", 1, 5, "rwm"), Rule(true, "c", 1, 9, "rwm"), Rule(true, "c", 136, null, "rwm"), Rule(true, "c", 5, 2, "rwm"),
        Rule(true, "c", 10, 200, "rwm"),
    ];

    private const string Prologue = """
        ldxw r2, [r1+0]
        and32 r2, 65535
        ldxw r3, [r1+0]
        rsh32 r3, 16
        ldxw r4, [r1+4]
        ldxw r5, [r1+8]
        """;

    [Fact]
    public void No_rules_deny_everything()
        => Assert.Equal(Prologue + "\nmov32 r0, 0\nexit", Disassemble(DeviceFilter.Compile([])));

    [Fact]
    public void Runcs_built_in_allow_list_gives_runcs_program()
    {
        // runc's expected listing, with its symbolic <block-N> targets as absolute instruction numbers
        const string blocks = """
            jne r2, 1, ->12
            mov32 r1, r3
            and32 r1, 1
            jne r1, r3, ->12
            mov32 r0, 1
            exit
            jne r2, 2, ->18
            mov32 r1, r3
            and32 r1, 1
            jne r1, r3, ->18
            mov32 r0, 1
            exit
            jne r2, 2, ->23
            jne r4, 1, ->23
            jne r5, 3, ->23
            mov32 r0, 1
            exit
            jne r2, 2, ->28
            jne r4, 1, ->28
            jne r5, 5, ->28
            mov32 r0, 1
            exit
            jne r2, 2, ->33
            jne r4, 1, ->33
            jne r5, 7, ->33
            mov32 r0, 1
            exit
            jne r2, 2, ->38
            jne r4, 1, ->38
            jne r5, 8, ->38
            mov32 r0, 1
            exit
            jne r2, 2, ->43
            jne r4, 1, ->43
            jne r5, 9, ->43
            mov32 r0, 1
            exit
            jne r2, 2, ->48
            jne r4, 5, ->48
            jne r5, 0, ->48
            mov32 r0, 1
            exit
            jne r2, 2, ->53
            jne r4, 5, ->53
            jne r5, 2, ->53
            mov32 r0, 1
            exit
            jne r2, 2, ->58
            jne r4, 10, ->58
            jne r5, 200, ->58
            mov32 r0, 1
            exit
            jne r2, 2, ->62
            jne r4, 136, ->62
            mov32 r0, 1
            exit
            mov32 r0, 0
            exit
            """;
        Assert.Equal(Prologue + "\n" + blocks, Disassemble(DeviceFilter.Compile(RuncAllowedDevices)));
    }

    [Fact]
    public void Allow_all_except_one_device_rejects_only_that_one()
        => Assert.Equal(Prologue + """

            jne r2, 1, ->11
            jne r4, 8, ->11
            jne r5, 0, ->11
            mov32 r0, 0
            exit
            mov32 r0, 1
            exit
            """, Disassemble(DeviceFilter.Compile([Rule(true, "a", null, null, "rwm"), Rule(false, "b", 8, 0, "rwm")])));

    [Fact]
    public void A_wildcard_rule_resets_what_came_before_as_on_cgroup_v1()
    {
        // runc's TestDeviceFilter_Weird: 8:1 is allowed again by "a", only 8:2 stays denied
        var program = DeviceFilter.Compile([Rule(false, "b", 8, 1, "rwm"), Rule(true, "a", null, null, "rwm"), Rule(false, "b", 8, 2, "rwm")]);
        Assert.Contains("jne r5, 2, ->11", Disassemble(program));
        Assert.DoesNotContain("jne r5, 1,", Disassemble(program));
    }

    [Fact]
    public void Punching_a_hole_in_a_wildcard_rule_is_refused_as_v1_refuses_it()
    {
        var e = Assert.Throws<CgroupException>(() => DeviceFilter.Compile([Rule(false, "a", null, null, "rwm"), Rule(true, "c", null, null, "rwm"), Rule(false, "c", 1, 3, "r")]));
        Assert.Contains("deny c 1:3 r would punch a hole in the earlier wildcard rule c *:*", e.Message);
    }

    [Theory]
    [InlineData("x", "rwm", "type \"x\"")]
    [InlineData("c", "rwx", "access \"rwx\"")]
    public void Unknown_types_and_access_are_refused(string type, string access, string expected)
        => Assert.Contains(expected, Assert.Throws<CgroupException>(() => DeviceFilter.Compile([Rule(true, type, 1, 3, access)])).Message);

    [RootFact]
    public void The_kernel_verifier_accepts_the_programs()
    {
        foreach (var rules in new[] { [], RuncAllowedDevices, new[] { Rule(true, "a", null, null, "rwm"), Rule(false, "b", 8, 0, "rw") } })
        {
            using var program = Bpf.LoadProgram(Bpf.ProgTypeCgroupDevice, DeviceFilter.Compile(rules), DeviceFilter.License);
            Assert.False(program.IsInvalid);
        }
    }

    [RootCgroup2Fact]
    public void Attached_to_a_cgroup2_directory_the_program_denies_a_device_and_allows_another()
    {
        var dir = Path.Combine(RootCgroup2FactAttribute.Mount!, "skiff-test-bpf-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            // the runtime's own list (deny all, then runc's defaults): /dev/zero is allowed, /dev/loop-control is not
            CgroupFileSystem.Host.AttachDeviceFilter(dir, DeviceFilter.Compile([Rule(false, "a", null, null, "rwm"), .. RuncAllowedDevices]));
            // a second apply (update) replaces the program instead of stacking a second one
            CgroupFileSystem.Host.AttachDeviceFilter(dir, DeviceFilter.Compile([Rule(false, "a", null, null, "rwm"), .. RuncAllowedDevices]));
            using (var dirFd = FileDescriptor.Wrap(Libc.Open(dir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", dir))
                Assert.Single(Bpf.AttachedPrograms(dirFd, Bpf.AttachCgroupDevice, dir));

            var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"echo $$ > {dir}/cgroup.procs && head -c 3 /dev/zero | wc -c && : < /dev/loop-control; echo loop-control=$?");
            using var shell = System.Diagnostics.Process.Start(info)!;
            var output = shell.StandardOutput.ReadToEnd() + shell.StandardError.ReadToEnd();
            shell.WaitForExit();
            Assert.Contains("3\n", output);
            Assert.Contains("/dev/loop-control: Operation not permitted", output);
            Assert.DoesNotContain("loop-control=0", output);
        }
        finally
        {
            for (var i = 0; i < 50 && Directory.Exists(dir); i++)
            {
                try { Directory.Delete(dir); }
                catch (IOException) { Thread.Sleep(20); } // the shell may still be leaving it
            }
        }
    }

    /// <summary>A small listing of the opcodes DeviceFilter emits, jump targets as absolute indexes.</summary>
    private static string Disassemble(ulong[] program)
    {
        var lines = new List<string>();
        for (var i = 0; i < program.Length; i++)
        {
            var insn = program[i];
            var code = (byte)insn;
            var dst = (int)(insn >> 8) & 0xf;
            var src = (int)(insn >> 12) & 0xf;
            var off = (short)(ushort)(insn >> 16);
            var imm = (int)(uint)(insn >> 32);
            lines.Add(code switch
            {
                0x61 => $"ldxw r{dst}, [r{src}+{off}]",
                0x54 => $"and32 r{dst}, {imm}",
                0x74 => $"rsh32 r{dst}, {imm}",
                0xb4 => $"mov32 r{dst}, {imm}",
                0xbc => $"mov32 r{dst}, r{src}",
                0x55 => $"jne r{dst}, {imm}, ->{i + 1 + off}",
                0x5d => $"jne r{dst}, r{src}, ->{i + 1 + off}",
                0x95 => "exit",
                _ => $"unknown 0x{code:x2}",
            });
        }
        return string.Join('\n', lines);
    }
}

public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!RootV1CgroupFactAttribute.IsRoot()) Skip = "needs root";
    }
}

/// <summary>Root and a mounted cgroup2 hierarchy (pure v2, or the unified one of a hybrid host).</summary>
public sealed class RootCgroup2FactAttribute : FactAttribute
{
    public static string? Mount { get; } = File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(" - "))
        .Where(p => p.Length == 2 && p[1].StartsWith("cgroup2 ", StringComparison.Ordinal)).Select(p => p[0].Split(' ')[4]).FirstOrDefault();

    public RootCgroup2FactAttribute()
    {
        if (!RootV1CgroupFactAttribute.IsRoot()) Skip = "needs root";
        else if (Mount is null) Skip = "needs a mounted cgroup2 hierarchy";
    }
}
