namespace Skiff.Cli;

/// <summary>
/// A failure of the command line itself rather than of the engine: a terminal session without a terminal, a copy
/// docker's client makes, a template it parses. docker's CLI exits 1 for most (<paramref name="status"/>).
/// </summary>
internal sealed class CliFailure(ErrorKind kind, string message, Exception? inner = null, int status = Program.Failure) : SkiffException(kind, message, inner)
{
    public int Status { get; } = status;
}
