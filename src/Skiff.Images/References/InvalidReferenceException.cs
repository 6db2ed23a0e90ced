namespace Skiff.Images.References;

/// <summary>An image reference that does not parse. The message is one line and names the input:
/// <c>invalid reference "Foo": repository name "library/Foo" must be lowercase</c>.</summary>
public sealed class InvalidReferenceException : SkiffException
{
    public InvalidReferenceException(string input, string reason)
        : base(ErrorKind.InvalidArgument, $"invalid reference \"{input}\": {reason}")
    {
        Input = input;
        Reason = reason;
    }

    public string Input { get; }
    public string Reason { get; }
}
