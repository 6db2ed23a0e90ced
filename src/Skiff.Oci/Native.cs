using System.Runtime.InteropServices;

namespace Skiff.Oci;

internal static partial class Native
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    internal static partial uint GetEgid();
}
