using System.Text;

namespace Skiff.Build.Dockerfile;

/// <summary>
/// Docker's variable substitution for Dockerfile words (BuildKit's shell lexer semantics, not a shell): <c>$v</c>,
/// <c>${v}</c>, <c>${v:-w}</c> <c>${v-w}</c> <c>${v:+w}</c> <c>${v+w}</c> <c>${v:?msg}</c> <c>${v?msg}</c>, the pattern
/// forms <c>${v#p}</c> <c>${v##p}</c> <c>${v%p}</c> <c>${v%%p}</c> <c>${v/p/r}</c> <c>${v//p/r}</c>; single quotes are
/// literal, double quotes let <c>$</c> expand and the escape character escape only <c>"</c>, <c>$</c> and itself; outside
/// quotes the escape character makes the next character literal. An unset variable expands to nothing.
/// Errors (unterminated quote, bad substitution, <c>${v:?}</c> on an unset variable) are <see cref="BuildException"/>s
/// without a line: the caller knows which instruction it expanded.
/// </summary>
public static class ShellWordExpander
{
    /// <summary>
    /// <paramref name="word"/> expanded as one word (whitespace kept); the names looked up are added to
    /// <paramref name="used"/> (for the cache key and docker's unused build-arg warning).
    /// </summary>
    public static string Expand(string word, IReadOnlyDictionary<string, string> env, char escape = '\\', ICollection<string>? used = null)
        => new Lexer(word, env, escape, used).Process().Result;

    /// <summary>
    /// <paramref name="text"/> expanded and split into words at unquoted whitespace, including whitespace that an unquoted
    /// variable's value brings (as docker: <c>EXPOSE $PORTS</c> with <c>PORTS="80 443"</c> is two ports).
    /// </summary>
    public static IReadOnlyList<string> ExpandWords(string text, IReadOnlyDictionary<string, string> env, char escape = '\\',
        ICollection<string>? used = null)
        => new Lexer(text, env, escape, used).Process().Words;

    /// <summary>
    /// The words of <paramref name="text"/> with quotes and escapes kept, variables unexpanded: how the parser finds
    /// heredoc markers (<c>&lt;&lt;"EOF"</c>) among an instruction's words.
    /// </summary>
    internal static IReadOnlyList<string> RawWords(string text, char escape)
        => new Lexer(text, new Dictionary<string, string>(), escape, null) { RawQuotes = true, RawEscapes = true, KeepUnset = true }
            .Process().Words;

    /// <summary>
    /// A COPY/ADD heredoc's body expanded as BuildKit's ExpandRaw does: quotes are ordinary characters (a variable
    /// inside them expands too), the escape character is always <c>\</c> and still escapes the next character, and a
    /// variable that is not set stays as written (<c>$HOME</c> is left for the program that reads the file).
    /// </summary>
    public static string ExpandHeredoc(string content, IReadOnlyDictionary<string, string> env)
        => new Lexer(content, env, '\\', null) { SkipQuotes = true, KeepUnset = true }.Process().Result;

    /// <summary>The words of <paramref name="text"/> with quotes removed and variables unexpanded (a heredoc's delimiter).</summary>
    internal static IReadOnlyList<string> UnquotedWords(string text, char escape)
        => new Lexer(text, new Dictionary<string, string>(), escape, null) { KeepUnset = true }.Process().Words;

    private const int End = -1;

    private sealed class Lexer(string text, IReadOnlyDictionary<string, string> env, char escape, ICollection<string>? used)
    {
        private int _position;

        public bool RawQuotes { get; init; }
        public bool RawEscapes { get; init; }
        public bool KeepUnset { get; init; }
        public bool SkipQuotes { get; init; }

        public (string Result, IReadOnlyList<string> Words) Process()
        {
            var (result, words, _) = ProcessUntil(stop: null);
            return (result, words.Finish());
        }

        private int Peek() => _position < text.Length ? text[_position] : End;

        private int Next() => _position < text.Length ? text[_position++] : End;

        /// <summary>Up to (and consuming) the first unquoted <paramref name="stop"/> character, or to the end.</summary>
        private (string Result, WordSplitter Words, bool Stopped) ProcessUntil(string? stop)
        {
            var result = new StringBuilder();
            var words = new WordSplitter();
            while (Peek() != End)
            {
                char ch = (char)Peek();
                if (stop is not null && stop.Contains(ch))
                {
                    Next();
                    return (result.ToString(), words, true);
                }
                switch (ch)
                {
                    case '\'' when !SkipQuotes:
                    {
                        string quoted = SingleQuoted();
                        result.Append(quoted);
                        words.AddRaw(quoted);
                        continue;
                    }
                    case '"' when !SkipQuotes:
                    {
                        string quoted = DoubleQuoted();
                        result.Append(quoted);
                        words.AddRaw(quoted);
                        continue;
                    }
                    case '$':
                    {
                        string value = Dollar();
                        result.Append(value);
                        words.AddSplitting(value);
                        continue;
                    }
                }
                Next();
                if (ch == escape)
                {
                    if (RawEscapes)
                    {
                        words.AddRaw(ch);
                        result.Append(ch);
                    }
                    // An escape character ending the word escapes nothing and is dropped, as docker's.
                    if (Peek() == End)
                        break;
                    ch = (char)Next();
                    words.AddRaw(ch);
                }
                else
                    words.Add(ch);
                result.Append(ch);
            }
            return (result.ToString(), words, false);
        }

        private string SingleQuoted()
        {
            var result = new StringBuilder();
            Next();
            if (RawQuotes)
                result.Append('\'');
            while (true)
            {
                int ch = Next();
                if (ch == End)
                    throw new BuildException("unexpected end of statement while looking for matching single-quote");
                if (ch == '\'')
                    break;
                result.Append((char)ch);
            }
            if (RawQuotes)
                result.Append('\'');
            return result.ToString();
        }

        private string DoubleQuoted()
        {
            var result = new StringBuilder();
            Next();
            if (RawQuotes)
                result.Append('"');
            while (true)
            {
                int peek = Peek();
                if (peek == End)
                    throw new BuildException("unexpected end of statement while looking for matching double-quote");
                if (peek == '"')
                {
                    Next();
                    break;
                }
                if (peek == '$')
                {
                    result.Append(Dollar());
                    continue;
                }
                char ch = (char)Next();
                if (ch == escape)
                {
                    if (RawEscapes)
                        result.Append(ch);
                    int after = Peek();
                    if (after == End)
                        continue;
                    // Only these can be escaped inside double quotes; any other escape character stays as written.
                    if (after == '"' || after == '$' || after == escape)
                        ch = (char)Next();
                }
                result.Append(ch);
            }
            if (RawQuotes)
                result.Append('"');
            return result.ToString();
        }

        private string Dollar()
        {
            Next();
            if (Peek() != '{')
            {
                string name = Name();
                if (name.Length == 0)
                    return "$";
                return Lookup(name, out bool set) is { } value && set ? value : KeepUnset ? "$" + name : "";
            }
            Next();
            int first = Peek();
            if (first == End)
                throw new BuildException("syntax error: missing '}'");
            if (first is '{' or '}' or ':')
                throw new BuildException("syntax error: bad substitution");
            string variable = Name();
            int modifier = Next();
            switch (modifier)
            {
                case '}':
                {
                    string? value = Lookup(variable, out bool set);
                    return set ? value! : KeepUnset ? "${" + variable + "}" : "";
                }
                case ':':
                {
                    int kind = Next();
                    string word = Operand();
                    string? value = Lookup(variable, out bool set);
                    if (!set && KeepUnset)
                        return $"${{{variable}:{(char)kind}{word}}}";
                    string current = value ?? "";
                    return kind switch
                    {
                        '-' => current.Length == 0 ? word : current,
                        '+' => current.Length == 0 ? "" : word,
                        '?' when !set => throw Unset(variable, word, "is not allowed to be unset"),
                        '?' when current.Length == 0 => throw Unset(variable, word, "is not allowed to be empty"),
                        '?' => current,
                        _ => throw Unsupported(kind),
                    };
                }
                case '-' or '+' or '?':
                {
                    string word = Operand();
                    string? value = Lookup(variable, out bool set);
                    if (!set && KeepUnset)
                        return $"${{{variable}{(char)modifier}{word}}}";
                    return modifier switch
                    {
                        '-' => set ? value! : word,
                        '+' => set ? word : "",
                        _ => set ? value! : throw Unset(variable, word, "is not allowed to be unset"),
                    };
                }
                case '#' or '%':
                {
                    bool longest = Peek() == modifier;
                    if (longest)
                        Next();
                    string pattern = Operand();
                    string? found = Lookup(variable, out bool set);
                    if (!set && KeepUnset)
                        return $"${{{variable}{(char)modifier}{(longest ? ((char)modifier).ToString() : "")}{pattern}}}";
                    string value = found ?? "";
                    var glob = Glob.Compile(pattern);
                    return modifier == '#' ? glob.RemovePrefix(value, longest) : glob.RemoveSuffix(value, longest);
                }
                case '/':
                {
                    bool all = Peek() == '/';
                    if (all)
                        Next();
                    var (pattern, _, stopped) = ProcessUntil("/}");
                    if (!stopped)
                        throw new BuildException("syntax error: missing '}'");
                    bool replaced = text[_position - 1] == '/';
                    string replacement = replaced ? Operand() : "";
                    string? found = Lookup(variable, out bool set);
                    if (!set && KeepUnset)
                        return $"${{{variable}/{(all ? "/" : "")}{pattern}{(replaced ? "/" + replacement : "")}}}";
                    string value = found ?? "";
                    return Glob.Compile(pattern).Replace(value, replacement, all);
                }
                case End:
                    throw new BuildException("syntax error: missing '}'");
                default:
                    throw Unsupported(modifier);
            }
        }

        /// <summary>The word after a modifier, itself expanded (docker allows <c>${a:-$b}</c>), up to the closing brace.</summary>
        private string Operand()
        {
            var (word, _, stopped) = ProcessUntil("}");
            if (!stopped)
                throw new BuildException("syntax error: missing '}'");
            return word;
        }

        private static BuildException Unsupported(int modifier)
            => modifier == End
                ? new BuildException("syntax error: missing '}'")
                : new BuildException($"unsupported modifier ({(char)modifier}) in substitution");

        private static BuildException Unset(string name, string message, string otherwise)
            => new($"{name}: {(message.Length > 0 ? message : otherwise)}");

        private string? Lookup(string name, out bool set)
        {
            used?.Add(name);
            set = env.TryGetValue(name, out string? value);
            return value;
        }

        /// <summary>A variable name: letters, digits and underscores; a run of digits or one special character alone.</summary>
        private string Name()
        {
            var name = new StringBuilder();
            while (Peek() != End)
            {
                char ch = (char)Peek();
                if (name.Length == 0 && char.IsDigit(ch))
                {
                    while (Peek() != End && char.IsDigit((char)Peek()))
                        name.Append((char)Next());
                    return name.ToString();
                }
                if (name.Length == 0 && "@*#?-$!0".Contains(ch))
                    return ((char)Next()).ToString();
                if (!char.IsLetterOrDigit(ch) && ch != '_')
                    break;
                name.Append((char)Next());
            }
            return name.ToString();
        }
    }

    /// <summary>
    /// Collects words: unquoted whitespace ends a word; quoted text and escaped characters never do. A word made only of
    /// empty quotes is dropped, as docker's.
    /// </summary>
    private sealed class WordSplitter
    {
        private readonly List<string> _words = [];
        private readonly StringBuilder _word = new();
        private bool _inWord;

        public void Add(char ch)
        {
            if (char.IsWhiteSpace(ch))
            {
                if (_inWord && _word.Length > 0)
                {
                    _words.Add(_word.ToString());
                    _word.Clear();
                    _inWord = false;
                }
            }
            else
                AddRaw(ch);
        }

        public void AddRaw(char ch)
        {
            _word.Append(ch);
            _inWord = true;
        }

        public void AddRaw(string text)
        {
            _word.Append(text);
            _inWord = true;
        }

        public void AddSplitting(string text)
        {
            foreach (char ch in text)
                Add(ch);
        }

        public IReadOnlyList<string> Finish()
        {
            if (_word.Length > 0)
                _words.Add(_word.ToString());
            return _words;
        }
    }
}
