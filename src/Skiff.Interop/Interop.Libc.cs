using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>
/// libc entry points, grouped in files by subject (Interop.Descriptors.cs, Interop.Processes.cs, ...). Only this
/// project declares P/Invokes, so every constant and struct layout that depends on the architecture is in one place.
/// </summary>
public static unsafe partial class Interop
{
    public static partial class Libc
    {
        private const string LibC = "libc.so.6";

        /// <summary>syscall(2), for calls glibc does not wrap; numbers above 403 are the same on every architecture.</summary>
        [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
        public static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5);
    }
}
