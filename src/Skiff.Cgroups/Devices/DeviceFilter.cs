using Skiff.Oci;

namespace Skiff.Cgroups;

/// <summary>
/// linux.resources.devices → a BPF_PROG_TYPE_CGROUP_DEVICE program, for cgroup v2 where there is no
/// devices controller. Same semantics and same instructions as runc (opencontainers/cgroups
/// devices/devicefilter.go, after crun's ebpf.c): the rules are first replayed through an emulation of
/// the cgroup v1 devices controller, so a config behaves the same on v1 and v2 (including the refusal
/// to punch a hole into a wildcard rule), and the resulting exceptions become one block each.
/// </summary>
public static class DeviceFilter
{
    // struct bpf_cgroup_dev_ctx: access_type = type | access << 16, then major, minor
    private const int DevBlock = 1, DevChar = 2;
    private const int AccessMknod = 1, AccessRead = 2, AccessWrite = 4, AccessAll = 7;
    private const long Wildcard = -1;

    // the opcodes the program uses (linux/bpf.h, bpf_common.h)
    private const byte LoadWord = 0x61;       // BPF_LDX | BPF_MEM | BPF_W
    private const byte AndImm32 = 0x54;       // BPF_ALU | BPF_AND | BPF_K
    private const byte RShImm32 = 0x74;       // BPF_ALU | BPF_RSH | BPF_K
    private const byte MovImm32 = 0xb4;       // BPF_ALU | BPF_MOV | BPF_K
    private const byte MovReg32 = 0xbc;       // BPF_ALU | BPF_MOV | BPF_X
    private const byte JumpNotEqualImm = 0x55; // BPF_JMP | BPF_JNE | BPF_K
    private const byte JumpNotEqualReg = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
    private const byte Exit = 0x95;           // BPF_JMP | BPF_EXIT

    /// <summary>The license the program is loaded under; no GPL-only helper is called.</summary>
    public const string License = "Apache";

    /// <summary>
    /// The program for <paramref name="rules"/> in order, one struct bpf_insn per element
    /// (code | dst &lt;&lt; 8 | src &lt;&lt; 12 | off &lt;&lt; 16 | imm &lt;&lt; 32). Throws <see cref="CgroupException"/> for
    /// rules cgroup v1 would not accept either.
    /// </summary>
    public static ulong[] Compile(IEnumerable<LinuxDeviceCgroup> rules)
    {
        var emulator = new V1Emulator();
        foreach (var rule in rules)
            emulator.Apply(rule);

        var program = new List<ulong>
        {
            Insn(LoadWord, dst: 2, src: 1, off: 0),
            Insn(AndImm32, dst: 2, imm: 0xFFFF),
            Insn(LoadWord, dst: 3, src: 1, off: 0),
            Insn(RShImm32, dst: 3, imm: 16),
            Insn(LoadWord, dst: 4, src: 1, off: 4),
            Insn(LoadWord, dst: 5, src: 1, off: 8),
        };
        // each exception is one block; its failed checks jump to the next block, patched once its start is known
        foreach (var ((type, major, minor), access) in emulator.Exceptions.OrderBy(e => e.Key.Major).ThenBy(e => e.Key.Minor).ThenBy(e => e.Key.Type))
        {
            var jumps = new List<int>();
            void JumpToNext(ulong instruction) { jumps.Add(program.Count); program.Add(instruction); }
            JumpToNext(Insn(JumpNotEqualImm, dst: 2, imm: type == 'b' ? DevBlock : DevChar));
            if (access != AccessAll)
            {
                program.Add(Insn(MovReg32, dst: 1, src: 3));
                program.Add(Insn(AndImm32, dst: 1, imm: access));
                JumpToNext(Insn(JumpNotEqualReg, dst: 1, src: 3));
            }
            if (major != Wildcard) JumpToNext(Insn(JumpNotEqualImm, dst: 4, imm: (int)major));
            if (minor != Wildcard) JumpToNext(Insn(JumpNotEqualImm, dst: 5, imm: (int)minor));
            program.Add(Insn(MovImm32, dst: 0, imm: emulator.DefaultAllow ? 0 : 1));
            program.Add(Insn(Exit));
            foreach (var jump in jumps)
                program[jump] |= (ulong)(ushort)(short)(program.Count - jump - 1) << 16;
        }
        program.Add(Insn(MovImm32, dst: 0, imm: emulator.DefaultAllow ? 1 : 0));
        program.Add(Insn(Exit));
        return [.. program];
    }

    private static ulong Insn(byte code, int dst = 0, int src = 0, short off = 0, int imm = 0)
        => code | (ulong)(byte)(dst | src << 4) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;

    /// <summary>The cgroup v1 devices controller's behaviour (runc's devices emulator): a default plus exceptions.</summary>
    private sealed class V1Emulator
    {
        public bool DefaultAllow { get; private set; }

        public Dictionary<(char Type, long Major, long Minor), int> Exceptions { get; } = new();

        public void Apply(LinuxDeviceCgroup rule)
        {
            var type = string.IsNullOrEmpty(rule.Type) ? 'a' : rule.Type[0];
            if (rule.Type is { Length: > 1 } || type is not ('a' or 'b' or 'c'))
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid device rule: type \"{rule.Type}\" is not one of a, b, c");
            if (type == 'a')
            {
                // "a" resets the cgroup to allow-all or deny-all, dropping every exception
                DefaultAllow = rule.Allow;
                Exceptions.Clear();
                return;
            }
            var key = (type, rule.Major ?? Wildcard, rule.Minor ?? Wildcard);
            if (key.Item2 > uint.MaxValue || key.Item3 > uint.MaxValue || key.Item2 < Wildcard || key.Item3 < Wildcard)
                throw new CgroupException(ErrorKind.InvalidArgument, $"invalid device rule: major/minor {rule.Major}:{rule.Minor} is out of range");
            var access = Access(rule.Access);
            if (rule.Allow == DefaultAllow)
                Remove(key, access, rule);
            else
                Exceptions[key] = Exceptions.GetValueOrDefault(key) | access;
        }

        private void Remove((char Type, long Major, long Minor) key, int access, LinuxDeviceCgroup rule)
        {
            foreach (var partial in new[] { (key.Type, Wildcard, key.Minor), (key.Type, key.Major, Wildcard), (key.Type, Wildcard, Wildcard) })
            {
                if (partial == key || (Exceptions.GetValueOrDefault(partial) & access) == 0) continue;
                throw new CgroupException(ErrorKind.InvalidArgument, 
                    $"invalid device rule: {(rule.Allow ? "allow" : "deny")} {Describe(key)} {rule.Access} would punch a hole in the earlier wildcard rule {Describe(partial)}, which cgroup v1 cannot do and v2 follows");
            }
            var left = Exceptions.GetValueOrDefault(key) & ~access;
            if (left == 0) Exceptions.Remove(key);
            else Exceptions[key] = left;
        }

        private static string Describe((char Type, long Major, long Minor) key)
            => $"{key.Type} {(key.Major == Wildcard ? "*" : key.Major)}:{(key.Minor == Wildcard ? "*" : key.Minor)}";

        private static int Access(string? text)
        {
            if (string.IsNullOrEmpty(text)) return AccessAll;
            var access = 0;
            foreach (var c in text)
                access |= c switch
                {
                    'r' => AccessRead,
                    'w' => AccessWrite,
                    'm' => AccessMknod,
                    _ => throw new CgroupException(ErrorKind.InvalidArgument, $"invalid device rule: access \"{text}\" is not a combination of r, w, m"),
                };
            return access;
        }
    }
}
