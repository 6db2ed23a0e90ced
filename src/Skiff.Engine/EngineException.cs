namespace Skiff.Engine;

/// <summary>
/// A failure the user caused or can fix (bad flag value, unknown image, name in use): shown as one line,
/// and `skiff` exits 125 as docker does for errors of the engine itself rather than of the container.
/// </summary>
public sealed class EngineException(string message) : Exception(message);
