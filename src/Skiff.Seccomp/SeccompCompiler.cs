using Skiff.Interop;
using Skiff.Oci;
using Libseccomp = Skiff.Interop.Interop.Seccomp;
using static Skiff.Interop.Interop;

namespace Skiff.Seccomp;

/// <summary>A compiled filter: seccomp(2) flags and the classic-BPF program (one sock_filter per element).</summary>
public sealed record SeccompProgram(ulong Flags, ulong[] Instructions);

/// <summary>
/// linux.seccomp → BPF, through libseccomp (see <see cref="Libseccomp"/> for why not our own
/// compiler). Semantics follow runc: unknown syscall names are skipped (a profile written for
/// a newer kernel must still load), rules whose action equals the default are dropped (libseccomp
/// refuses them), and conditions on the same argument index become separate rules (libseccomp
/// can only AND conditions on distinct arguments).
/// </summary>
public static class SeccompCompiler
{
    private const uint ActKillProcess = 0x80000000, ActKillThread = 0x00000000, ActTrap = 0x00030000,
        ActErrnoBase = 0x00050000, ActTraceBase = 0x7ff00000, ActLog = 0x7ffc0000, ActAllow = 0x7fff0000, ActNotify = 0x7fc00000;
    /// <summary>seccomp(2) returns the notify fd; skiff-init hands it to the runtime for linux.seccomp.listenerPath.</summary>
    public const ulong FlagNewListener = 8;
    private const int AttrNoNewPrivs = 3; // SCMP_FLTATR_CTL_NNP: skiff-init sets no_new_privs itself when asked

    private static readonly Dictionary<string, ulong> FlagBits = new()
    {
        ["SECCOMP_FILTER_FLAG_TSYNC"] = 1,
        ["SECCOMP_FILTER_FLAG_LOG"] = 2,
        ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] = 4,
        ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] = 32,
    };

    private static readonly Dictionary<string, int> Operators = new()
    {
        ["SCMP_CMP_NE"] = 1, ["SCMP_CMP_LT"] = 2, ["SCMP_CMP_LE"] = 3, ["SCMP_CMP_EQ"] = 4,
        ["SCMP_CMP_GE"] = 5, ["SCMP_CMP_GT"] = 6, ["SCMP_CMP_MASKED_EQ"] = 7,
    };

    public static unsafe SeccompProgram Compile(LinuxSeccomp profile, Action<string>? debug = null)
    {
        uint defaultAction = Action(profile.DefaultAction, profile.DefaultErrnoRet, "linux.seccomp.defaultAction");
        ulong flags = 0;
        foreach (var flag in profile.Flags ?? [])
            flags |= FlagBits.TryGetValue(flag, out var bit) ? bit
                : throw new SeccompException($"linux.seccomp.flags: unknown flag \"{flag}\"");
        if (profile.DefaultAction == SeccompNames.ActNotify)
            throw new SeccompException("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the container could not even hand over the listener fd)");
        if (UsesNotify(profile))
        {
            if (string.IsNullOrEmpty(profile.ListenerPath))
                throw new SeccompException("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
            flags |= FlagNewListener;
        }

        nint context = Libseccomp.Init(defaultAction);
        if (context == 0)
            throw new SeccompException($"linux.seccomp.defaultAction: libseccomp rejected \"{profile.DefaultAction}\"");
        try
        {
            Check(Libseccomp.AttrSet(context, AttrNoNewPrivs, 0), "disable libseccomp's own no_new_privs");
            foreach (var arch in profile.Architectures ?? [])
                AddArchitecture(context, arch);
            foreach (var rule in profile.Syscalls ?? [])
                AddRule(context, rule, defaultAction, debug);
            return new SeccompProgram(flags, Export(context));
        }
        finally
        {
            Libseccomp.Release(context);
        }
    }

    private static bool UsesNotify(LinuxSeccomp profile) => (profile.Syscalls ?? []).Any(s => s.Action == SeccompNames.ActNotify);

    private static uint Action(string name, uint? errnoRet, string field) => name switch
    {
        SeccompNames.ActKill or SeccompNames.ActKillThread => ActKillThread,
        SeccompNames.ActKillProcess => ActKillProcess,
        SeccompNames.ActTrap => ActTrap,
        SeccompNames.ActErrno => ActErrnoBase | ((errnoRet ?? 1 /* EPERM */) & 0xffff),
        SeccompNames.ActTrace => ActTraceBase | ((errnoRet ?? 1) & 0xffff),
        SeccompNames.ActAllow => ActAllow,
        SeccompNames.ActLog => ActLog,
        SeccompNames.ActNotify => ActNotify,
        _ => throw new SeccompException($"{field}: unknown action \"{name}\""),
    };

    private static void AddArchitecture(nint context, string name)
    {
        if (!name.StartsWith("SCMP_ARCH_", StringComparison.Ordinal))
            throw new SeccompException($"linux.seccomp.architectures: unknown architecture \"{name}\"");
        uint token = Libseccomp.ArchResolveName(name["SCMP_ARCH_".Length..].ToLowerInvariant());
        if (token == 0)
            throw new SeccompException($"linux.seccomp.architectures: libseccomp does not know \"{name}\"");
        int result = Libseccomp.ArchAdd(context, token);
        // EEXIST: the native architecture is in every new context already.
        if (result != 0 && result != -Errno.EEXIST)
            throw new SeccompException($"linux.seccomp.architectures: cannot add {name}: {SyscallException.Describe(-result)}");
    }

    private static unsafe void AddRule(nint context, LinuxSyscall rule, uint defaultAction, Action<string>? debug)
    {
        uint action = Action(rule.Action, rule.ErrnoRet, "linux.seccomp.syscalls[].action");
        var conditions = new List<Libseccomp.ArgCompare>();
        foreach (var arg in rule.Args ?? [])
        {
            if (!Operators.TryGetValue(arg.Op, out var op))
                throw new SeccompException($"linux.seccomp.syscalls[].args: unknown operator \"{arg.Op}\"");
            if (arg.Index > 5)
                throw new SeccompException($"linux.seccomp.syscalls[].args: argument index {arg.Index} is above 5");
            conditions.Add(new Libseccomp.ArgCompare { Argument = arg.Index, Operator = op, DatumA = arg.Value, DatumB = arg.ValueTwo });
        }
        if (action == defaultAction)
            return;
        bool repeatedIndex = conditions.Select(c => c.Argument).Distinct().Count() != conditions.Count;
        foreach (var name in rule.Names ?? [])
        {
            int number = Libseccomp.SyscallResolveName(name);
            if (number == Libseccomp.NrError)
            {
                debug?.Invoke($"seccomp: skipping unknown syscall \"{name}\"");
                continue;
            }
            if (repeatedIndex)
            {
                foreach (var condition in conditions)
                {
                    var single = condition;
                    AddOne(context, action, number, name, &single, 1);
                }
                continue;
            }
            var array = conditions.ToArray();
            fixed (Libseccomp.ArgCompare* pointer = array)
                AddOne(context, action, number, name, pointer, (uint)array.Length);
        }
    }

    private static unsafe void AddOne(nint context, uint action, int number, string name, Libseccomp.ArgCompare* conditions, uint count)
    {
        int result = Libseccomp.RuleAddArray(context, action, number, count, conditions);
        if (result != 0)
            throw new SeccompException($"linux.seccomp.syscalls: cannot add a rule for {name}: {SyscallException.Describe(-result)}");
    }

    private static unsafe ulong[] Export(nint context)
    {
        using var memfd = FileDescriptor.Wrap(Libc.MemfdCreate("skiff-seccomp", Libc.MFD_CLOEXEC), "memfd_create", "seccomp program");
        Check(Libseccomp.ExportBpf(context, memfd.Fd), "export the BPF program");
        long size = Libc.Lseek(memfd.Fd, 0, 2 /* SEEK_END */);
        Libc.Lseek(memfd.Fd, 0, 0);
        // struct sock_filter is 8 bytes, laid out little endian exactly as the plan's u64 (code | jt<<16 | jf<<24 | k<<32).
        var program = new ulong[size / 8];
        fixed (ulong* buffer = program)
        {
            long done = 0;
            while (done < size)
            {
                nint n = Libc.Read(memfd.Fd, (byte*)buffer + done, (nint)(size - done));
                if (n <= 0)
                    throw new SeccompException(ErrorKind.Internal, "cannot read back the exported seccomp program");
                done += n;
            }
        }
        return program;
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
            throw new SeccompException(ErrorKind.Internal, $"linux.seccomp: cannot {what}: {SyscallException.Describe(-result)}");
    }
}

/// <summary>A seccomp profile that cannot be compiled; the message names the field.</summary>
public sealed class SeccompException : SkiffException
{
    /// <summary>Of kind InvalidArgument: the profile is wrong.</summary>
    public SeccompException(string message, Exception? inner = null) : base(ErrorKind.InvalidArgument, message, inner) { }

    public SeccompException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
