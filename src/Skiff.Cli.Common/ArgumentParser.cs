namespace Skiff.Cli;

/// <summary>A flag a command accepts: long name, optional one-letter alias, and whether it takes a value.</summary>
public sealed record Flag(string Name, char? Short = null, bool TakesValue = false, bool Repeatable = false, string Help = "");

/// <summary>
/// The command-line grammar of runc (urfave/cli) and docker (cobra/pflag): `--name value`, `--name=value`,
/// `-n value`, boolean flags as `--name` or `--name=true|false`, `--` ending flags. Parsing stops at the first
/// positional argument when <paramref name="stopAtFirstPositional"/> (exec: the rest is the command).
/// The one difference between the two: runc takes single-dash long flags (`-bundle`), docker takes clusters of
/// one-letter flags (`-qa`), chosen with <see cref="FlagStyle"/>.
/// Hand-written rather than System.CommandLine: the CLIs are started for every operation, and building a full
/// command tree costs start-up time for ~15 verbs and ~40 flags.
/// </summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public static ParsedArguments Parse(string command, IReadOnlyList<Flag> flags, ReadOnlySpan<string> args, bool stopAtFirstPositional = false,
        FlagStyle style = FlagStyle.Runc)
    {
        var result = new ParsedArguments();
        bool flagsDone = false;
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (flagsDone || arg.Length < 2 || arg[0] != '-')
            {
                result.Positionals.Add(arg);
                if (stopAtFirstPositional)
                    flagsDone = true;
                continue;
            }
            if (arg == "--")
            {
                flagsDone = true;
                continue;
            }
            string name;
            string? inlineValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                name = arg[2..];
                int equals = name.IndexOf('=');
                if (equals >= 0)
                {
                    inlineValue = name[(equals + 1)..];
                    name = name[..equals];
                }
            }
            else if (style == FlagStyle.Docker)
            {
                i = result.ParseShortCluster(command, flags, args, i);
                continue;
            }
            else
            {
                // runc (urfave/cli) also accepts single-dash long flags such as -bundle or -detach.
                name = arg[1..];
                int equals = name.IndexOf('=');
                if (equals >= 0)
                {
                    inlineValue = name[(equals + 1)..];
                    name = name[..equals];
                }
            }
            var flag = Find(flags, name) ?? throw new UsageException($"{command}: unknown flag {arg}", badFlag: true);
            if (flag.TakesValue)
            {
                if (inlineValue is null)
                {
                    if (i + 1 >= args.Length)
                        throw new UsageException($"{command}: flag --{flag.Name} needs a value", badFlag: true);
                    inlineValue = args[++i];
                }
            }
            else
            {
                inlineValue ??= "true";
                if (inlineValue is not ("true" or "false"))
                    throw new UsageException($"{command}: flag --{flag.Name} takes true or false, not \"{inlineValue}\"", badFlag: true);
            }
            result.Add(flag, inlineValue);
        }
        return result;
    }

    /// <summary>`-qa` is `-q -a`; a flag taking a value takes the rest of the cluster (`-fjson`) or the next argument.</summary>
    private int ParseShortCluster(string command, IReadOnlyList<Flag> flags, ReadOnlySpan<string> args, int index)
    {
        string arg = args[index];
        for (int c = 1; c < arg.Length; c++)
        {
            var flag = Find(flags, arg[c].ToString()) ?? throw new UsageException($"{command}: unknown shorthand flag '{arg[c]}' in {arg}", badFlag: true);
            if (!flag.TakesValue)
            {
                Add(flag, "true");
                continue;
            }
            string rest = arg[(c + 1)..].TrimStart('=');
            if (rest.Length > 0)
            {
                Add(flag, rest);
                return index;
            }
            if (index + 1 >= args.Length)
                throw new UsageException($"{command}: flag -{flag.Short} needs a value", badFlag: true);
            Add(flag, args[index + 1]);
            return index + 1;
        }
        return index;
    }

    private void Add(Flag flag, string value)
    {
        if (!_values.TryGetValue(flag.Name, out var list))
            _values[flag.Name] = list = [];
        if (!flag.Repeatable)
            list.Clear();
        list.Add(value);
    }

    private static Flag? Find(IReadOnlyList<Flag> flags, string name)
    {
        foreach (var flag in flags)
            if (flag.Name == name || (name.Length == 1 && flag.Short == name[0]))
                return flag;
        return null;
    }

    public string? Value(string name) => _values.TryGetValue(name, out var list) && list.Count > 0 ? list[^1] : null;

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public bool Has(string name) => _values.ContainsKey(name);

    public bool Bool(string name) => Value(name) == "true";

    /// <summary>A Go duration flag (<see cref="Skiff.Oci.GoDuration.Parse"/>); null when not given.</summary>
    public TimeSpan? Duration(string name)
    {
        var value = Value(name);
        if (value is null)
            return null;
        return Skiff.Oci.GoDuration.Parse(value) ?? throw new UsageException($"--{name} must be a duration such as 5s, 500ms or 1m30s, not \"{value}\"", badFlag: true);
    }

    public int Int(string name, int fallback)
    {
        var value = Value(name);
        if (value is null)
            return fallback;
        return int.TryParse(value, out var number) && number >= 0
            ? number
            : throw new UsageException($"--{name} must be a non-negative number, not \"{value}\"", badFlag: true);
    }
}

public enum FlagStyle
{
    /// <summary>urfave/cli: a single dash may start a long flag (`-bundle`).</summary>
    Runc,
    /// <summary>pflag: a single dash starts a cluster of one-letter flags (`-qa`).</summary>
    Docker,
}

/// <summary>The options part of a command's help: one line per flag, aligned.</summary>
public static class FlagHelp
{
    public static void Write(TextWriter output, IEnumerable<Flag> flags)
    {
        foreach (var flag in flags)
        {
            var names = flag.Short is { } s ? $"-{s}, --{flag.Name}" : $"--{flag.Name}";
            output.WriteLine($"  {names + (flag.TakesValue ? " VALUE" : ""),-30} {flag.Help}");
        }
    }
}

/// <summary>
/// Wrong use of the command line: printed with the command's usage, exit status 1 (runc's behaviour). docker's CLI
/// tells a flag it cannot parse (<see cref="BadFlag"/>: unknown, without its value, a value of the wrong type), status
/// 125, from any other misuse, status 1.
/// </summary>
public sealed class UsageException(string message, bool badFlag = false) : Exception(message)
{
    public bool BadFlag { get; } = badFlag;
}
