namespace Skiff.Network.Cni;

/// <summary>The CNI specification versions Skiff speaks, and the version-gated parts of the protocol.</summary>
internal static class CniVersions
{
    public static readonly IReadOnlyList<string> Known = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    public static bool IsKnown(string version) => Known.Contains(version, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="version"/> (a known one) is at least <paramref name="minimum"/>.</summary>
    public static bool AtLeast(string version, string minimum) => Version.Parse(version) >= Version.Parse(minimum);

    /// <summary>
    /// Whether the version has CHECK and gives DEL the cached result as prevResult: both came with 0.4.0, and older
    /// plugins reject them.
    /// </summary>
    public static bool UsesCachedResult(string version) => AtLeast(version, "0.4.0");

    /// <summary>STATUS came with 1.1.0; for older configurations the spec (and libcni) treat the network as ready.</summary>
    public static bool HasStatus(string version) => AtLeast(version, "1.1.0");
}
