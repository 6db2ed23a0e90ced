using Skiff.Engine;

namespace Skiff.Cli;

/// <summary>What `load -i` and `import` read: a file, or standard input for "-" or no path.</summary>
internal static class InputFile
{
    /// <summary>The stream to read, and how messages name it; a file that cannot be opened fails with a sentence naming it.</summary>
    public static (Stream Stream, string Name) Open(string? path)
    {
        if (path is null or "-")
            return (Console.OpenStandardInput(), "standard input");
        try
        {
            return (File.OpenRead(path), path);
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error))
        {
            throw new EngineException(ErrorKinds.Of(error), $"cannot read {path}: {SystemErrors.Reason(error)}", error);
        }
    }
}
