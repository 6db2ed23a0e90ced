namespace Skiff.Engine;

/// <summary>
/// A failure the user caused or can fix (bad flag value, unknown image, name in use): shown as one line,
/// and `skiff` exits with <see cref="ExitCode"/>: 125 as docker does for errors of the engine itself rather
/// than of the container, 126 for a program that cannot be executed, 127 for one that is not found.
/// </summary>
public sealed class EngineException(string message, int exitCode = 125) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>
    /// The failure is already on the user's stderr: a runtime (runc and skiff-runtime alike) prints its error there
    /// as well as in its log, and the stderr of a non-terminal exec is the user's. Printing it again would say it twice.
    /// </summary>
    public bool AlreadyShown { get; init; }
}
