namespace Skiff.Engine;

/// <summary>
/// A failure of an engine operation, of a <see cref="ErrorKind"/>, with a message that names the object (container,
/// volume, image, path) and what to do; never a command-line flag, since the CLI is only one of the engine's front ends.
/// </summary>
public sealed class EngineException : SkiffException
{
    public EngineException(ErrorKind kind, string message, Exception? inner = null)
        : base(kind, message, inner)
    {
    }

    /// <summary>
    /// The failure is the container's program's, not the engine's: it could not be found (NotFound) or executed
    /// (PermissionDenied). docker's CLI tells these apart by exit status (127 and 126, where the engine's own is 125).
    /// </summary>
    public bool ContainerCommand { get; init; }

    /// <summary>
    /// The failure is already on the user's stderr: a runtime (runc and skiff-runtime alike) prints its error there
    /// as well as in its log, and the stderr of a non-terminal exec is the user's. Printing it again would say it twice.
    /// </summary>
    public bool AlreadyShown { get; init; }
}
