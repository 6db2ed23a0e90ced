namespace Skiff.Runtime;

/// <summary>An error a user sees as one line: what failed, on what, and what to do; its kind says what a front end answers.</summary>
public sealed class RuntimeException(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner);
