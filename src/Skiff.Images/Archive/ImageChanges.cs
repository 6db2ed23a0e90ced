using System.Text;
using System.Text.Json;
using Skiff.Oci.Image;

namespace Skiff.Images.Archive;

/// <summary>
/// Applies <c>--change</c> instructions (<c>docker import --change</c>, <c>podman import --change</c>) to an image's
/// run configuration: Dockerfile syntax (<c>CMD ["/bin/sh"]</c>, <c>ENV A=1 B="two words"</c>), with the
/// instruction followed by a space or, as podman also accepts, by <c>=</c> (<c>CMD=/bin/sh</c>).
/// </summary>
public static class ImageChanges
{
    public static IReadOnlyList<string> Instructions { get; } =
        ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

    private static readonly string[] ShellForm = ["/bin/sh", "-c"];
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>
    /// Returns <paramref name="config"/> (or an empty one) with <paramref name="changes"/> applied in order; throws
    /// <see cref="ArchiveException"/> naming the change that is not valid.
    /// </summary>
    public static ImageExecutionConfig Apply(ImageExecutionConfig? config, IEnumerable<string> changes)
    {
        var result = config ?? new ImageExecutionConfig();
        foreach (string change in changes)
            result = ApplyOne(result, change);
        return result;
    }

    private static ImageExecutionConfig ApplyOne(ImageExecutionConfig config, string change)
    {
        string trimmed = change.Trim();
        int end = 0;
        while (end < trimmed.Length && char.IsAsciiLetter(trimmed[end]))
            end++;
        string instruction = trimmed[..end].ToUpperInvariant();
        if (!Instructions.Contains(instruction))
            throw Invalid(change, $"\"{trimmed[..end]}\" is not one of {string.Join(", ", Instructions)}");
        if (end < trimmed.Length && !(trimmed[end] == '=' || char.IsWhiteSpace(trimmed[end])))
            throw Invalid(change, $"expected a space or '=' after {instruction}");
        string arguments = end < trimmed.Length ? trimmed[(end + 1)..].Trim() : "";
        if (arguments.Length == 0)
            throw Invalid(change, $"{instruction} needs an argument");

        return instruction switch
        {
            "CMD" => config with { Cmd = Command(arguments) },
            "ENTRYPOINT" => config with { Entrypoint = Command(arguments) },
            "ENV" => config with { Env = MergeEnv(config.Env, NameValues(arguments, change)) },
            "LABEL" => config with { Labels = MergeLabels(config.Labels, NameValues(arguments, change)) },
            "EXPOSE" => config with { ExposedPorts = Merge(config.ExposedPorts, Words(arguments, change).SelectMany(port => Ports(port, change))) },
            "VOLUME" => config with { Volumes = Merge(config.Volumes, Volumes(arguments, change)) },
            "WORKDIR" => config with { WorkingDir = WorkingDirectory(config.WorkingDir, Unquote(arguments, change)) },
            "USER" => config with { User = Unquote(arguments, change) },
            _ => config with { StopSignal = StopSignal(arguments, change) },
        };
    }

    /// <summary>Exec form (a JSON array of strings) as it is; anything else is shell form, run by /bin/sh -c.</summary>
    private static List<string> Command(string arguments)
        => JsonArray(arguments) ?? [.. ShellForm, arguments];

    private static List<string>? JsonArray(string arguments)
    {
        if (!arguments.StartsWith('['))
            return null;
        try
        {
            // As in a Dockerfile, text that starts like JSON but is not a string array is shell form.
            return JsonSerializer.Deserialize(arguments, ArchiveJsonContext.Default.ListString) is { } list && !list.Contains(null!) ? list : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary><c>A=1 B="two words"</c>, or the legacy <c>A one value</c> form (first word without '=').</summary>
    private static List<(string Name, string Value)> NameValues(string arguments, string change)
    {
        var words = Words(arguments, change);
        if (!words[0].Contains('='))
        {
            int space = arguments.IndexOfAny([' ', '\t']);
            if (space < 0)
                throw Invalid(change, $"\"{words[0]}\" needs a value: NAME=VALUE or NAME VALUE");
            return [(words[0], Unquote(arguments[(space + 1)..].TrimStart(), change))];
        }
        var pairs = new List<(string, string)>();
        foreach (string word in words)
        {
            int equals = word.IndexOf('=');
            if (equals <= 0)
                throw Invalid(change, $"\"{word}\" is not NAME=VALUE");
            pairs.Add((word[..equals], word[(equals + 1)..]));
        }
        return pairs;
    }

    /// <summary>
    /// <paramref name="env"/> with the <c>NAME=VALUE</c> <paramref name="assignments"/> applied as ENV applies
    /// them: an existing NAME is replaced in place, a new one appended.
    /// </summary>
    public static List<string> MergeEnv(List<string>? env, IEnumerable<string> assignments)
        => MergeEnv(env, [.. assignments.Select(assignment => assignment.IndexOf('=') is var equals and >= 0
            ? (assignment[..equals], assignment[(equals + 1)..])
            : (assignment, ""))]);

    private static List<string> MergeEnv(List<string>? env, List<(string Name, string Value)> values)
    {
        var result = new List<string>(env ?? []);
        foreach (var (name, value) in values)
        {
            int existing = result.FindIndex(entry => entry.StartsWith(name + "=", StringComparison.Ordinal) || entry == name);
            if (existing >= 0)
                result[existing] = $"{name}={value}";
            else
                result.Add($"{name}={value}");
        }
        return result;
    }

    /// <summary><paramref name="labels"/> with <paramref name="values"/> set (a build's LABEL and --label).</summary>
    public static Dictionary<string, string> MergeLabels(Dictionary<string, string>? labels, IEnumerable<KeyValuePair<string, string>> values)
        => MergeLabels(labels, [.. values.Select(pair => (pair.Key, pair.Value))]);

    private static Dictionary<string, string> MergeLabels(Dictionary<string, string>? labels, List<(string Name, string Value)> values)
    {
        var result = new Dictionary<string, string>(labels ?? [], StringComparer.Ordinal);
        foreach (var (name, value) in values)
            result[name] = value;
        return result;
    }

    /// <summary><paramref name="existing"/> (ExposedPorts, Volumes) with each of <paramref name="keys"/> mapped to {} as the image config has them.</summary>
    public static Dictionary<string, JsonElement> Merge(Dictionary<string, JsonElement>? existing, IEnumerable<string> keys)
    {
        var result = new Dictionary<string, JsonElement>(existing ?? [], StringComparer.Ordinal);
        foreach (string key in keys)
            result[key] = EmptyObject;
        return result;
    }

    /// <summary>EXPOSE's words as ExposedPorts keys (see <see cref="Ports"/>); a bad one is an <see cref="ArchiveException"/> naming it.</summary>
    public static IEnumerable<string> PortKeys(string word) => Ports(word, change: null);

    /// <summary><c>80</c>, <c>80/tcp</c>, <c>53/udp</c>, <c>8000-8002/tcp</c> → <c>port/protocol</c> keys, tcp by default.</summary>
    private static IEnumerable<string> Ports(string word, string? change)
    {
        int slash = word.IndexOf('/');
        string range = slash < 0 ? word : word[..slash];
        string protocol = slash < 0 ? "tcp" : word[(slash + 1)..].ToLowerInvariant();
        if (protocol is not ("tcp" or "udp" or "sctp"))
            throw Invalid(change, $"\"{word}\": protocol must be tcp, udp or sctp");
        int dash = range.IndexOf('-');
        if (!TryPort(dash < 0 ? range : range[..dash], out int first) || !TryPort(dash < 0 ? range : range[(dash + 1)..], out int last) || last < first)
            throw Invalid(change, $"\"{word}\" is not a port (1-65535), a range of them (8000-8010), with an optional /tcp, /udp or /sctp");
        return Enumerable.Range(first, last - first + 1).Select(port => $"{port}/{protocol}");
    }

    private static bool TryPort(string text, out int port)
        => int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static List<string> Volumes(string arguments, string change)
    {
        var paths = JsonArray(arguments) ?? Words(arguments, change);
        foreach (string path in paths)
        {
            if (!path.StartsWith('/'))
                throw Invalid(change, $"volume \"{path}\" must be an absolute path");
        }
        return paths;
    }

    /// <summary>A relative WORKDIR is relative to the previous one, as in a Dockerfile.</summary>
    private static string WorkingDirectory(string? current, string path)
        => path.StartsWith('/') ? path : Path.Combine(current ?? "/", path);

    private static string StopSignal(string arguments, string change)
    {
        string signal = Unquote(arguments, change);
        bool number = int.TryParse(signal, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) && value is >= 1 and <= 64;
        bool name = signal.Length > 0 && signal.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c is '+' or '-');
        return number || name ? signal : throw Invalid(change, $"\"{signal}\" is not a signal name (SIGTERM) or number");
    }

    /// <summary>Splits on unquoted whitespace, removing quotes and backslash escapes, as Dockerfile words are.</summary>
    private static List<string> Words(string text, string change) => Lex(text, change, splitWords: true);

    /// <summary>The whole text with quotes and escapes removed, whitespace kept.</summary>
    private static string Unquote(string text, string change) => Lex(text, change, splitWords: false).SingleOrDefault() ?? "";

    private static List<string> Lex(string text, string change, bool splitWords)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote == '\'')
            {
                if (c == '\'')
                    quote = '\0';
                else
                    word.Append(c);
                continue;
            }
            if (c == '\\' && i + 1 < text.Length)
            {
                word.Append(text[++i]);
                inWord = true;
                continue;
            }
            if (c == '"' && quote == '"')
            {
                quote = '\0';
                continue;
            }
            if (quote == '\0' && c is '"' or '\'')
            {
                quote = c;
                inWord = true;
                continue;
            }
            if (quote == '\0' && splitWords && char.IsWhiteSpace(c))
            {
                if (inWord)
                    words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            word.Append(c);
            inWord = true;
        }
        if (quote != '\0')
            throw Invalid(change, $"unterminated {quote} quote");
        if (inWord)
            words.Add(word.ToString());
        return words;
    }

    private static ArchiveException Invalid(string? change, string reason) => new(change is null ? reason : $"the change \"{change}\": {reason}");
}
