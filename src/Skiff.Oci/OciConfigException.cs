namespace Skiff.Oci;

/// <summary>A user-facing configuration error. <see cref="Exception.Message"/> is one line, naming the file
/// and/or field, suitable for printing as-is (e.g. <c>config.json: $.process.args: expected an array of strings</c>).</summary>
public sealed class OciConfigException : SkiffException
{
    public OciConfigException(string message) : base(ErrorKind.InvalidArgument, message) { }

    public OciConfigException(string message, Exception? inner) : base(ErrorKind.InvalidArgument, message, inner) { }

    /// <summary>A configuration that cannot be read at all (missing, unreadable) rather than one that is wrong.</summary>
    public OciConfigException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }

    /// <summary>All problems found, when more than one was collected (the message names the first).</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
}
