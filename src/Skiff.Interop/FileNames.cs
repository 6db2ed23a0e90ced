using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Text;
using System.Text.Unicode;

namespace Skiff.Interop;

/// <summary>
/// File names as the kernel has them (bytes) carried in .NET strings without loss. Linux names are any bytes but
/// '/' and NUL, and a program in a container, or a layer from a registry (Go's archive/tar keeps names as bytes),
/// may use ones that are not UTF-8; .NET turns such bytes into U+FFFD, after which the file can be neither found
/// nor recreated. Here, as in Python's "surrogateescape", a byte that is not part of valid UTF-8 becomes the lone
/// low surrogate U+DC80..U+DCFF, which valid UTF-8 can never produce, and goes back to that byte when the name is
/// handed to the kernel (<see cref="FileNameMarshaller"/> on the path parameters of <see cref="Interop.Libc"/>).
/// Names that are UTF-8 are ordinary strings both ways.
/// </summary>
public static class FileNames
{
    private const char FirstEscape = '\uDC80';
    private const char LastEscape = '\uDCFF';

    /// <summary>The name for the bytes <paramref name="bytes"/>, escaping each byte that is not valid UTF-8.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
            return Encoding.UTF8.GetString(bytes);
        var builder = new StringBuilder(bytes.Length);
        Span<char> chars = stackalloc char[2];
        while (bytes.Length > 0)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out int used) == OperationStatus.Done)
            {
                builder.Append(chars[..rune.EncodeToUtf16(chars)]);
                bytes = bytes[used..];
            }
            else
            {
                builder.Append((char)(0xDC00 + bytes[0]));
                bytes = bytes[1..];
            }
        }
        return builder.ToString();
    }

    /// <summary>Whether <paramref name="name"/> holds escaped bytes, i.e. is not UTF-8 on disk.</summary>
    public static bool HasEscapes(ReadOnlySpan<char> name)
    {
        for (int i = name.IndexOfAnyInRange(FirstEscape, LastEscape); i >= 0; i = NextEscape(name, i + 1))
        {
            // A low surrogate right after a high one is half of a real character, not an escape.
            if (i == 0 || !char.IsHighSurrogate(name[i - 1]))
                return true;
        }
        return false;
    }

    private static int NextEscape(ReadOnlySpan<char> name, int from)
    {
        int next = name[from..].IndexOfAnyInRange(FirstEscape, LastEscape);
        return next < 0 ? -1 : from + next;
    }

    /// <summary>The most bytes <see cref="Encode"/> writes for <paramref name="name"/>.</summary>
    public static int MaxByteCount(string name) => Encoding.UTF8.GetMaxByteCount(name.Length);

    /// <summary>The bytes of <paramref name="name"/> (escapes back to the bytes they stand for).</summary>
    public static byte[] GetBytes(string name)
    {
        var buffer = new byte[MaxByteCount(name)];
        return buffer[..Encode(name, buffer)];
    }

    /// <summary>Writes the bytes of <paramref name="name"/> to <paramref name="destination"/>; returns how many.</summary>
    public static int Encode(ReadOnlySpan<char> name, Span<byte> destination)
    {
        if (!HasEscapes(name))
            return Encoding.UTF8.GetBytes(name, destination);
        int written = 0;
        while (name.Length > 0)
        {
            if (name[0] is >= FirstEscape and <= LastEscape)
            {
                destination[written++] = (byte)(name[0] - 0xDC00);
                name = name[1..];
                continue;
            }
            if (Rune.DecodeFromUtf16(name, out var rune, out int used) != OperationStatus.Done)
                rune = Rune.ReplacementChar;
            written += rune.EncodeToUtf8(destination[written..]);
            name = name[used..];
        }
        return written;
    }
}

/// <summary>
/// Passes a string path parameter as the NUL-terminated bytes <see cref="FileNames"/> gives it, on the stack when it
/// is short, as the built-in UTF-8 marshaller does.
/// </summary>
[CustomMarshaller(typeof(string), MarshalMode.ManagedToUnmanagedIn, typeof(ManagedToUnmanagedIn))]
public static unsafe class FileNameMarshaller
{
    public ref struct ManagedToUnmanagedIn
    {
        private byte* _bytes;
        private bool _allocated;

        public static int BufferSize => 0x100;

        public void FromManaged(string? managed, Span<byte> buffer)
        {
            if (managed is null)
            {
                _bytes = null;
                return;
            }
            int maximum = FileNames.MaxByteCount(managed) + 1;
            if (maximum > buffer.Length)
            {
                buffer = new Span<byte>(NativeMemory.Alloc((nuint)maximum), maximum);
                _allocated = true;
            }
            int length = FileNames.Encode(managed, buffer);
            buffer[length] = 0;
            // The caller-allocated buffer is on the stack (fixed); an allocated one is native memory.
            _bytes = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer));
        }

        public readonly byte* ToUnmanaged() => _bytes;

        public readonly void Free()
        {
            if (_allocated)
                NativeMemory.Free(_bytes);
        }
    }
}
