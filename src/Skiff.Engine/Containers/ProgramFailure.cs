namespace Skiff.Engine.Containers;

/// <summary>
/// A container's program that could not be started, as the runtime reported it: docker tells a program that was
/// not found (127) or could not be executed (126) from the engine's own failures (125).
/// </summary>
public static class ProgramFailure
{
    /// <summary>docker's exit status for a runtime's error: 127 program not found, 126 not executable, else 125.</summary>
    public static int ExitCodeOf(string runtimeError)
    {
        if (runtimeError.Contains("not found", StringComparison.OrdinalIgnoreCase) || runtimeError.Contains("no such file", StringComparison.OrdinalIgnoreCase))
            return 127;
        if (runtimeError.Contains("permission denied", StringComparison.OrdinalIgnoreCase) || runtimeError.Contains("not executable", StringComparison.OrdinalIgnoreCase)
            || runtimeError.Contains("is a directory", StringComparison.OrdinalIgnoreCase))
            return 126;
        return 125;
    }

    /// <summary>The failure for an exit status of <see cref="ExitCodeOf"/>: the program's own for 126 and 127, else the engine's.</summary>
    public static EngineException Exception(int exitCode, string message, bool alreadyShown = false) => exitCode switch
    {
        127 => new EngineException(ErrorKind.NotFound, message) { ContainerCommand = true, AlreadyShown = alreadyShown },
        126 => new EngineException(ErrorKind.PermissionDenied, message) { ContainerCommand = true, AlreadyShown = alreadyShown },
        _ => new EngineException(ErrorKind.Internal, message) { AlreadyShown = alreadyShown },
    };
}
