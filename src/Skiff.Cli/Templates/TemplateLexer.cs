using System.Globalization;
using System.Text;

namespace Skiff.Cli.Templates;

internal enum TokenKind
{
    Text, LeftDelim, RightDelim, Space, Field, Variable, Identifier, String, Number, Char, Bool, Nil, Dot, Pipe,
    LeftParen, RightParen, Declare, Assign, Comma, Keyword, Eof, Error,
}

internal readonly record struct Token(TokenKind Kind, string Value, int Position, int Line)
{
    /// <summary>As Go's parser names a token in its errors.</summary>
    public override string ToString() => Kind switch
    {
        TokenKind.Eof => "EOF",
        TokenKind.Keyword => $"<{Value}>",
        _ => Value.Length > 10 ? TemplateFormatter.Quote(Value[..10]) + "..." : TemplateFormatter.Quote(Value),
    };
}

/// <summary>Go's text/template lexer: text, actions between {{ }}, trim markers and comments.</summary>
internal sealed class TemplateLexer
{
    private static readonly HashSet<string> Keywords = ["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"];
    private readonly string _input;
    private readonly List<Token> _tokens = [];
    private int _position;
    private int _line = 1;
    private int _parenDepth;

    private TemplateLexer(string input) => _input = input;

    public static List<Token> Lex(string input)
    {
        var lexer = new TemplateLexer(input);
        try
        {
            lexer.Run();
        }
        catch (LexException error)
        {
            // Go lexes as the parser reads, so a parse error before the bad spot is the one reported.
            lexer._tokens.Add(new Token(TokenKind.Error, error.Message, lexer._position, lexer._line));
        }
        return lexer._tokens;
    }

    private sealed class LexException(string message) : Exception(message);

    private static LexException Error(string message) => new(message);

    private void Emit(TokenKind kind, int start, string? value = null)
    {
        _tokens.Add(new Token(kind, value ?? _input[start.._position], start, _line));
        _line += (value ?? _input[start.._position]).Count(c => c == '\n');
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private void Run()
    {
        bool trimNext = false;
        while (_position < _input.Length)
        {
            int open = _input.IndexOf("{{", _position, StringComparison.Ordinal);
            int end = open < 0 ? _input.Length : open;
            bool trimBefore = open >= 0 && open + 3 < _input.Length && _input[open + 2] == '-' && IsSpace(_input[open + 3]);
            string text = _input[_position..end];
            if (trimNext)
                text = text.TrimStart(' ', '\t', '\r', '\n');
            if (trimBefore)
                text = text.TrimEnd(' ', '\t', '\r', '\n');
            if (text.Length > 0)
                _tokens.Add(new Token(TokenKind.Text, text, _position, _line));
            _line += _input[_position..end].Count(c => c == '\n');
            if (open < 0)
                break;
            _position = open;
            _tokens.Add(new Token(TokenKind.LeftDelim, "{{", open, _line));
            _position += trimBefore ? 4 : 2;
            trimNext = Comment() ?? InsideAction();
        }
        _tokens.Add(new Token(TokenKind.Eof, "", _input.Length, _line));
    }

    /// <summary>A comment right after the delimiter (and trim marker): returns whether it trims after, or null when no comment.</summary>
    private bool? Comment()
    {
        if (!_input.AsSpan(_position).StartsWith("/*"))
            return null;
        int close = _input.IndexOf("*/", _position + 2, StringComparison.Ordinal);
        if (close < 0)
            throw Error("unclosed comment");
        _line += _input[_position..close].Count(c => c == '\n');
        _position = close + 2;
        bool trim = _position < _input.Length && IsSpace(_input[_position]) && _input.AsSpan(_position + 1).StartsWith("-}}");
        if (trim)
            _position += 2;
        if (!_input.AsSpan(_position).StartsWith("}}"))
            throw Error("comment ends before closing delimiter");
        _tokens.RemoveAt(_tokens.Count - 1);
        _position += 2;
        return trim;
    }

    /// <summary>Lexes one action up to its closing delimiter; returns whether it ends with a trim marker.</summary>
    private bool InsideAction()
    {
        while (true)
        {
            if (_position >= _input.Length)
                throw Error("unclosed action");
            bool rightTrim = IsSpace(_input[_position]) && _input.AsSpan(_position + 1).StartsWith("-}}");
            if (rightTrim || _input.AsSpan(_position).StartsWith("}}"))
            {
                if (_parenDepth > 0)
                    throw Error("unclosed left paren");
                if (rightTrim)
                    _position += 2;
                _tokens.Add(new Token(TokenKind.RightDelim, "}}", _position, _line));
                _position += 2;
                return rightTrim;
            }
            int start = _position;
            char c = _input[_position];
            if (IsSpace(c))
            {
                while (_position < _input.Length && IsSpace(_input[_position]) && !_input.AsSpan(_position + 1).StartsWith("-}}"))
                    _position++;
                Emit(TokenKind.Space, start);
                continue;
            }
            _position++;
            switch (c)
            {
                case '=':
                    Emit(TokenKind.Assign, start);
                    break;
                case ':':
                    if (_position >= _input.Length || _input[_position] != '=')
                        throw Error("expected :=");
                    _position++;
                    Emit(TokenKind.Declare, start);
                    break;
                case '|':
                    Emit(TokenKind.Pipe, start);
                    break;
                case ',':
                    Emit(TokenKind.Comma, start);
                    break;
                case '"':
                    Quoted(start, '"', TokenKind.String, "unterminated quoted string");
                    break;
                case '`':
                    int close = _input.IndexOf('`', _position);
                    if (close < 0)
                        throw Error("unterminated raw quoted string");
                    _position = close + 1;
                    Emit(TokenKind.String, start);
                    break;
                case '\'':
                    Quoted(start, '\'', TokenKind.Number, "unterminated character constant");
                    break;
                case '$':
                    Word();
                    Emit(TokenKind.Variable, start);
                    break;
                case '(':
                    _parenDepth++;
                    Emit(TokenKind.LeftParen, start);
                    break;
                case ')':
                    if (--_parenDepth < 0)
                        throw Error("unexpected right paren");
                    Emit(TokenKind.RightParen, start);
                    break;
                case '.':
                    if (_position < _input.Length && char.IsAsciiDigit(_input[_position]))
                    {
                        Number(start);
                        break;
                    }
                    Word();
                    Emit(_position - start == 1 ? TokenKind.Dot : TokenKind.Field, start);
                    break;
                case '+' or '-':
                case >= '0' and <= '9':
                    Number(start);
                    break;
                default:
                    if (char.IsLetter(c) || c == '_')
                    {
                        Word();
                        string word = _input[start.._position];
                        Emit(Keywords.Contains(word) ? TokenKind.Keyword : word is "true" or "false" ? TokenKind.Bool : word == "nil" ? TokenKind.Nil : TokenKind.Identifier, start);
                    }
                    else if (c < 0x7f && !char.IsControl(c))
                    {
                        Emit(TokenKind.Char, start);
                    }
                    else
                    {
                        throw Error($"bad character U+{(int)c:X4}");
                    }
                    break;
            }
        }
    }

    private void Word()
    {
        while (_position < _input.Length && (char.IsLetterOrDigit(_input[_position]) || _input[_position] == '_'))
            _position++;
    }

    /// <summary>A quoted literal up to its closing <paramref name="quote"/> ('"' a string, '\'' a character constant, a number).</summary>
    private void Quoted(int start, char quote, TokenKind kind, string unterminated)
    {
        while (true)
        {
            if (_position >= _input.Length || _input[_position] == '\n')
                throw Error(unterminated);
            char c = _input[_position++];
            if (c == '\\' && _position < _input.Length)
                _position++;
            else if (c == quote)
                break;
        }
        Emit(kind, start);
    }

    private void Number(int start)
    {
        while (_position < _input.Length && (char.IsAsciiLetterOrDigit(_input[_position]) || _input[_position] is '.' or '_' or '+' or '-')
            && !(_input[_position] is '+' or '-' && !(_input[_position - 1] is 'e' or 'E' or 'p' or 'P')))
            _position++;
        string text = _input[start.._position];
        if (ParseNumber(text) is null)
            throw Error($"bad number syntax: {TemplateFormatter.Quote(text)}");
        Emit(TokenKind.Number, start);
    }

    /// <summary>A Go numeric literal (decimal, 0x, 0o, 0b, float, 'c') as a long when whole, else a double.</summary>
    public static object? ParseNumber(string text)
    {
        if (text.Length >= 3 && text[0] == '\'')
            return Unquote(text) is { Length: > 0 } value ? (long)char.ConvertToUtf32(value, 0) : null;
        string digits = text.Replace("_", "");
        bool negative = digits.StartsWith('-');
        string body = digits.TrimStart('+', '-');
        long? whole = body.Length > 2 && body[0] == '0' && body[1] is 'x' or 'X' ? Based(body[2..], 16)
            : body.Length > 2 && body[0] == '0' && body[1] is 'o' or 'O' ? Based(body[2..], 8)
            : body.Length > 2 && body[0] == '0' && body[1] is 'b' or 'B' ? Based(body[2..], 2)
            : body.Length > 1 && body[0] == '0' && body.All(char.IsAsciiDigit) ? Based(body[1..], 8)
            : long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        if (whole is { } w)
            return negative ? -w : w;
        if (body.Length > 0 && char.IsAsciiDigit(body[0]) || body.StartsWith('.'))
        {
            if (double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                return negative ? -d : d;
        }
        return null;
    }

    private static long? Based(string digits, int radix)
    {
        if (digits.Length == 0)
            return null;
        try
        {
            return Convert.ToInt64(digits, radix);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The value of a Go string or character literal (quotes included), or null when malformed.</summary>
    public static string? Unquote(string literal)
    {
        if (literal[0] == '`')
            return literal[1..^1];
        var text = new StringBuilder();
        for (int i = 1; i < literal.Length - 1; i++)
        {
            char c = literal[i];
            if (c != '\\')
            {
                text.Append(c);
                continue;
            }
            char e = literal[++i];
            switch (e)
            {
                case 'n': text.Append('\n'); break;
                case 't': text.Append('\t'); break;
                case 'r': text.Append('\r'); break;
                case 'a': text.Append('\a'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'v': text.Append('\v'); break;
                case '\\' or '"' or '\'': text.Append(e); break;
                case 'x' or 'u' or 'U':
                    int length = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + length >= literal.Length || !int.TryParse(literal.AsSpan(i + 1, length), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                        return null;
                    if (e == 'x')
                        text.Append((char)code);
                    else
                        text.Append(char.ConvertFromUtf32(code));
                    i += length;
                    break;
                default:
                    return null;
            }
        }
        return text.ToString();
    }
}
