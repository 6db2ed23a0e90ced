namespace Skiff.Build.Dockerfile;

/// <summary>
/// A shell pattern (<c>*</c>, <c>?</c>, <c>[a-z]</c>, <c>[!x]</c>, <c>\x</c>) for <c>${v#p}</c>, <c>${v%p}</c> and
/// <c>${v/p/r}</c>. Matching is a table over pattern and text (time proportional to their product), so that no pattern,
/// however many stars it has, can make a build hang.
/// </summary>
internal sealed class Glob
{
    private enum Kind { Literal, AnyOne, AnyRun, Set }

    private readonly record struct Token(Kind Kind, char Literal = '\0', string Set = "", bool Negated = false)
    {
        public bool Matches(char ch) => Kind switch
        {
            Kind.Literal => ch == Literal,
            Kind.Set => InSet(ch) != Negated,
            _ => true,
        };

        private bool InSet(char ch)
        {
            for (int i = 0; i < Set.Length; i++)
            {
                if (i + 2 < Set.Length && Set[i + 1] == '-')
                {
                    if (ch >= Set[i] && ch <= Set[i + 2])
                        return true;
                    i += 2;
                }
                else if (Set[i] == ch)
                    return true;
            }
            return false;
        }
    }

    private readonly Token[] _tokens;

    private Glob(Token[] tokens) => _tokens = tokens;

    public static Glob Compile(string pattern)
    {
        var tokens = new List<Token>();
        for (int i = 0; i < pattern.Length; i++)
        {
            char ch = pattern[i];
            switch (ch)
            {
                case '*':
                    tokens.Add(new Token(Kind.AnyRun));
                    break;
                case '?':
                    tokens.Add(new Token(Kind.AnyOne));
                    break;
                case '\\' when i + 1 < pattern.Length:
                    tokens.Add(new Token(Kind.Literal, pattern[++i]));
                    break;
                case '[':
                {
                    int start = i + 1;
                    bool negated = start < pattern.Length && pattern[start] is '!' or '^';
                    if (negated)
                        start++;
                    // A ']' right after the opening bracket is a member, as in the shell.
                    int close = pattern.IndexOf(']', Math.Min(start + 1, pattern.Length));
                    if (close < 0)
                    {
                        tokens.Add(new Token(Kind.Literal, '['));
                        break;
                    }
                    tokens.Add(new Token(Kind.Set, Set: pattern[start..close], Negated: negated));
                    i = close;
                    break;
                }
                default:
                    tokens.Add(new Token(Kind.Literal, ch));
                    break;
            }
        }
        return new Glob([.. tokens]);
    }

    /// <summary>For each length n, whether <paramref name="tokens"/> match the first n characters of <paramref name="text"/>.</summary>
    private static bool[] PrefixMatches(Token[] tokens, ReadOnlySpan<char> text)
    {
        // row[j]: the tokens so far match text[..j].
        var row = new bool[text.Length + 1];
        row[0] = true;
        var next = new bool[text.Length + 1];
        foreach (var token in tokens)
        {
            Array.Clear(next);
            if (token.Kind == Kind.AnyRun)
            {
                bool reached = false;
                for (int j = 0; j <= text.Length; j++)
                {
                    reached |= row[j];
                    next[j] = reached;
                }
            }
            else
            {
                for (int j = 1; j <= text.Length; j++)
                    next[j] = row[j - 1] && token.Matches(text[j - 1]);
            }
            (row, next) = (next, row);
        }
        return row;
    }

    public string RemovePrefix(string value, bool longest)
    {
        bool[] matches = PrefixMatches(_tokens, value);
        int length = Pick(matches, longest);
        return length < 0 ? value : value[length..];
    }

    public string RemoveSuffix(string value, bool longest)
    {
        char[] reversed = value.ToCharArray();
        Array.Reverse(reversed);
        Token[] tokens = [.. _tokens];
        Array.Reverse(tokens);
        int length = Pick(PrefixMatches(tokens, reversed), longest);
        return length < 0 ? value : value[..^length];
    }

    /// <summary>Replaces the longest match at the first position where one starts (every such match with <paramref name="all"/>).</summary>
    public string Replace(string value, string replacement, bool all)
    {
        if (_tokens.Length == 0)
            return value;
        var result = new System.Text.StringBuilder();
        int position = 0;
        while (position < value.Length)
        {
            int length = Pick(PrefixMatches(_tokens, value.AsSpan(position)), longest: true);
            if (length <= 0)
            {
                result.Append(value[position++]);
                continue;
            }
            result.Append(replacement);
            position += length;
            if (!all)
                return result.Append(value[position..]).ToString();
        }
        return result.ToString();
    }

    private static int Pick(bool[] matches, bool longest)
    {
        if (longest)
            return Array.LastIndexOf(matches, true);
        return Array.IndexOf(matches, true);
    }
}
