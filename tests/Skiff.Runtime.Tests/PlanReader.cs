using System.Buffers.Binary;
using System.Text;
using Skiff.Runtime.Plan;

namespace Skiff.Runtime.Tests;

/// <summary>Decodes a plan the way skiff-init does (plan.h), so tests can assert on operations.</summary>
public sealed record PlanRecord(PlanOp Op, ulong[] Ints, string[] Strings);

public static class PlanReader
{
    public static List<PlanRecord> Read(byte[] plan)
    {
        var span = plan.AsSpan();
        Assert.Equal(PlanWriter.Magic, BinaryPrimitives.ReadUInt32LittleEndian(span));
        Assert.Equal(PlanWriter.Version, BinaryPrimitives.ReadUInt32LittleEndian(span[4..]));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        var records = new List<PlanRecord>();
        int offset = 16;
        for (int i = 0; i < count; i++)
        {
            var record = span[offset..];
            var op = (PlanOp)BinaryPrimitives.ReadUInt32LittleEndian(record);
            int nints = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
            int nstrs = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[8..]);
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
            Assert.Equal(0, size % 8);
            var ints = new ulong[nints];
            for (int j = 0; j < nints; j++)
                ints[j] = BinaryPrimitives.ReadUInt64LittleEndian(record[(16 + j * 8)..]);
            var strings = new string[nstrs];
            int position = 16 + nints * 8;
            for (int j = 0; j < nstrs; j++)
            {
                int end = record[position..size].IndexOf((byte)0);
                Assert.True(end >= 0, "string is not NUL-terminated inside its record");
                strings[j] = Encoding.UTF8.GetString(record.Slice(position, end));
                position += end + 1;
            }
            records.Add(new PlanRecord(op, ints, strings));
            offset += size;
        }
        Assert.Equal(plan.Length, offset);
        return records;
    }
}
