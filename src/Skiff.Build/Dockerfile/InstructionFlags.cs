using System.Text;

namespace Skiff.Build.Dockerfile;

/// <summary>
/// The <c>--name=value</c> flags that lead an instruction's arguments (docker's BFlags): taken while words start with
/// <c>--</c> (a lone <c>--</c> ends them), quotes removed; each instruction declares its flags, and anything else is an
/// error rather than an argument, as in docker.
/// </summary>
internal sealed class InstructionFlags
{
    internal enum Kind { Text, Boolean, Repeated }

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _lists = new(StringComparer.Ordinal);

    private InstructionFlags()
    {
    }

    /// <summary>
    /// Splits <paramref name="arguments"/> into its flags, checked against <paramref name="allowed"/>, and the rest.
    /// Errors are sentences without the line, which <see cref="DockerfileParser"/> adds.
    /// </summary>
    public static (InstructionFlags Flags, string Remainder) Extract(string keyword, string arguments, IReadOnlyDictionary<string, Kind> allowed)
    {
        var (words, rest) = Words(arguments);
        var flags = new InstructionFlags();
        foreach (string word in words)
        {
            string body = word[2..];
            int equals = body.IndexOf('=');
            string name = equals < 0 ? body : body[..equals];
            string? value = equals < 0 ? null : body[(equals + 1)..];
            if (!allowed.TryGetValue(name, out var kind))
            {
                string known = allowed.Count == 0 ? $"{keyword} takes no flags" : $"{keyword} takes {string.Join(", ", allowed.Keys.Select(key => "--" + key))}";
                throw new BuildException($"unknown flag --{name} for {keyword}: {known}");
            }
            switch (kind)
            {
                case Kind.Boolean:
                    if (value is not null && !value.Equals("true", StringComparison.OrdinalIgnoreCase) && !value.Equals("false", StringComparison.OrdinalIgnoreCase))
                        throw new BuildException($"the flag --{name} of {keyword} takes true or false, not \"{value}\"");
                    AddOnce(keyword, flags, name, value?.ToLowerInvariant() ?? "true");
                    break;
                case Kind.Text:
                    if (value is null)
                        throw new BuildException($"the flag --{name} of {keyword} needs a value: write --{name}=VALUE");
                    AddOnce(keyword, flags, name, value);
                    break;
                default:
                    if (value is null)
                        throw new BuildException($"the flag --{name} of {keyword} needs a value: write --{name}=VALUE");
                    if (!flags._lists.TryGetValue(name, out var list))
                        flags._lists[name] = list = [];
                    list.Add(value);
                    break;
            }
        }
        return (flags, rest);
    }

    private static void AddOnce(string keyword, InstructionFlags flags, string name, string value)
    {
        if (!flags._values.TryAdd(name, value))
            throw new BuildException($"the flag --{name} is given twice to {keyword}: give it once");
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public bool Boolean(string name) => _values.GetValueOrDefault(name) == "true";

    public IReadOnlyList<string> Repeated(string name) => _lists.TryGetValue(name, out var list) ? list : [];

    /// <summary>The leading words that start with <c>--</c>, quotes and escapes removed, and the text after them.</summary>
    private static (List<string> Words, string Remainder) Words(string line)
    {
        var words = new List<string>();
        int position = 0;
        while (true)
        {
            while (position < line.Length && char.IsWhiteSpace(line[position]))
                position++;
            if (position + 1 >= line.Length || line[position] != '-' || line[position + 1] != '-')
                return (words, line[position..]);
            var word = new StringBuilder();
            char quote = '\0';
            while (position < line.Length && (quote != '\0' || !char.IsWhiteSpace(line[position])))
            {
                char ch = line[position++];
                if (quote == '\0' && ch is '\'' or '"')
                    quote = ch;
                else if (quote != '\0' && ch == quote)
                    quote = '\0';
                else if (ch == '\\' && position < line.Length)
                    word.Append(line[position++]);
                else if (ch != '\\')
                    word.Append(ch);
            }
            if (word.ToString() == "--")
                return (words, line[position..].TrimStart());
            words.Add(word.ToString());
        }
    }
}
