namespace Skiff.Cli;

/// <summary>
/// A failure of the command line itself rather than of the engine: a terminal session without a terminal, a copy
/// docker's client makes. docker's CLI exits 1 for those, where the engine's failures are 125.
/// </summary>
internal sealed class CliFailure(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner);
