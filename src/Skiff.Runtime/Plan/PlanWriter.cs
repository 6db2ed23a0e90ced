using System.Buffers.Binary;
using System.Text;

namespace Skiff.Runtime.Plan;

/// <summary>
/// Encodes the flat operation list that skiff-init executes. The byte layout is defined
/// once, in native/stage0/plan.h; this writer and that header must change together
/// (bump <see cref="Version"/> and PLAN_VERSION).
/// </summary>
public sealed class PlanWriter
{
    public const uint Magic = 0x534b4950;
    public const uint Version = 3;

    private readonly MemoryStream _records = new();
    private uint _count;

    public int Count => (int)_count;

    public PlanWriter Add(PlanOp op, ReadOnlySpan<ulong> ints, params ReadOnlySpan<string> strings)
    {
        int stringBytes = 0;
        foreach (var s in strings)
        {
            if (s.Contains('\0'))
                throw new ArgumentException($"plan string for {op} contains a NUL byte", nameof(strings));
            stringBytes += Encoding.UTF8.GetByteCount(s) + 1;
        }
        int size = Align8(16 + ints.Length * 8 + stringBytes);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)op);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)ints.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)strings.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)size);
        int offset = 16;
        foreach (var value in ints)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], value);
            offset += 8;
        }
        foreach (var s in strings)
        {
            offset += Encoding.UTF8.GetBytes(s, span[offset..]);
            span[offset++] = 0;
        }
        _records.Write(buffer);
        _count++;
        return this;
    }

    public PlanWriter Add(PlanOp op, params ReadOnlySpan<string> strings) => Add(op, ReadOnlySpan<ulong>.Empty, strings);

    public PlanWriter Add(PlanOp op, ulong value) => Add(op, [value]);

    public byte[] ToArray()
    {
        var result = new byte[16 + _records.Length];
        var span = result.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], _count);
        _records.GetBuffer().AsSpan(0, (int)_records.Length).CopyTo(span[16..]);
        return result;
    }

    private static int Align8(int n) => (n + 7) & ~7;
}

/// <summary>Operation codes; values and argument shapes are documented in native/stage0/plan.h.</summary>
public enum PlanOp : uint
{
    Mode = 1,
    SyncFd = 2,
    PreserveFds = 3,
    AwaitGo = 4,
    CgroupProcs = 10,
    JoinNamespace = 11,
    CloneFlags = 12,
    TimeOffsets = 13,
    UidMap = 14,
    GidMap = 15,
    SetgroupsDeny = 16,
    CgroupCloneInto = 17,
    Rootfs = 20,
    Mount = 21,
    Device = 22,
    Symlink = 23,
    Hooks = 24,
    Pivot = 25,
    Mask = 26,
    Readonly = 27,
    RemountReadonly = 28,
    Sysctl = 29,
    Hostname = 30,
    Domainname = 31,
    Console = 32,
    Setsid = 33,
    Rlimit = 34,
    OomScoreAdj = 35,
    IoPriority = 36,
    Scheduler = 37,
    Personality = 38,
    Cwd = 39,
    Hook = 40,
    FileLabel = 41,
    MountSetattr = 42,
    User = 50,
    Capabilities = 51,
    NoNewPrivileges = 52,
    Seccomp = 53,
    Env = 54,
    Args = 55,
    ExecFifo = 56,
    ExecLabel = 57,
}

/// <summary>Message types on the sync socket (struct sync_msg in plan.h, 512 bytes).</summary>
public enum SyncType : uint
{
    Pid = 1,
    Hooks = 2,
    Ready = 3,
    Error = 4,
    Continue = 5,
    SeccompListener = 6,
}
