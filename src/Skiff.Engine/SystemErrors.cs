namespace Skiff.Engine;

/// <summary>
/// The words for a failure, as the end of a one-line, lower-case sentence whose start names the object: the
/// engine's own message, else the system's words for the errno (never .NET's sentence, which names a temporary file
/// where the user wants the object they asked about).
/// </summary>
public static class SystemErrors
{
    public static string Reason(Exception error) => error switch
    {
        SkiffException => OneLine(error.Message),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Reason(aggregate.InnerExceptions[0]),
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        // .NET's IOException on Linux carries the errno as its HResult; its own HRESULTs are negative.
        IOException { HResult: > 0 and < 4096 } io => Sentence(Skiff.Interop.SyscallException.Describe(io.HResult)),
        _ => Sentence(error.Message),
    };

    /// <summary>
    /// <paramref name="error"/>'s message as one line starting in lower case without a final full stop, for an error
    /// no engine code put in words (a system exception that reached a front end unwrapped).
    /// </summary>
    public static string Sentence(string message)
    {
        var line = OneLine(message).Trim().TrimEnd('.');
        // "No such file" becomes "no such file"; "SQLite Error 13" keeps its acronym.
        return line.Length > 1 && char.IsUpper(line[0]) && char.IsLower(line[1]) ? char.ToLowerInvariant(line[0]) + line[1..] : line;
    }

    /// <summary>
    /// A failure of writing to or reading from a store as an <see cref="EngineException"/> of the same kind whose
    /// message says what failed (<paramref name="what"/>, such as "cannot import rootfs.tar into the image store
    /// /var/lib/skiff") and why; the engine's own failures, which already say so, pass unchanged.
    /// </summary>
    public static Exception Describe(Exception error, string what)
        => error is SkiffException or OperationCanceledException || !ErrorKinds.IsExpected(error) ? error : new EngineException(ErrorKinds.Of(error), $"{what}: {Reason(error)}", error);

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
