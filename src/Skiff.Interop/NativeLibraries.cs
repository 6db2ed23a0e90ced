using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>Whether an optional shared library can be loaded, so that its absence is a sentence naming the package instead of a DllNotFoundException.</summary>
internal static class NativeLibraries
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<string> Present = [];

    public static bool IsPresent(string library)
    {
        lock (Gate)
        {
            if (Present.Contains(library))
                return true;
            if (!NativeLibrary.TryLoad(library, typeof(NativeLibraries).Assembly, null, out var loaded))
                return false;
            NativeLibrary.Free(loaded);
            Present.Add(library);
            return true;
        }
    }
}
