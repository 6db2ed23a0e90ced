namespace Skiff.Cli.Runtime;

/// <summary>One runc verb: its flags, its usage and its handler.</summary>
public sealed record Command(
    string Name,
    string Usage,
    string Description,
    Flag[] Flags,
    Func<Context, ParsedArguments, int> Run,
    int MinPositionals = 1,
    int MaxPositionals = 1,
    bool StopAtFirstPositional = false)
{
    public void PrintHelp(TextWriter output)
    {
        output.WriteLine($"usage: skiff-runtime {Name} [options] {Usage}");
        output.WriteLine();
        output.WriteLine(Description);
        if (Flags.Length == 0)
            return;
        output.WriteLine();
        output.WriteLine("options:");
        FlagHelp.Write(output, Flags);
    }
}
