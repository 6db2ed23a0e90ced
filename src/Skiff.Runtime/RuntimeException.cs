namespace Skiff.Runtime;

/// <summary>An error a user sees as one line: what failed, on what, and what to do.</summary>
public sealed class RuntimeException(string message, int exitCode = 1, ErrorKind kind = ErrorKind.Internal) : SkiffException(kind, message)
{
    public int ExitCode { get; } = exitCode;
}
