namespace Skiff.Network.Cni;

/// <summary>
/// A CNI failure said in one sentence: an invalid network configuration, a missing plugin, or a plugin's error result,
/// whose CNI error code (SPEC.md section 5, "Error") is kept so a caller can tell "try again later" (11) from the rest.
/// </summary>
public sealed class CniException : SkiffException
{
    public CniException(ErrorKind kind, string message, Exception? inner = null, string? plugin = null, int? code = null)
        : base(kind, message, inner)
    {
        Plugin = plugin;
        Code = code;
    }

    /// <summary>The plugin (its <c>type</c>) that failed, when one did.</summary>
    public string? Plugin { get; }

    /// <summary>The code of the plugin's error result, when it printed one.</summary>
    public int? Code { get; }

    /// <summary>
    /// The kind of a plugin error code: the reserved codes that say the configuration is wrong, that the container is
    /// gone, or that retrying may work; everything else (and every plugin-specific code, 100 and up) is Internal.
    /// </summary>
    internal static ErrorKind KindOf(int? code) => code switch
    {
        1 => ErrorKind.FailedPrecondition, // incompatible CNI version: the plugin is older than the configuration
        2 or 6 or 7 => ErrorKind.InvalidArgument,
        3 => ErrorKind.NotFound,
        11 or 50 or 51 => ErrorKind.Unavailable,
        _ => ErrorKind.Internal,
    };
}
