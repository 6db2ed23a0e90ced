using Skiff.Interop;

namespace Skiff.Build;

/// <summary>A build that cannot go on: a Dockerfile error (with its file and line), a context problem, a failing step.</summary>
public class BuildException(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner)
{
    public BuildException(string message, Exception? inner = null) : this(ErrorKind.InvalidArgument, message, inner)
    {
    }
}
