using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Skiff.Build.Dockerfile.InstructionFlags;

namespace Skiff.Build.Dockerfile;

/// <summary>
/// Parses a Dockerfile (or Containerfile) as BuildKit's dockerfile frontend does: parser directives at the top
/// (<c># syntax=</c> accepted and ignored, <c># escape=</c>), comments and blank lines skipped, continuation lines joined
/// with the escape character (comment lines inside skipped), instructions case-insensitive, heredocs for RUN, COPY and
/// ADD, JSON (exec) form only where the arguments parse as a JSON array of strings. Pure: nothing but the text is read.
/// Every error is a <see cref="BuildException"/> "FILE:LINE: what is wrong and what to do".
/// </summary>
public static partial class DockerfileParser
{
    private static readonly string[] Keywords =
        ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
         "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

    private static readonly Dictionary<string, Kind> NoFlags = [];
    private static readonly Dictionary<string, Kind> FromFlags = new() { ["platform"] = Kind.Text };
    private static readonly Dictionary<string, Kind> RunFlags = new()
    {
        ["mount"] = Kind.Repeated, ["network"] = Kind.Text, ["security"] = Kind.Text,
    };
    private static readonly Dictionary<string, Kind> CopyFlags = new()
    {
        ["from"] = Kind.Text, ["chown"] = Kind.Text, ["chmod"] = Kind.Text, ["link"] = Kind.Boolean, ["parents"] = Kind.Boolean,
        ["exclude"] = Kind.Repeated,
    };
    private static readonly Dictionary<string, Kind> AddFlags = new()
    {
        ["chown"] = Kind.Text, ["chmod"] = Kind.Text, ["checksum"] = Kind.Text, ["link"] = Kind.Boolean, ["keep-git-dir"] = Kind.Boolean,
        ["exclude"] = Kind.Repeated,
    };
    private static readonly Dictionary<string, Kind> HealthcheckFlags = new()
    {
        ["interval"] = Kind.Text, ["timeout"] = Kind.Text, ["start-period"] = Kind.Text, ["start-interval"] = Kind.Text,
        ["retries"] = Kind.Text,
    };

    [GeneratedRegex(@"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")]
    private static partial Regex Directive();

    [GeneratedRegex(@"^(\d*)<<(-?)([^<]*)$")]
    private static partial Regex HeredocMarker();

    [GeneratedRegex(@"^[a-z][a-z0-9\-_.]*$")]
    private static partial Regex StageName();

    public static DockerfileDocument Parse(string text, string fileName)
    {
        var parser = new Parser(text, fileName);
        return parser.Run();
    }

    /// <summary>
    /// The heredoc that one word of an instruction opens (<c>&lt;&lt;EOF</c>, <c>&lt;&lt;-"EOF"</c>, <c>3&lt;&lt;EOF</c>), with
    /// an empty <see cref="Heredoc.Content"/>; null when the word opens none. As BuildKit: the delimiter must be one word
    /// once quotes are removed, and any quote in it turns substitution off.
    /// </summary>
    public static Heredoc? HeredocWord(string word, char escape)
    {
        var match = HeredocMarker().Match(word);
        if (!match.Success || match.Groups[3].Value.Length == 0)
            return null;
        string delimiter = match.Groups[3].Value;
        IReadOnlyList<string> unquoted, raw;
        try
        {
            unquoted = ShellWordExpander.UnquotedWords(delimiter, escape);
            raw = ShellWordExpander.RawWords(delimiter, escape);
        }
        catch (BuildException)
        {
            return null;
        }
        if (unquoted.Count != 1 || raw.Count != 1)
            return null;
        if (!int.TryParse(match.Groups[1].Value is { Length: > 0 } fd ? fd : "0", out int descriptor))
            throw new BuildException($"the heredoc file descriptor {match.Groups[1].Value} is too large: use a small number");
        return new Heredoc(unquoted[0], "", Expand: unquoted[0] == raw[0], Chomp: match.Groups[2].Value == "-", descriptor);
    }

    private sealed class Parser
    {
        private readonly string[] _lines;
        private readonly string _file;
        private readonly List<string> _warnings = [];
        private char _escape = '\\';
        private int _next;

        public Parser(string text, string file)
        {
            _file = file;
            if (text.StartsWith('\uFEFF'))
                text = text[1..];
            // A final newline ends the last line; it does not start an empty one.
            _lines = (text.EndsWith('\n') ? text[..^1] : text).Split('\n');
            for (int i = 0; i < _lines.Length; i++)
                _lines[i] = _lines[i].TrimEnd('\r');
        }

        public DockerfileDocument Run()
        {
            ReadDirectives();
            var globalArgs = new List<ArgInstruction>();
            var stages = new List<DockerfileStage>();
            FromInstruction? from = null;
            var body = new List<Instruction>();
            var names = new Dictionary<string, int>();
            while (ReadLogicalLine() is var (line, start, end))
            {
                var instruction = ParseLine(line, start, end, allowHeredocs: true);
                if (instruction is FromInstruction next)
                {
                    if (from is not null)
                        stages.Add(new DockerfileStage(stages.Count, from.StageName, from, [.. body]));
                    if (next.StageName is { } name && !names.TryAdd(name, next.StartLine))
                        throw Error(start, $"the stage name \"{name}\" is already used by the stage at line {names[name]}: give each stage its own name");
                    from = next;
                    body.Clear();
                }
                else if (from is null)
                {
                    if (instruction is not ArgInstruction arg)
                        throw Error(start, $"{instruction.Keyword} comes before the first FROM: only ARG may precede FROM; start the build stage with FROM");
                    globalArgs.Add(arg);
                }
                else
                    body.Add(instruction);
            }
            if (from is null)
                throw new BuildException(globalArgs.Count == 0
                    ? $"{_file}: the file has no instructions: a Dockerfile needs at least a FROM line"
                    : $"{_file}: there is no FROM instruction: a Dockerfile needs at least one build stage after its ARGs");
            stages.Add(new DockerfileStage(stages.Count, from.StageName, from, [.. body]));
            return new DockerfileDocument(_file, _escape, globalArgs, stages, _warnings);
        }

        private BuildException Error(int line, string message) => new($"{_file}:{line}: {message}");

        /// <summary>Directives: comment lines of the form <c># key=value</c> before anything else, each key at most once.</summary>
        private void ReadDirectives()
        {
            var seen = new HashSet<string>();
            for (int i = 0; i < _lines.Length; i++)
            {
                var match = Directive().Match(_lines[i].TrimStart());
                if (!match.Success)
                    return;
                string key = match.Groups[1].Value.ToLowerInvariant();
                string value = match.Groups[2].Value;
                if (key is not ("escape" or "syntax"))
                    continue;
                if (!seen.Add(key))
                    throw Error(i + 1, $"the {key} parser directive is given twice: keep only one");
                if (key == "escape")
                {
                    if (value is not ("\\" or "`"))
                        throw Error(i + 1, $"the escape parser directive must be \\ or `, not \"{value}\"");
                    _escape = value[0];
                }
            }
        }

        private static bool IsComment(string line) => line.TrimStart().StartsWith('#');

        /// <summary>The next instruction's text with continuations joined, its first and last line; null at the end.</summary>
        private (string Line, int Start, int End)? ReadLogicalLine()
        {
            while (_next < _lines.Length)
            {
                string first = _lines[_next++];
                int start = _next;
                if (IsComment(first))
                    continue;
                var (firstPart, ended) = TrimContinuation(first.TrimStart());
                var line = new StringBuilder(firstPart);
                bool emptyContinuation = false;
                while (!ended && _next < _lines.Length)
                {
                    string raw = _lines[_next++];
                    if (IsComment(raw))
                        continue;
                    if (string.IsNullOrWhiteSpace(raw))
                    {
                        emptyContinuation = true;
                        continue;
                    }
                    (string part, ended) = TrimContinuation(raw);
                    line.Append(part);
                }
                string joined = line.ToString().Trim();
                if (joined.Length == 0)
                    continue;
                if (emptyContinuation)
                    _warnings.Add($"{_file}:{start}: empty continuation line: docker will make this an error; remove the blank line or the escape character before it");
                return (joined, start, _next);
            }
            return null;
        }

        private (string Line, bool Ended) TrimContinuation(string line)
        {
            string trimmed = line.TrimEnd(' ', '\t');
            return trimmed.EndsWith(_escape) ? (trimmed[..^1], false) : (line, true);
        }

        private Instruction ParseLine(string line, int start, int end, bool allowHeredocs)
        {
            int space = 0;
            while (space < line.Length && !char.IsWhiteSpace(line[space]))
                space++;
            string written = line[..space];
            string keyword = written.ToUpperInvariant();
            string arguments = line[space..].Trim();
            try
            {
                return keyword switch
                {
                    "FROM" => From(line, start, end, arguments),
                    "RUN" => Run(line, start, arguments, allowHeredocs),
                    "CMD" => new CmdInstruction(start, end, line, Command(keyword, NoFlagsIn(keyword, arguments))),
                    "ENTRYPOINT" => new EntrypointInstruction(start, end, line, Command(keyword, NoFlagsIn(keyword, arguments))),
                    "LABEL" => new LabelInstruction(start, end, line, KeyValues(keyword, NoFlagsIn(keyword, arguments))),
                    "ENV" => new EnvInstruction(start, end, line, KeyValues(keyword, NoFlagsIn(keyword, arguments))),
                    "EXPOSE" => new ExposeInstruction(start, end, line, Required(keyword, SplitWhitespace(NoFlagsIn(keyword, arguments)))),
                    "ADD" or "COPY" => File(keyword, line, start, arguments, allowHeredocs),
                    "VOLUME" => new VolumeInstruction(start, end, line, Volumes(NoFlagsIn(keyword, arguments))),
                    "USER" => new UserInstruction(start, end, line, Single(keyword, NoFlagsIn(keyword, arguments))),
                    "WORKDIR" => new WorkdirInstruction(start, end, line, Single(keyword, NoFlagsIn(keyword, arguments))),
                    "STOPSIGNAL" => new StopSignalInstruction(start, end, line, Single(keyword, NoFlagsIn(keyword, arguments))),
                    "MAINTAINER" => Maintainer(line, start, end, arguments),
                    "ARG" => new ArgInstruction(start, end, line, Args(NoFlagsIn(keyword, arguments))),
                    "ONBUILD" => Onbuild(line, start, end, arguments),
                    "HEALTHCHECK" => Healthcheck(line, start, end, arguments),
                    "SHELL" => new ShellInstruction(start, end, line, Shell(NoFlagsIn(keyword, arguments))),
                    _ => throw new BuildException(Unknown(written)),
                };
            }
            catch (BuildException error) when (!error.Message.StartsWith(_file + ":", StringComparison.Ordinal))
            {
                throw Error(start, error.Message);
            }
        }

        private static string Unknown(string written)
        {
            string upper = written.ToUpperInvariant();
            string? closest = Keywords.Where(keyword => Distance(keyword, upper) <= Math.Max(1, Math.Min(2, upper.Length / 3)))
                .OrderBy(keyword => Distance(keyword, upper)).FirstOrDefault();
            return closest is null
                ? $"unknown instruction: {written}: use one of {string.Join(", ", Keywords)}"
                : $"unknown instruction: {written} (did you mean {closest}?)";
        }

        /// <summary>Edit distance counting a transposition as one edit (optimal string alignment), for "did you mean".</summary>
        private static int Distance(string a, string b)
        {
            var beforePrevious = new int[b.Length + 1];
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++)
                previous[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                    // Two swapped letters (FORM for FROM) count as one typo.
                    if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                        current[j] = Math.Min(current[j], beforePrevious[j - 2] + 1);
                }
                (beforePrevious, previous, current) = (previous, current, beforePrevious);
            }
            return previous[b.Length];
        }

        private static string NoFlagsIn(string keyword, string arguments) => Extract(keyword, arguments, NoFlags).Remainder;

        private static T Required<T>(string keyword, T value) where T : System.Collections.ICollection
            => value.Count == 0 ? throw new BuildException($"{keyword} needs at least one argument") : value;

        private static string Single(string keyword, string value)
            => value.Length == 0 ? throw new BuildException($"{keyword} needs an argument") : value;

        private static string[] SplitWhitespace(string text)
            => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

        /// <summary>Docker's rule: the exec form only if the text parses as a JSON array of strings; null otherwise.</summary>
        private static string[]? JsonArray(string text)
        {
            if (!text.StartsWith('['))
                return null;
            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind != JsonValueKind.Array)
                    return null;
                var items = new List<string>();
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        return null;
                    items.Add(item.GetString()!);
                }
                return [.. items];
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static CommandLine Command(string keyword, string arguments)
        {
            if (JsonArray(arguments) is { } exec)
                return new CommandLine(exec, PrependShell: false);
            return new CommandLine([Single(keyword, arguments)], PrependShell: true);
        }

        private FromInstruction From(string line, int start, int end, string arguments)
        {
            var (flags, rest) = Extract("FROM", arguments, FromFlags);
            string[] words = SplitWhitespace(rest);
            if (words.Length == 1)
                return new FromInstruction(start, end, line, words[0], null, flags.Text("platform"));
            if (words.Length != 3 || !words[1].Equals("AS", StringComparison.OrdinalIgnoreCase))
                throw new BuildException("FROM takes an image and optionally AS and a stage name: write FROM IMAGE [AS NAME]");
            string name = words[2].ToLowerInvariant();
            if (!StageName().IsMatch(name))
                throw new BuildException($"\"{words[2]}\" is not a valid stage name: start with a letter and use letters, digits, '-', '_' and '.'");
            return new FromInstruction(start, end, line, words[0], name, flags.Text("platform"));
        }

        private RunInstruction Run(string line, int start, string arguments, bool allowHeredocs)
        {
            var (flags, rest) = Extract("RUN", arguments, RunFlags);
            string? network = flags.Text("network");
            if (network is not (null or "default" or "none" or "host"))
                throw new BuildException($"RUN --network takes default, none or host, not \"{network}\"");
            string? security = flags.Text("security");
            if (security is not (null or "sandbox" or "insecure"))
                throw new BuildException($"RUN --security takes sandbox or insecure, not \"{security}\"");
            var command = Command("RUN", rest);
            var heredocs = allowHeredocs && command.PrependShell ? ReadHeredocs(rest) : [];
            return new RunInstruction(start, _next, line, command, flags.Repeated("mount"), network, security, heredocs);
        }

        private FileInstruction File(string keyword, string line, int start, string arguments, bool allowHeredocs)
        {
            bool copy = keyword == "COPY";
            var (flags, rest) = Extract(keyword, arguments, copy ? CopyFlags : AddFlags);
            string[]? json = JsonArray(rest);
            string[] words = json ?? SplitWhitespace(rest);
            if (words.Length < 2)
                throw new BuildException($"{keyword} needs at least a source and a destination: write {keyword} SOURCE... DESTINATION");
            string[] sources = words[..^1];
            string destination = words[^1];
            if (json is null && HeredocWord(destination, _escape) is not null)
                throw new BuildException($"{keyword} cannot take a heredoc as its destination: name a path after the sources");
            var heredocs = allowHeredocs && json is null ? ReadHeredocs(rest) : [];
            if (copy)
                return new CopyInstruction(start, _next, line, sources, destination, flags.Text("chown"), flags.Text("chmod"),
                    flags.Boolean("link"), flags.Repeated("exclude"), heredocs, flags.Text("from"), flags.Boolean("parents"));
            return new AddInstruction(start, _next, line, sources, destination, flags.Text("chown"), flags.Text("chmod"),
                flags.Boolean("link"), flags.Repeated("exclude"), heredocs, flags.Text("checksum"), flags.Boolean("keep-git-dir"));
        }

        /// <summary>
        /// The heredocs that <paramref name="arguments"/> opens, in order, with their bodies read from the following
        /// lines: each body ends at a line equal to its delimiter (after leading tabs with <c>&lt;&lt;-</c>).
        /// </summary>
        private IReadOnlyList<Heredoc> ReadHeredocs(string arguments)
        {
            IReadOnlyList<string> words;
            try
            {
                words = ShellWordExpander.RawWords(arguments, _escape);
            }
            catch (BuildException)
            {
                // Like BuildKit: a line the shell lexer cannot split (an open quote) simply has no heredoc.
                return [];
            }
            var heredocs = new List<Heredoc>();
            foreach (string word in words)
                if (HeredocWord(word, _escape) is { } marker)
                    heredocs.Add(ReadBody(marker));
            return heredocs;
        }

        private Heredoc ReadBody(Heredoc marker)
        {
            string name = marker.Name;
            bool chomp = marker.Chomp;
            int opened = _next;
            var content = new StringBuilder();
            while (_next < _lines.Length)
            {
                string line = _lines[_next++];
                if (chomp)
                    line = line.TrimStart('\t');
                if (line == name)
                    return marker with { Content = content.ToString() };
                content.Append(line).Append('\n');
            }
            throw new BuildException($"the heredoc <<{name} opened here has no terminating line \"{name}\" (lines {opened + 1} to the end): end it with a line \"{name}\"");
        }

        /// <summary>ENV and LABEL: <c>k=v k2=v2</c> (quote-aware words, quotes kept for substitution) or the legacy <c>k value...</c>.</summary>
        private IReadOnlyList<KeyValue> KeyValues(string keyword, string arguments)
        {
            var words = Words(arguments);
            if (words.Count == 0)
                throw new BuildException($"{keyword} needs at least one argument: write {keyword} NAME=VALUE");
            var pairs = new List<KeyValue>();
            if (!words[0].Contains('='))
            {
                string[] parts = arguments.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2)
                    throw new BuildException($"{keyword} {parts[0]} has no value: write {keyword} {parts[0]}=VALUE");
                pairs.Add(new KeyValue(parts[0], parts[1].Trim()));
                return pairs;
            }
            foreach (string word in words)
            {
                int equals = word.IndexOf('=');
                if (equals < 0)
                    throw new BuildException($"\"{word}\" has no '=': write {keyword} NAME=VALUE for each pair");
                if (equals == 0)
                    throw new BuildException($"{keyword} \"{word}\" has an empty name: write {keyword} NAME=VALUE");
                pairs.Add(new KeyValue(word[..equals], word[(equals + 1)..]));
            }
            return pairs;
        }

        private IReadOnlyList<ArgDeclaration> Args(string arguments)
        {
            var words = Words(arguments);
            if (words.Count == 0)
                throw new BuildException("ARG needs a name: write ARG NAME or ARG NAME=DEFAULT");
            return [.. words.Select(word =>
            {
                int equals = word.IndexOf('=');
                if (equals == 0)
                    throw new BuildException($"ARG \"{word}\" has an empty name: write ARG NAME=DEFAULT");
                return equals < 0 ? new ArgDeclaration(word, null) : new ArgDeclaration(word[..equals], word[(equals + 1)..]);
            })];
        }

        private static IReadOnlyList<string> Volumes(string arguments)
        {
            string[] paths = JsonArray(arguments) ?? SplitWhitespace(arguments);
            if (paths.Length == 0)
                throw new BuildException("VOLUME needs at least one path");
            if (paths.Any(path => path.Trim().Length == 0))
                throw new BuildException("VOLUME has an empty path: name a directory");
            return paths;
        }

        private static IReadOnlyList<string> Shell(string arguments)
        {
            if (JsonArray(arguments) is not { Length: > 0 } shell)
                throw new BuildException("SHELL takes a JSON array of strings: write SHELL [\"/bin/sh\", \"-c\"]");
            return shell;
        }

        private MaintainerInstruction Maintainer(string line, int start, int end, string arguments)
        {
            _warnings.Add($"{_file}:{start}: MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=NAME");
            return new MaintainerInstruction(start, end, line, Single("MAINTAINER", NoFlagsIn("MAINTAINER", arguments)));
        }

        private OnbuildInstruction Onbuild(string line, int start, int end, string arguments)
        {
            if (arguments.Length == 0)
                throw new BuildException("ONBUILD needs an instruction to run in child images: write ONBUILD INSTRUCTION ...");
            int space = 0;
            while (space < arguments.Length && !char.IsWhiteSpace(arguments[space]))
                space++;
            string trigger = arguments[..space].ToUpperInvariant();
            if (trigger == "ONBUILD")
                throw new BuildException("ONBUILD ONBUILD is not allowed: an ONBUILD trigger cannot be chained");
            if (trigger is "FROM" or "MAINTAINER")
                throw new BuildException($"{trigger} is not allowed as an ONBUILD trigger");
            // BuildKit's ONBUILD takes no heredoc body either: the trigger is one line, run later.
            return new OnbuildInstruction(start, end, line, ParseLine(arguments, start, end, allowHeredocs: false));
        }

        private static HealthcheckInstruction Healthcheck(string line, int start, int end, string arguments)
        {
            var (flags, rest) = Extract("HEALTHCHECK", arguments, HealthcheckFlags);
            string[] parts = rest.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
                throw new BuildException("HEALTHCHECK needs NONE or CMD and a command: write HEALTHCHECK CMD COMMAND");
            string type = parts[0].ToUpperInvariant();
            if (type == "NONE")
            {
                if (parts.Length > 1)
                    throw new BuildException("HEALTHCHECK NONE takes no arguments: remove what follows NONE");
                return new HealthcheckInstruction(start, end, line, ["NONE"], default, default, default, default, 0);
            }
            if (type != "CMD")
                throw new BuildException($"unknown HEALTHCHECK type \"{parts[0]}\": write HEALTHCHECK CMD COMMAND or HEALTHCHECK NONE");
            if (parts.Length < 2)
                throw new BuildException("HEALTHCHECK CMD needs a command");
            var command = Command("HEALTHCHECK CMD", parts[1].Trim());
            IReadOnlyList<string> test = command.PrependShell ? ["CMD-SHELL", command.Arguments[0]] : ["CMD", .. command.Arguments];
            int retries = 0;
            if (flags.Text("retries") is { } written && (!int.TryParse(written, out retries) || retries < 0))
                throw new BuildException($"HEALTHCHECK --retries takes a whole number of at least 0, not \"{written}\"");
            return new HealthcheckInstruction(start, end, line, test, Interval(flags, "interval"), Interval(flags, "timeout"),
                Interval(flags, "start-period"), Interval(flags, "start-interval"), retries);
        }

        private static TimeSpan Interval(InstructionFlags flags, string name)
        {
            if (flags.Text(name) is not { } written)
                return TimeSpan.Zero;
            var value = GoDuration.Parse(written)
                ?? throw new BuildException($"HEALTHCHECK --{name} takes a duration such as 30s, 1m30s or 500ms, not \"{written}\"");
            if (value < TimeSpan.Zero)
                throw new BuildException($"HEALTHCHECK --{name} cannot be negative");
            if (value != TimeSpan.Zero && value < TimeSpan.FromMilliseconds(1))
                throw new BuildException($"HEALTHCHECK --{name} cannot be less than 1ms");
            return value;
        }

        /// <summary>
        /// BuildKit's word split for ENV, LABEL and ARG: whitespace separates words except inside quotes or after the escape
        /// character; quotes and escapes are kept (removed later, by substitution).
        /// </summary>
        private List<string> Words(string text)
        {
            var words = new List<string>();
            var word = new StringBuilder();
            bool inWord = false, blankOk = false;
            char quote = '\0';
            for (int i = 0; i < text.Length; i++)
            {
                char ch = text[i];
                if (quote == '\0')
                {
                    if (char.IsWhiteSpace(ch))
                    {
                        if (inWord && (blankOk || word.Length > 0))
                            words.Add(word.ToString());
                        word.Clear();
                        inWord = blankOk = false;
                        continue;
                    }
                    inWord = true;
                    if (ch is '\'' or '"')
                    {
                        quote = ch;
                        blankOk = true;
                    }
                    else if (ch == _escape)
                    {
                        if (i + 1 == text.Length)
                            continue;
                        word.Append(ch);
                        ch = text[++i];
                    }
                    word.Append(ch);
                    continue;
                }
                if (ch == quote)
                    quote = '\0';
                else if (ch == _escape && quote != '\'')
                {
                    if (i + 1 == text.Length)
                        continue;
                    word.Append(ch);
                    ch = text[++i];
                }
                word.Append(ch);
            }
            if (inWord && (blankOk || word.Length > 0))
                words.Add(word.ToString());
            return words;
        }
    }
}
