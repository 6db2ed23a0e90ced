namespace Skiff.Oci;

/// <summary>A user-facing configuration error. <see cref="Exception.Message"/> is one line, naming the file
/// and/or field, suitable for printing as-is (e.g. <c>config.json: $.process.args: expected an array of strings</c>).</summary>
public sealed class OciConfigException : Exception
{
    public OciConfigException(string message) : base(message) { }

    public OciConfigException(string message, Exception? inner) : base(message, inner) { }

    /// <summary>All problems found, when more than one was collected (the message names the first).</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
}
