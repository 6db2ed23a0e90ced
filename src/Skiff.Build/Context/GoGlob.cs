namespace Skiff.Build.Context;

/// <summary>
/// Go's path/filepath.Match, which docker uses for COPY/ADD source globs and to check .dockerignore patterns: `*`
/// and `?` never match "/", `[...]` classes (negated with `^`), `\` escapes. Ported rather than mapped to a regex
/// so that what matches, and which patterns are malformed, is exactly what docker decides.
/// </summary>
internal static class GoGlob
{
    /// <summary>Whether <paramref name="pattern"/> has any character Match gives a meaning to.</summary>
    public static bool HasMeta(string pattern) => pattern.AsSpan().IndexOfAny("*?[\\") >= 0;

    /// <summary>Whether <paramref name="name"/> matches <paramref name="pattern"/>; null when the pattern is malformed (Go's ErrBadPattern).</summary>
    public static bool? Match(string pattern, string name)
    {
        while (pattern.Length > 0)
        {
            var (star, chunk, rest) = ScanChunk(pattern);
            pattern = rest;
            if (star && chunk.Length == 0)
                return !name.Contains('/');
            var (remaining, ok, bad) = MatchChunk(chunk, name);
            if (ok && (remaining.Length == 0 || pattern.Length > 0))
            {
                name = remaining;
                continue;
            }
            if (bad)
                return null;
            bool found = false;
            if (star)
            {
                for (int i = 0; i < name.Length && name[i] != '/'; i++)
                {
                    (remaining, ok, bad) = MatchChunk(chunk, name[(i + 1)..]);
                    if (ok)
                    {
                        if (pattern.Length == 0 && remaining.Length > 0)
                            continue;
                        name = remaining;
                        found = true;
                        break;
                    }
                    if (bad)
                        return null;
                }
            }
            if (found)
                continue;
            // Go reports a malformed rest of the pattern even when the name has already failed to match.
            while (pattern.Length > 0)
            {
                (_, chunk, pattern) = ScanChunk(pattern);
                if (MatchChunk(chunk, "").Bad)
                    return null;
            }
            return false;
        }
        return name.Length == 0;
    }

    private static (bool Star, string Chunk, string Remaining) ScanChunk(string pattern)
    {
        bool star = false;
        while (pattern.Length > 0 && pattern[0] == '*')
        {
            pattern = pattern[1..];
            star = true;
        }
        bool inRange = false;
        int i;
        for (i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                if (i + 1 < pattern.Length)
                    i++;
            }
            else if (pattern[i] == '[')
            {
                inRange = true;
            }
            else if (pattern[i] == ']')
            {
                inRange = false;
            }
            else if (pattern[i] == '*' && !inRange)
            {
                break;
            }
        }
        return (star, pattern[..i], pattern[i..]);
    }

    private static (string Remaining, bool Ok, bool Bad) MatchChunk(string chunk, string s)
    {
        bool failed = false;
        while (chunk.Length > 0)
        {
            if (!failed && s.Length == 0)
                failed = true;
            switch (chunk[0])
            {
                case '[':
                    int r = -1;
                    if (!failed)
                    {
                        r = s.ConvertToUtf32OrSelf(out int used);
                        s = s[used..];
                    }
                    chunk = chunk[1..];
                    bool negated = chunk.Length > 0 && chunk[0] == '^';
                    if (negated)
                        chunk = chunk[1..];
                    bool match = false;
                    int ranges = 0;
                    while (true)
                    {
                        if (chunk.Length > 0 && chunk[0] == ']' && ranges > 0)
                        {
                            chunk = chunk[1..];
                            break;
                        }
                        if (!Escaped(ref chunk, out int lo))
                            return ("", false, true);
                        int hi = lo;
                        if (chunk[0] == '-')
                        {
                            chunk = chunk[1..];
                            if (!Escaped(ref chunk, out hi))
                                return ("", false, true);
                        }
                        if (lo <= r && r <= hi)
                            match = true;
                        ranges++;
                    }
                    if (match == negated)
                        failed = true;
                    break;
                case '?':
                    if (!failed)
                    {
                        if (s[0] == '/')
                            failed = true;
                        s.ConvertToUtf32OrSelf(out int skipped);
                        s = s[skipped..];
                    }
                    chunk = chunk[1..];
                    break;
                default:
                    if (chunk[0] == '\\')
                    {
                        chunk = chunk[1..];
                        if (chunk.Length == 0)
                            return ("", false, true);
                    }
                    if (!failed)
                    {
                        if (chunk[0] != s[0])
                            failed = true;
                        s = s[1..];
                    }
                    chunk = chunk[1..];
                    break;
            }
        }
        return failed ? ("", false, false) : (s, true, false);
    }

    /// <summary>One character of a class (Go's getEsc); false for a malformed class.</summary>
    private static bool Escaped(ref string chunk, out int rune)
    {
        rune = 0;
        if (chunk.Length == 0 || chunk[0] is '-' or ']')
            return false;
        if (chunk[0] == '\\')
        {
            chunk = chunk[1..];
            if (chunk.Length == 0)
                return false;
        }
        rune = chunk.ConvertToUtf32OrSelf(out int used);
        chunk = chunk[used..];
        return chunk.Length > 0;
    }

    private static int ConvertToUtf32OrSelf(this string s, out int used)
    {
        if (s.Length > 1 && char.IsSurrogatePair(s[0], s[1]))
        {
            used = 2;
            return char.ConvertToUtf32(s[0], s[1]);
        }
        used = 1;
        return s[0];
    }
}
