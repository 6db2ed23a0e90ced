namespace Skiff.Cli.Templates;

internal abstract record Node(int Position);
internal sealed record TextNode(int Position, string Text) : Node(Position);
internal sealed record ActionNode(int Position, PipeNode Pipe) : Node(Position);
/// <summary>if, with and range: Kind is the keyword; ElseList may hold one nested node for "else if" / "else with".</summary>
internal sealed record BranchNode(int Position, string Kind, PipeNode Pipe, List<Node> List, List<Node>? ElseList) : Node(Position);
internal sealed record TemplateCallNode(int Position, string Name, PipeNode? Pipe) : Node(Position);
internal sealed record LoopControlNode(int Position, bool IsBreak) : Node(Position);
internal sealed record PipeNode(int Position, List<string> Declarations, bool IsAssign, List<CommandNode> Commands, string Source) : Node(Position);
internal sealed record CommandNode(int Position, List<Node> Args, string Source) : Node(Position);
internal sealed record FieldNode(int Position, string[] Names, string Source) : Node(Position);
internal sealed record VariableNode(int Position, string Name, string[] Names, string Source) : Node(Position);
internal sealed record ChainNode(int Position, Node Receiver, string[] Names, string Source) : Node(Position);
internal sealed record IdentifierNode(int Position, string Name) : Node(Position);
internal sealed record LiteralNode(int Position, object? Value, string Source) : Node(Position);
internal sealed record DotNode(int Position) : Node(Position);

/// <summary>Go's text/template parser, with its error messages ("template: :LINE: ...").</summary>
internal sealed class TemplateParser
{
    private readonly string _source;
    private readonly List<Token> _tokens;
    private readonly Func<string, bool> _isFunction;
    private readonly List<string> _variables = ["$"];
    private readonly Dictionary<string, List<Node>> _templates;
    private int _index;
    private int _rangeDepth;
    private Token _last;

    private TemplateParser(string source, Func<string, bool> isFunction, Dictionary<string, List<Node>> templates)
    {
        _source = source;
        _tokens = TemplateLexer.Lex(source);
        _isFunction = isFunction;
        _templates = templates;
    }

    /// <summary>Parses <paramref name="source"/>; named templates ({{define}}, {{block}}) land in <paramref name="templates"/>.</summary>
    public static List<Node> Parse(string source, Func<string, bool> isFunction, Dictionary<string, List<Node>> templates)
    {
        var parser = new TemplateParser(source, isFunction, templates);
        var list = new List<Node>();
        while (parser.PeekNonSpace().Kind != TokenKind.Eof)
        {
            if (parser.Peek().Kind == TokenKind.LeftDelim && parser.PeekAfterDelim() is { Kind: TokenKind.Keyword, Value: "define" })
            {
                parser.Next();
                parser.NextNonSpace();
                parser.Definition();
                continue;
            }
            var node = parser.TextOrAction();
            if (node is EndMarker or ElseMarker)
                throw parser.Error($"unexpected {{{{{(node is EndMarker ? "end" : "else")}}}}}");
            list.Add(node);
        }
        return list;
    }

    private sealed record EndMarker(int Position) : Node(Position);
    private sealed record ElseMarker(int Position, bool Chained) : Node(Position);

    private TemplateException Error(string message) => new($"template: :{_last.Line}: {message}");

    private TemplateException Unexpected(Token token, string context)
        => token.Kind == TokenKind.Keyword && token.Value is "end" or "else" ? Error($"unexpected {{{{{token.Value}}}}}") : Error($"unexpected {token} in {context}");

    private Token Next()
    {
        _last = _tokens[Math.Min(_index++, _tokens.Count - 1)];
        return _last.Kind == TokenKind.Error ? throw Error(_last.Value) : _last;
    }

    private Token Peek() => _tokens[Math.Min(_index, _tokens.Count - 1)];
    private void Backup() => _index--;

    private Token NextNonSpace()
    {
        var token = Next();
        while (token.Kind == TokenKind.Space)
            token = Next();
        return token;
    }

    private Token PeekNonSpace()
    {
        int saved = _index;
        var token = NextNonSpace();
        _index = saved;
        return token;
    }

    private Token PeekAfterDelim()
    {
        int saved = _index;
        Next();
        var token = NextNonSpace();
        _index = saved;
        return token;
    }

    private Node TextOrAction()
    {
        var token = NextNonSpace();
        return token.Kind switch
        {
            TokenKind.Text => new TextNode(token.Position, token.Value),
            TokenKind.LeftDelim => Action(),
            _ => throw Unexpected(token, "input"),
        };
    }

    /// <summary>Nodes up to {{end}} or {{else}}; returns which ended the list.</summary>
    private (List<Node> List, Node End) ItemList()
    {
        var list = new List<Node>();
        while (PeekNonSpace().Kind != TokenKind.Eof)
        {
            var node = TextOrAction();
            if (node is EndMarker or ElseMarker)
                return (list, node);
            list.Add(node);
        }
        throw Error("unexpected EOF");
    }

    private Node Action()
    {
        var token = NextNonSpace();
        if (token.Kind == TokenKind.Keyword)
        {
            switch (token.Value)
            {
                case "block": return Block(token);
                case "break" or "continue": return LoopControl(token);
                case "else": return Else(token);
                case "end": ExpectRightDelim("end"); return new EndMarker(token.Position);
                case "if" or "with" or "range": return Branch(token);
                case "template": return TemplateCall(token);
                case "define": throw Error("unexpected <define> in command");
            }
        }
        Backup();
        return new ActionNode(token.Position, Pipeline("command", TokenKind.RightDelim));
    }

    private void ExpectRightDelim(string context)
    {
        var token = NextNonSpace();
        if (token.Kind != TokenKind.RightDelim)
            throw Unexpected(token, context);
    }

    private Node LoopControl(Token token)
    {
        ExpectRightDelim(token.Value);
        if (_rangeDepth == 0)
            throw Error($"{{{{{token.Value}}}}} outside {{{{range}}}}");
        return new LoopControlNode(token.Position, token.Value == "break");
    }

    private Node Else(Token token)
    {
        // "else if" and "else with" chain into a nested branch that shares the outer {{end}}.
        var next = PeekNonSpace();
        if (next is { Kind: TokenKind.Keyword, Value: "if" or "with" })
            return new ElseMarker(token.Position, true);
        ExpectRightDelim("else");
        return new ElseMarker(token.Position, false);
    }

    private Node Branch(Token keyword)
    {
        int mark = _variables.Count;
        if (keyword.Value == "range")
            _rangeDepth++;
        var pipe = Pipeline(keyword.Value, TokenKind.RightDelim);
        var (list, end) = ItemList();
        if (keyword.Value == "range")
            _rangeDepth--;
        List<Node>? elseList = null;
        if (end is ElseMarker { Chained: var chained })
        {
            if (chained)
            {
                var nested = NextNonSpace();
                elseList = [Branch(nested)];
            }
            else
            {
                var (otherwise, otherEnd) = ItemList();
                if (otherEnd is ElseMarker)
                    throw Error($"expected end; found {{{{else}}}}");
                elseList = otherwise;
            }
        }
        _variables.RemoveRange(mark, _variables.Count - mark);
        return new BranchNode(keyword.Position, keyword.Value, pipe, list, elseList);
    }

    private string TemplateName(string context)
    {
        var token = NextNonSpace();
        if (token.Kind != TokenKind.String)
            throw Unexpected(token, context);
        return TemplateLexer.Unquote(token.Value) ?? throw Error($"bad string {token.Value}");
    }

    private Node TemplateCall(Token keyword)
    {
        string name = TemplateName("template clause");
        PipeNode? pipe = null;
        if (PeekNonSpace().Kind != TokenKind.RightDelim)
            pipe = Pipeline("template clause", TokenKind.RightDelim);
        else
            NextNonSpace();
        return new TemplateCallNode(keyword.Position, name, pipe);
    }

    private Node Block(Token keyword)
    {
        string name = TemplateName("block clause");
        var pipe = Pipeline("block clause", TokenKind.RightDelim);
        DefineBody(name);
        return new TemplateCallNode(keyword.Position, name, pipe);
    }

    private void Definition()
    {
        string name = TemplateName("define clause");
        ExpectRightDelim("define clause");
        DefineBody(name);
    }

    private void DefineBody(string name)
    {
        var saved = _variables.ToList();
        _variables.RemoveRange(1, _variables.Count - 1);
        var (list, end) = ItemList();
        if (end is not EndMarker)
            throw Error("unexpected {{else}}");
        _variables.Clear();
        _variables.AddRange(saved);
        _templates[name] = list;
    }

    private PipeNode Pipeline(string context, TokenKind end)
    {
        var start = PeekNonSpace();
        var declarations = new List<string>();
        bool isAssign = false;
        // Declarations: $x := / $x = / $i, $v := (range only).
        if (start.Kind == TokenKind.Variable)
        {
            int saved = _index;
            var variable = NextNonSpace();
            var next = NextNonSpace();
            if (next.Kind is TokenKind.Declare or TokenKind.Assign)
            {
                declarations.Add(variable.Value);
                isAssign = next.Kind == TokenKind.Assign;
            }
            else if (next.Kind == TokenKind.Comma && context == "range")
            {
                var second = NextNonSpace();
                var operation = second.Kind == TokenKind.Variable ? NextNonSpace() : second;
                if (second.Kind != TokenKind.Variable || operation.Kind is not (TokenKind.Declare or TokenKind.Assign))
                    throw Error("range can only initialize variables");
                declarations.Add(variable.Value);
                declarations.Add(second.Value);
                isAssign = operation.Kind == TokenKind.Assign;
            }
            else if (next.Kind == TokenKind.Comma)
            {
                throw Error($"too many declarations in {context}");
            }
            else
            {
                _index = saved;
            }
        }
        var commands = new List<CommandNode>();
        while (true)
        {
            var token = NextNonSpace();
            if (token.Kind == end)
            {
                if (commands.Count == 0)
                    throw Error($"missing value for {context}");
                for (int i = 1; i < commands.Count; i++)
                {
                    if (commands[i].Args[0] is LiteralNode or DotNode)
                        throw Error($"non executable command in pipeline stage {i + 1}");
                }
                break;
            }
            if (token.Kind is TokenKind.Bool or TokenKind.Char or TokenKind.Dot or TokenKind.Field or TokenKind.Identifier
                or TokenKind.Number or TokenKind.Nil or TokenKind.String or TokenKind.Variable or TokenKind.LeftParen)
            {
                Backup();
                commands.Add(Command());
                continue;
            }
            throw Unexpected(token, context);
        }
        foreach (var declared in declarations)
        {
            if (isAssign && !_variables.Contains(declared))
                throw Error($"undefined variable \"{declared}\"");
            if (!isAssign)
                _variables.Add(declared);
        }
        int stop = _last.Position;
        string text = _source[start.Position..Math.Max(start.Position, stop)].Trim();
        return new PipeNode(start.Position, declarations, isAssign, commands, text);
    }

    private CommandNode Command()
    {
        var args = new List<Node>();
        int start = PeekNonSpace().Position;
        while (true)
        {
            PeekNonSpace();
            var operand = Operand();
            if (operand is not null)
                args.Add(operand);
            var token = Next();
            switch (token.Kind)
            {
                case TokenKind.Space:
                    continue;
                case TokenKind.RightDelim or TokenKind.RightParen:
                    Backup();
                    break;
                case TokenKind.Pipe:
                    break;
                default:
                    throw Unexpected(token, "operand");
            }
            break;
        }
        if (args.Count == 0)
            throw Error("empty command");
        return new CommandNode(start, args, _source[start.._last.Position].Trim());
    }

    private Node? Operand()
    {
        var term = Term();
        if (term is null)
            return null;
        if (Peek().Kind != TokenKind.Field)
            return term;
        // As Go's parser: a chain is positioned at its first added field.
        int position = Peek().Position;
        var names = new List<string>();
        while (Peek().Kind == TokenKind.Field)
            names.Add(Next().Value[1..]);
        string source = _source[term.Position..(_last.Position + _last.Value.Length)];
        return term switch
        {
            FieldNode field => new FieldNode(position, [.. field.Names, .. names], source),
            VariableNode variable => new VariableNode(position, variable.Name, [.. variable.Names, .. names], source),
            LiteralNode or DotNode => throw Error($"unexpected . after term {TemplateFormatter.Quote(source[..source.IndexOf('.', 1)])}"),
            _ => new ChainNode(position, term, [.. names], source),
        };
    }

    private Node? Term()
    {
        var token = NextNonSpace();
        switch (token.Kind)
        {
            case TokenKind.Identifier:
                if (!_isFunction(token.Value))
                    throw Error($"function {TemplateFormatter.Quote(token.Value)} not defined");
                return new IdentifierNode(token.Position, token.Value);
            case TokenKind.Dot:
                return new DotNode(token.Position);
            case TokenKind.Nil:
                return new LiteralNode(token.Position, null, "nil");
            case TokenKind.Variable:
                if (!_variables.Contains(token.Value))
                    throw Error($"undefined variable \"{token.Value}\"");
                return new VariableNode(token.Position, token.Value, [], token.Value);
            case TokenKind.Field:
                return new FieldNode(token.Position, [token.Value[1..]], token.Value);
            case TokenKind.Bool:
                return new LiteralNode(token.Position, token.Value == "true", token.Value);
            case TokenKind.Number:
                return new LiteralNode(token.Position, TemplateLexer.ParseNumber(token.Value) ?? throw Error($"bad number syntax: {TemplateFormatter.Quote(token.Value)}"), token.Value);
            case TokenKind.String:
                return new LiteralNode(token.Position, TemplateLexer.Unquote(token.Value) ?? throw Error($"bad string {token.Value}"), token.Value);
            case TokenKind.LeftParen:
                var pipe = Pipeline("parenthesized pipeline", TokenKind.RightParen);
                return new ChainNode(token.Position, pipe, [], "(" + pipe.Source + ")");
        }
        Backup();
        return null;
    }
}
