using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>
/// Random bytes from the kernel (getrandom). System.Security.Cryptography's generator loads and initialises
/// OpenSSL on first use, about 3 ms of every `skiff run` that only needs a container id.
/// </summary>
public static class SecureRandom
{
    public static void Fill(Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            long got = Interop.Libc.GetRandom(buffer);
            if (got < 0 && Errno.Last == Errno.EINTR)
                continue;
            Errno.Check(got, "getrandom");
            buffer = buffer[(int)got..];
        }
    }

    public static byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    /// <summary>Uniform in [0, exclusiveMax): values from the incomplete last stretch of the 32-bit range are drawn again.</summary>
    public static int Below(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        uint limit = uint.MaxValue - (uint.MaxValue % (uint)exclusiveMax);
        Span<byte> word = stackalloc byte[4];
        while (true)
        {
            Fill(word);
            uint value = MemoryMarshal.Read<uint>(word);
            if (value < limit)
                return (int)(value % (uint)exclusiveMax);
        }
    }
}

public static unsafe partial class Interop
{
    public static partial class Libc
    {
        [LibraryImport(LibC, EntryPoint = "getrandom", SetLastError = true)]
        private static partial nint GetRandom(byte* buffer, nuint length, uint flags);

        public static long GetRandom(Span<byte> buffer)
        {
            fixed (byte* pointer = buffer)
                return GetRandom(pointer, (nuint)buffer.Length, 0);
        }
    }
}
