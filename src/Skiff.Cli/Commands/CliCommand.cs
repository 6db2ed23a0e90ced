namespace Skiff.Cli.Commands;

/// <summary>
/// One skiff command: its name (one or two words, <c>pull</c>, <c>image inspect</c>), other names it answers to
/// (<c>image pull</c>), its flags and its handler, which returns the exit status. Each lives in its own file under
/// Commands/ and is listed once in <see cref="CommandList.All"/>.
/// </summary>
internal sealed record CliCommand(
    string Name,
    string Usage,
    string Description,
    Flag[] Flags,
    Func<CliContext, ParsedArguments, int> Run,
    int MinPositionals = 0,
    int MaxPositionals = 0,
    string[]? Aliases = null,
    bool StopAtFirstPositional = false,
    bool Hidden = false,
    ExitStatuses Statuses = ExitStatuses.Plain)
{
    public static readonly Flag Help = new("help", 'h', Help: "show help");

    /// <summary>--help without -h, for `run` and `create`, where -h is docker's --hostname.</summary>
    public static readonly Flag LongHelp = new("help", Help: "show help");

    /// <summary>--tls-verify as podman takes it: true (the default) or false.</summary>
    public static bool TlsVerify(ParsedArguments args, string command) => args.Value("tls-verify") switch
    {
        null or "true" => true,
        "false" => false,
        var other => throw new UsageException($"{command}: --tls-verify takes true or false, not \"{other}\"", badFlag: true),
    };

    /// <summary>--platform os/arch[/variant] of `pull`, `run` and `create`; one that does not parse is a bad flag.</summary>
    public static Skiff.Oci.Image.Platform? Platform(ParsedArguments args, string command)
    {
        if (args.Value("platform") is not { } value)
            return null;
        try
        {
            return Skiff.Oci.Image.Platform.Parse(value);
        }
        catch (FormatException error)
        {
            throw new UsageException($"{command}: {error.Message}", badFlag: true);
        }
    }

    public IEnumerable<string> Names => Aliases is null ? [Name] : [Name, .. Aliases];

    public void PrintHelp(TextWriter output)
    {
        output.WriteLine($"usage: skiff {Name} [options]{(Usage.Length > 0 ? " " + Usage : "")}");
        output.WriteLine();
        output.WriteLine(Description);
        if (Aliases is { Length: > 0 })
            output.WriteLine($"also: {string.Join(", ", Aliases.Select(alias => "skiff " + alias))}");
        output.WriteLine();
        output.WriteLine("options:");
        FlagHelp.Write(output, Flags);
    }
}
