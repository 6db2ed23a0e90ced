using System.Text;
using System.Text.RegularExpressions;

namespace Skiff.Build.Context;

/// <summary>
/// .dockerignore and COPY --exclude patterns with moby/patternmatcher's semantics, which docker, BuildKit and buildah
/// share: patterns apply in order and the last one matching decides, `!` re-includes, `*` and `?` stay within one
/// path component, `**` crosses any number of them, and a pattern matching a directory matches everything below it
/// (so `!dir/keep` can only re-include below an excluded `dir` because later patterns win). Paths are relative to
/// the context, cleaned, with "/" separators.
/// </summary>
public sealed class IgnorePatterns
{
    private readonly List<Pattern> _patterns;

    private IgnorePatterns(List<Pattern> patterns) => _patterns = patterns;

    public static IgnorePatterns None { get; } = new([]);

    /// <summary>Whether a pattern re-includes something (then an excluded directory must still be walked).</summary>
    public bool HasExclusions => _patterns.Exists(p => p.Exclusion);

    public bool IsEmpty => _patterns.Count == 0;

    /// <summary>
    /// The patterns of a .dockerignore file: one per line, `#` comments and blank lines skipped, a leading "/" or
    /// "./" dropped (the context root is "/" to docker), each pattern cleaned as Go's filepath.Clean.
    /// <paramref name="fileName"/> names the file in errors.
    /// </summary>
    public static IgnorePatterns ParseDockerignore(string text, string fileName)
    {
        var lines = new List<string>();
        foreach (var raw in text.TrimStart('\uFEFF').Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('#'))
                continue;
            line = line.Trim();
            if (line.Length == 0)
                continue;
            bool invert = line[0] == '!';
            if (invert)
                line = line[1..].Trim();
            if (line.Length > 0)
            {
                line = Clean(line);
                if (line.Length > 1 && line[0] == '/')
                    line = line[1..];
            }
            lines.Add(invert ? "!" + line : line);
        }
        return Parse(lines, fileName);
    }

    /// <summary>Patterns given one by one (COPY --exclude); <paramref name="origin"/> names where they come from in errors.</summary>
    public static IgnorePatterns Parse(IEnumerable<string> patterns, string origin)
    {
        var list = new List<Pattern>();
        foreach (var raw in patterns)
        {
            var text = raw.Trim();
            if (text.Length == 0)
                continue;
            text = Clean(text);
            bool exclusion = text[0] == '!';
            if (exclusion)
            {
                if (text.Length == 1)
                    throw new BuildException($"{origin}: the pattern \"!\" excludes nothing; write what it re-includes after the \"!\"");
                text = text[1..];
            }
            var malformed = new BuildException($"{origin}: the pattern \"{raw.Trim()}\" is malformed (an unclosed [ or a trailing \\); fix or remove it");
            if (GoGlob.Match(text, ".") is null)
                throw malformed;
            try
            {
                list.Add(new Pattern(text, exclusion));
            }
            catch (ArgumentException)
            {
                // Go's filepath.Match accepts some classes its regexp then rejects; patternmatcher fails on them too.
                throw malformed;
            }
        }
        return new IgnorePatterns(list);
    }

    /// <summary>
    /// moby/patternmatcher's MatchesOrParentMatches: whether <paramref name="path"/> (cleaned, relative) is excluded,
    /// counting a pattern that matches one of its parent directories as matching it.
    /// </summary>
    public bool Matches(string path)
    {
        bool matched = false;
        int slash = path.LastIndexOf('/');
        string[] parents = slash < 0 ? [] : path[..slash].Split('/');
        foreach (var pattern in _patterns)
        {
            // Only a pattern that can change the answer is tried: an inclusion while not yet matched, an exclusion once matched.
            if (pattern.Exclusion != matched)
                continue;
            bool match = pattern.IsMatch(path);
            for (int i = 0; !match && i < parents.Length; i++)
                match = pattern.IsMatch(string.Join('/', parents, 0, i + 1));
            if (match)
                matched = !pattern.Exclusion;
        }
        return matched;
    }

    /// <summary>Go's filepath.Clean for a relative or absolute slash path ("" becomes ".").</summary>
    internal static string Clean(string path)
    {
        bool rooted = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
                continue;
            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
                parts.RemoveAt(parts.Count - 1);
            else if (part != ".." || !rooted)
                parts.Add(part);
        }
        var joined = string.Join('/', parts);
        return rooted ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    /// <summary>One pattern, compiled as patternmatcher compiles it: exact, prefix ("dir/**"), suffix ("**/x") or regex.</summary>
    private sealed class Pattern
    {
        private readonly string _text;
        private readonly Kind _kind;
        private readonly Regex? _regex;

        private enum Kind { Exact, Prefix, Suffix, Regex }

        public Pattern(string text, bool exclusion)
        {
            _text = text;
            Exclusion = exclusion;
            (_kind, _regex) = Compile(text);
        }

        public bool Exclusion { get; }

        public bool IsMatch(string path) => _kind switch
        {
            Kind.Exact => path == _text,
            Kind.Prefix => path.StartsWith(_text[..^2], StringComparison.Ordinal),
            Kind.Suffix => path.EndsWith(_text[2..], StringComparison.Ordinal) || (_text[2] == '/' && path == _text[3..]),
            _ => _regex!.IsMatch(path),
        };

        private static (Kind, Regex?) Compile(string pattern)
        {
            var regex = new StringBuilder("^");
            var kind = Kind.Exact;
            for (int i = 0, index = 0; i < pattern.Length; index++)
            {
                char c = pattern[i++];
                if (c == '*')
                {
                    if (i < pattern.Length && pattern[i] == '*')
                    {
                        i++;
                        if (i < pattern.Length && pattern[i] == '/')
                            i++;
                        if (i == pattern.Length)
                        {
                            if (kind == Kind.Exact)
                            {
                                kind = Kind.Prefix;
                            }
                            else
                            {
                                regex.Append(".*");
                                kind = Kind.Regex;
                            }
                        }
                        else
                        {
                            regex.Append("(.*/)?");
                            kind = Kind.Regex;
                        }
                        if (index == 0)
                            kind = Kind.Suffix;
                    }
                    else
                    {
                        regex.Append("[^/]*");
                        kind = Kind.Regex;
                    }
                }
                else if (c == '?')
                {
                    regex.Append("[^/]");
                    kind = Kind.Regex;
                }
                else if (".+()|{}$".Contains(c))
                {
                    regex.Append('\\').Append(c);
                }
                else if (c == '\\')
                {
                    if (i < pattern.Length)
                    {
                        regex.Append('\\').Append(pattern[i++]);
                        kind = Kind.Regex;
                    }
                    else
                    {
                        regex.Append("\\\\");
                    }
                }
                else if (c is '[' or ']')
                {
                    regex.Append(c);
                    kind = Kind.Regex;
                }
                else
                {
                    regex.Append(c);
                }
            }
            if (kind != Kind.Regex)
                return (kind, null);
            regex.Append('$');
            // Go's regexp runs in linear time whatever the pattern; so does .NET's non-backtracking engine, so many "**" cannot hang a build.
            return (kind, new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking));
        }
    }
}
