using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Skiff.Cli.Templates;

/// <summary>A bad template or a failed execution, with Go's message ("template: :1:5: ..."): one line, exit status 125.</summary>
internal sealed class TemplateException(string message) : SkiffException(ErrorKind.InvalidArgument, message);

/// <summary>
/// A struct in the template's data: exact-case fields (an unknown one is an error, as for Go's structs) and
/// docker's <c>.Label "key"</c> method over the row's labels.
/// </summary>
internal sealed class TemplateRow(string typeName, IReadOnlyDictionary<string, object?> fields, IReadOnlyDictionary<string, string>? labels = null)
{
    public string TypeName => typeName;
    public IReadOnlyDictionary<string, object?> Fields => fields;
    public IReadOnlyDictionary<string, string>? Labels => labels;
}

/// <summary>
/// Go's text/template with docker's functions (json, join, split, lower, upper, title, truncate, pad), over the
/// data each command prints as JSON (JSON objects are Go maps: field names match their keys, exactly or else
/// case-insensitively, as docker's Go names and the JSON names differ in case only) or over <see cref="TemplateRow"/>s.
/// </summary>
internal sealed class GoTemplate
{
    private enum Flow { Normal, Break, Continue }

    private delegate object? Function(GoTemplate template, IReadOnlyList<object?> args);

    private static readonly Dictionary<string, (int Min, int Max, Function Call)> Functions = new()
    {
        ["not"] = (1, 1, (_, a) => !TemplateFormatter.Truth(a[0])),
        ["len"] = (1, 1, (_, a) => Length(a[0])),
        ["index"] = (1, -1, (_, a) => Index(a[0], a.Skip(1))),
        ["slice"] = (1, 4, (_, a) => Slice(a[0], a.Skip(1).Select(AsInt).ToList())),
        ["print"] = (0, -1, (_, a) => Sprint(a)),
        ["println"] = (0, -1, (_, a) => string.Join(' ', a.Select(TemplateFormatter.Print)) + "\n"),
        ["printf"] = (1, -1, (_, a) => TemplateFormatter.Sprintf(AsString(a[0]), [.. a.Skip(1)])),
        ["eq"] = (1, -1, (_, a) => a.Skip(1).Any(other => Equal(a[0], other))),
        ["ne"] = (2, 2, (_, a) => !Equal(a[0], a[1])),
        ["lt"] = (2, 2, (_, a) => Compare(a[0], a[1]) < 0),
        ["le"] = (2, 2, (_, a) => Compare(a[0], a[1]) <= 0),
        ["gt"] = (2, 2, (_, a) => Compare(a[0], a[1]) > 0),
        ["ge"] = (2, 2, (_, a) => Compare(a[0], a[1]) >= 0),
        ["html"] = (0, -1, (_, a) => HtmlEncoder.Default.Encode(Sprint(a))),
        ["js"] = (0, -1, (_, a) => JavaScriptEncoder.Default.Encode(Sprint(a))),
        ["urlquery"] = (0, -1, (_, a) => Uri.EscapeDataString(Sprint(a)).Replace("%20", "+")),
        // docker's templates package; in a table's header row each returns its first argument (the column title).
        ["json"] = (1, 1, (t, a) => t._header ? a[0] : Json(a[0])),
        ["split"] = (2, 2, (t, a) => t._header ? a[0] : Split(AsString(a[0]), AsString(a[1]))),
        ["join"] = (2, 2, (t, a) => t._header ? a[0] : AsStrings(a[0]).ToList() is var items ? string.Join(AsString(a[1]), items) : null),
        ["title"] = (1, 1, (t, a) => t._header ? a[0] : Title(AsString(a[0]))),
        ["lower"] = (1, 1, (t, a) => t._header ? a[0] : AsString(a[0]).ToLowerInvariant()),
        ["upper"] = (1, 1, (t, a) => t._header ? a[0] : AsString(a[0]).ToUpperInvariant()),
        ["pad"] = (3, 3, (t, a) => t._header || AsString(a[0]).Length == 0 ? a[0] : new string(' ', (int)AsInt(a[1])) + AsString(a[0]) + new string(' ', (int)AsInt(a[2]))),
        ["truncate"] = (2, 2, (t, a) => t._header ? a[0] : AsString(a[0]) is var s && s.Length < AsInt(a[1]) ? s : s[..(int)AsInt(a[1])]),
    };

    private readonly string _source;
    private readonly List<Node> _root;
    private readonly Dictionary<string, List<Node>> _templates;
    private readonly bool _header;
    private readonly List<(string Name, object? Value)> _variables = [];
    private StringBuilder _output = new();
    private int _depth;

    private GoTemplate(string source, List<Node> root, Dictionary<string, List<Node>> templates, bool header)
    {
        _source = source;
        _root = root;
        _templates = templates;
        _header = header;
    }

    public static GoTemplate Parse(string source)
    {
        var templates = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        var root = TemplateParser.Parse(source, name => name is "and" or "or" || Functions.ContainsKey(name), templates);
        return new GoTemplate(source, root, templates, header: false);
    }

    /// <summary>The same template with docker's header functions, for a table's header row.</summary>
    public GoTemplate ForHeader() => new(_source, _root, _templates, header: true);

    public string Execute(object? data)
    {
        _output = new StringBuilder();
        _variables.Clear();
        _variables.Add(("$", data));
        Walk(data, _root);
        return _output.ToString();
    }

    /// <summary>A failure while executing, as Go reports it: where, in which action, and why.</summary>
    private TemplateException Failure(int position, string context, string message)
    {
        int line = 1 + _source.AsSpan(0, position).Count('\n');
        int column = position - (_source.LastIndexOf('\n', Math.Max(position - 1, 0)) + 1);
        return new TemplateException($"template: :{line}:{column}: executing \"\" at <{context}>: {message}");
    }

    private Flow Walk(object? dot, List<Node> list)
    {
        foreach (var node in list)
        {
            var flow = Walk(dot, node);
            if (flow != Flow.Normal)
                return flow;
        }
        return Flow.Normal;
    }

    private Flow Walk(object? dot, Node node)
    {
        switch (node)
        {
            case TextNode text:
                _output.Append(text.Text);
                return Flow.Normal;
            case ActionNode action:
                var value = Pipeline(dot, action.Pipe);
                if (action.Pipe.Declarations.Count == 0)
                    _output.Append(TemplateFormatter.Print(value));
                return Flow.Normal;
            case LoopControlNode control:
                return control.IsBreak ? Flow.Break : Flow.Continue;
            case BranchNode { Kind: "range" } range:
                return Range(dot, range);
            case BranchNode branch:
            {
                int mark = _variables.Count;
                var condition = Pipeline(dot, branch.Pipe);
                var flow = TemplateFormatter.Truth(condition)
                    ? Walk(branch.Kind == "with" ? condition : dot, branch.List)
                    : branch.ElseList is { } otherwise ? Walk(dot, otherwise) : Flow.Normal;
                _variables.RemoveRange(mark, _variables.Count - mark);
                return flow;
            }
            case TemplateCallNode call:
                return CallTemplate(dot, call);
            default:
                throw new InvalidOperationException($"unknown template node {node.GetType().Name}");
        }
    }

    private Flow CallTemplate(object? dot, TemplateCallNode call)
    {
        if (!_templates.TryGetValue(call.Name, out var body))
            throw Failure(call.Position, $"template \"{call.Name}\"", $"no such template \"{call.Name}\"");
        if (++_depth > 1000)
            throw Failure(call.Position, $"template \"{call.Name}\"", "exceeded maximum template depth (1000)");
        var data = call.Pipe is null ? null : Pipeline(dot, call.Pipe);
        var saved = _variables.ToList();
        _variables.Clear();
        _variables.Add(("$", data));
        Walk(data, body);
        _variables.Clear();
        _variables.AddRange(saved);
        _depth--;
        return Flow.Normal;
    }

    private Flow Range(object? dot, BranchNode range)
    {
        int mark = _variables.Count;
        var value = TemplateFormatter.Normalize(Pipeline(dot, range.Pipe));
        int bodyMark = _variables.Count;
        IEnumerable<(object? Key, object? Item)> items = value switch
        {
            JsonElement { ValueKind: JsonValueKind.Object } map => TemplateFormatter.Entries(map).Select(e => ((object?)e.Key, e.Value)),
            long count => Enumerable.Range(0, (int)Math.Max(0, count)).Select(i => ((object?)(long)i, (object?)(long)i)),
            null or NoValue => [],
            _ when TemplateFormatter.IsList(value) => TemplateFormatter.Items(value).Select((item, i) => ((object?)(long)i, item)),
            _ => throw Failure(range.Pipe.Position, range.Pipe.Source, $"range can't iterate over {TemplateFormatter.Print(value)}"),
        };
        bool any = false;
        foreach (var (key, item) in items)
        {
            any = true;
            // The pipeline's declarations were pushed holding the whole value; each iteration sets them.
            var declarations = range.Pipe.Declarations;
            if (declarations.Count == 1)
                SetVariable(declarations[0], item, range.Pipe.IsAssign);
            else if (declarations.Count == 2)
            {
                SetVariable(declarations[0], key, range.Pipe.IsAssign);
                SetVariable(declarations[1], item, range.Pipe.IsAssign);
            }
            var flow = Walk(item, range.List);
            _variables.RemoveRange(bodyMark, _variables.Count - bodyMark);
            if (flow == Flow.Break)
                break;
        }
        if (!any && range.ElseList is { } otherwise)
            Walk(dot, otherwise);
        _variables.RemoveRange(mark, _variables.Count - mark);
        return Flow.Normal;
    }

    private void SetVariable(string name, object? value, bool assign)
    {
        for (int i = _variables.Count - 1; i >= 0; i--)
        {
            if (_variables[i].Name == name)
            {
                _variables[i] = (name, value);
                return;
            }
        }
        if (!assign)
            _variables.Add((name, value));
    }

    private object? Pipeline(object? dot, PipeNode pipe)
    {
        object? value = null;
        bool hasFinal = false;
        foreach (var command in pipe.Commands)
        {
            value = Command(dot, command, hasFinal ? value : NoFinal, hasFinal);
            hasFinal = true;
        }
        foreach (var name in pipe.Declarations)
        {
            if (pipe.IsAssign)
                SetVariable(name, value, assign: true);
            else
                _variables.Add((name, value));
        }
        return value;
    }

    private static readonly object NoFinal = new();

    private object? Command(object? dot, CommandNode command, object? final, bool hasFinal)
    {
        var first = command.Args[0];
        var args = command.Args.Skip(1).ToList();
        switch (first)
        {
            case FieldNode field:
                return Fields(dot, dot, field.Names, field, args, final, hasFinal);
            case VariableNode variable:
                return Fields(dot, Variable(variable), variable.Names, variable, args, final, hasFinal);
            case ChainNode chain:
                var receiver = chain.Receiver is PipeNode inner ? Pipeline(dot, inner) : Argument(dot, chain.Receiver);
                return chain.Names.Length == 0 ? NotFunction(receiver, chain, args, hasFinal) : Fields(dot, receiver, chain.Names, chain, args, final, hasFinal);
            case IdentifierNode identifier:
                return Call(dot, identifier, command, args, final, hasFinal);
        }
        return NotFunction(Argument(dot, first), first, args, hasFinal);
    }

    private object? NotFunction(object? value, Node node, List<Node> args, bool hasFinal)
        => args.Count > 0 || hasFinal ? throw Failure(node.Position, Source(node), $"can't give argument to non-function {Source(node)}") : value;

    private static string Source(Node node) => node switch
    {
        FieldNode f => f.Source,
        VariableNode v => v.Source,
        ChainNode c => c.Source,
        IdentifierNode i => i.Name,
        LiteralNode l => l.Source,
        DotNode => ".",
        PipeNode p => p.Source,
        CommandNode c => c.Source,
        _ => "",
    };

    private object? Variable(VariableNode variable)
    {
        for (int i = _variables.Count - 1; i >= 0; i--)
        {
            if (_variables[i].Name == variable.Name)
                return _variables[i].Value;
        }
        throw Failure(variable.Position, variable.Source, $"undefined variable: {variable.Name}");
    }

    private object? Argument(object? dot, Node node) => node switch
    {
        DotNode => dot,
        LiteralNode literal => literal.Value,
        FieldNode field => Fields(dot, dot, field.Names, field, [], null, false),
        VariableNode variable => Fields(dot, Variable(variable), variable.Names, variable, [], null, false),
        ChainNode chain => chain.Names.Length == 0
            ? Pipeline(dot, (PipeNode)chain.Receiver)
            : Fields(dot, chain.Receiver is PipeNode inner ? Pipeline(dot, inner) : Argument(dot, chain.Receiver), chain.Names, chain, [], null, false),
        IdentifierNode identifier => Call(dot, identifier, new CommandNode(identifier.Position, [identifier], identifier.Name), [], null, false),
        PipeNode pipe => Pipeline(dot, pipe),
        _ => throw new InvalidOperationException($"unknown template node {node.GetType().Name}"),
    };

    private object? Fields(object? dot, object? receiver, string[] names, Node node, List<Node> args, object? final, bool hasFinal)
    {
        if (names.Length == 0)
            return NotFunction(receiver, node, args, hasFinal);
        for (int i = 0; i < names.Length; i++)
        {
            bool last = i == names.Length - 1;
            receiver = Field(dot, receiver, names[i], node, last ? args : [], last ? final : null, last && hasFinal);
        }
        return receiver;
    }

    private object? Field(object? dot, object? receiver, string name, Node node, List<Node> args, object? final, bool hasFinal)
    {
        receiver = TemplateFormatter.Normalize(receiver);
        bool arguments = args.Count > 0 || hasFinal;
        switch (receiver)
        {
            case TemplateRow row when name == "Label" && row.Labels is { } labels:
                var values = args.Select(a => Argument(dot, a)).ToList();
                if (hasFinal)
                    values.Add(final);
                if (values.Count != 1)
                    throw Failure(node.Position, Source(node), $"wrong number of args for Label: want 1 got {values.Count}");
                if (TemplateFormatter.Normalize(values[0]) is not string key)
                    throw Failure(node.Position, Source(node), $"wrong type for value; expected string; got {TemplateFormatter.TypeName(values[0])}");
                return _header ? "LABEL" : labels.GetValueOrDefault(key) ?? "";
            case TemplateRow row:
                if (!row.Fields.TryGetValue(name, out var value))
                    throw Failure(node.Position, Source(node), $"can't evaluate field {name} in type {row.TypeName}");
                return arguments ? throw Failure(node.Position, Source(node), $"{name} has arguments but cannot be invoked as function") : value;
            case JsonElement { ValueKind: JsonValueKind.Object } map:
                if (arguments)
                    throw Failure(node.Position, Source(node), $"{name} is not a method but has arguments");
                return Key(map, name) is { } found ? TemplateFormatter.Normalize(found) : NoValue.Instance;
            case NoValue:
                return NoValue.Instance;
            case null:
                throw Failure(node.Position, Source(node), $"nil pointer evaluating interface {{}}.{name}");
            default:
                throw Failure(node.Position, Source(node), $"can't evaluate field {name} in type {TemplateFormatter.TypeName(receiver)}");
        }
    }

    private static JsonElement? Key(JsonElement map, string name)
    {
        if (map.TryGetProperty(name, out var exact))
            return exact;
        foreach (var property in map.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                return property.Value;
        }
        return null;
    }

    private object? Call(object? dot, IdentifierNode identifier, CommandNode command, List<Node> args, object? final, bool hasFinal)
    {
        string name = identifier.Name;
        int count = args.Count + (hasFinal ? 1 : 0);
        if (name is "and" or "or")
        {
            if (count < 1)
                throw Failure(identifier.Position, name, $"wrong number of args for {name}: want at least 1 got 0");
            // Go evaluates and/or lazily: the first argument that decides is the result.
            object? result = null;
            for (int i = 0; i < count; i++)
            {
                result = i < args.Count ? Argument(dot, args[i]) : final;
                if (TemplateFormatter.Truth(result) == (name == "or"))
                    return result;
            }
            return result;
        }
        var (min, max, function) = Functions[name];
        if (count < min || (max >= 0 && count > max))
        {
            string want = min == max ? $"{min}" : $"at least {min}";
            throw Failure(identifier.Position, name, $"wrong number of args for {name}: want {want} got {count}");
        }
        var values = args.Select(a => Argument(dot, a)).ToList();
        if (hasFinal)
            values.Add(final);
        // A missing value passed to a function is Go's nil.
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] is NoValue && name is not ("len" or "index"))
                values[i] = null;
        }
        try
        {
            return function(this, values);
        }
        catch (FunctionException error)
        {
            throw Failure(command.Position, command.Source, $"error calling {name}: {error.Message}");
        }
        catch (WrongTypeException error)
        {
            throw Failure(command.Position, command.Source, error.Message);
        }
    }

    /// <summary>An error a function returns (Go: "error calling NAME: ...").</summary>
    private sealed class FunctionException(string message) : Exception(message);

    /// <summary>An argument Go could not convert to the function's parameter type.</summary>
    private sealed class WrongTypeException(string message) : Exception(message);

    private static string AsString(object? value) => TemplateFormatter.Normalize(value) is string s ? s
        : throw new WrongTypeException($"wrong type for value; expected string; got {TemplateFormatter.TypeName(value)}");

    private static long AsInt(object? value) => TemplateFormatter.Normalize(value) is long l ? l
        : throw new WrongTypeException($"wrong type for value; expected int; got {TemplateFormatter.TypeName(value)}");

    private static IEnumerable<string> AsStrings(object? value)
    {
        if (!TemplateFormatter.IsList(TemplateFormatter.Normalize(value)))
            throw new WrongTypeException($"wrong type for value; expected []string; got {TemplateFormatter.TypeName(value)}");
        return TemplateFormatter.Items(TemplateFormatter.Normalize(value)).Select(item => item as string
            ?? throw new WrongTypeException($"wrong type for value; expected []string; got {TemplateFormatter.TypeName(value)}"));
    }

    private static long Length(object? value) => TemplateFormatter.Normalize(value) switch
    {
        string s => Encoding.UTF8.GetByteCount(s),
        JsonElement { ValueKind: JsonValueKind.Object } map => map.EnumerateObject().Count(),
        var list when TemplateFormatter.IsList(list) => TemplateFormatter.Items(list).Count,
        var other => throw new FunctionException($"len of type {TemplateFormatter.TypeName(other)}"),
    };

    private static object? Index(object? item, IEnumerable<object?> indexes)
    {
        item = TemplateFormatter.Normalize(item);
        foreach (var index in indexes)
        {
            switch (item)
            {
                case JsonElement { ValueKind: JsonValueKind.Object } map:
                    string key = TemplateFormatter.Normalize(index) as string ?? throw new FunctionException($"value has type {TemplateFormatter.TypeName(index)}; should be string");
                    // A missing key gives the zero value of the map's element type: "" for docker's string maps (labels, options).
                    item = map.TryGetProperty(key, out var found) ? TemplateFormatter.Normalize(found)
                        : map.EnumerateObject().All(p => p.Value.ValueKind == JsonValueKind.String) ? "" : NoValue.Instance;
                    break;
                case string or IList<object?> or JsonElement { ValueKind: JsonValueKind.Array }:
                    if (TemplateFormatter.Normalize(index) is not long i)
                        throw new FunctionException($"cannot index slice/array with type {TemplateFormatter.TypeName(index)}");
                    if (item is string text)
                    {
                        var bytes = Encoding.UTF8.GetBytes(text);
                        item = i >= 0 && i < bytes.Length ? (long)bytes[i] : throw new FunctionException($"index out of range: {i}");
                        break;
                    }
                    var items = TemplateFormatter.Items(item);
                    item = i >= 0 && i < items.Count ? items[(int)i] : throw new FunctionException($"index out of range: {i}");
                    break;
                case null or NoValue:
                    throw new FunctionException("index of untyped nil");
                default:
                    throw new FunctionException($"can't index item of type {TemplateFormatter.TypeName(item)}");
            }
        }
        return item;
    }

    private static object? Slice(object? item, List<long> bounds)
    {
        item = TemplateFormatter.Normalize(item);
        int length = item switch
        {
            string s => s.Length,
            _ when TemplateFormatter.IsList(item) => TemplateFormatter.Items(item).Count,
            _ => throw new FunctionException($"can't slice item of type {TemplateFormatter.TypeName(item)}"),
        };
        if (bounds.Count == 3 && item is string)
            throw new FunctionException("cannot 3-index slice a string");
        long low = bounds.Count > 0 ? bounds[0] : 0, high = bounds.Count > 1 ? bounds[1] : length;
        if (low < 0 || high > length || low > high)
            throw new FunctionException($"index out of range: {(low < 0 || low > length ? low : high)}");
        return item is string text ? text[(int)low..(int)high] : TemplateFormatter.Items(item)[(int)low..(int)high];
    }

    /// <summary>fmt.Sprint: spaces between operands when neither is a string.</summary>
    private static string Sprint(IReadOnlyList<object?> args)
    {
        var text = new StringBuilder();
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0 && TemplateFormatter.Normalize(args[i]) is not string && TemplateFormatter.Normalize(args[i - 1]) is not string)
                text.Append(' ');
            text.Append(TemplateFormatter.Print(args[i]));
        }
        return text.ToString();
    }

    private enum Kind { Bool, Number, String, Nil, Other }

    private static Kind KindOf(object? value) => TemplateFormatter.Normalize(value) switch
    {
        bool => Kind.Bool,
        long or double => Kind.Number,
        string => Kind.String,
        null or NoValue => Kind.Nil,
        _ => Kind.Other,
    };

    /// <summary>Go's eq: basic values of one kind; nil equals only nil.</summary>
    private static bool Equal(object? left, object? right)
    {
        Kind a = KindOf(left), b = KindOf(right);
        if (a == Kind.Other || b == Kind.Other)
            throw new FunctionException("non-comparable type");
        if (a == Kind.Nil || b == Kind.Nil)
            return a == b;
        if (a != b)
            throw new FunctionException("incompatible types for comparison");
        left = TemplateFormatter.Normalize(left);
        right = TemplateFormatter.Normalize(right);
        return a == Kind.Number ? Number(left) == Number(right) : Equals(left, right);
    }

    private static int Compare(object? left, object? right)
    {
        Kind a = KindOf(left), b = KindOf(right);
        if (a is not (Kind.Number or Kind.String) || b is not (Kind.Number or Kind.String))
            throw new FunctionException("invalid type for comparison");
        if (a != b)
            throw new FunctionException("incompatible types for comparison");
        left = TemplateFormatter.Normalize(left);
        right = TemplateFormatter.Normalize(right);
        if (left is long l && right is long r)
            return l.CompareTo(r);
        return a == Kind.Number ? Number(left).CompareTo(Number(right)) : string.CompareOrdinal((string)left!, (string)right!);
    }

    private static double Number(object? value) => value is long l ? l : (double)value!;

    private static List<object?> Split(string text, string separator)
    {
        if (separator.Length == 0)
            return [.. text.EnumerateRunes().Select(r => (object?)r.ToString())];
        return [.. text.Split(separator).Select(part => (object?)part)];
    }

    /// <summary>Go's strings.Title: the first letter of each word upper-cased, the rest untouched.</summary>
    private static string Title(string text)
    {
        var result = new StringBuilder(text.Length);
        bool separated = true;
        foreach (char c in text)
        {
            result.Append(separated ? char.ToUpperInvariant(c) : c);
            separated = !(char.IsLetterOrDigit(c) || c == '_' || c > 0x7f && !char.IsWhiteSpace(c));
        }
        return result.ToString();
    }

    /// <summary>docker's json function: Go's encoding/json without HTML escaping, on one line.</summary>
    private static string Json(object? value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJson(writer, value);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteJson(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case JsonElement json:
                json.WriteTo(writer);
                break;
            case null or NoValue:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case TemplateRow row:
                writer.WriteStartObject();
                foreach (var (name, field) in row.Fields)
                {
                    writer.WritePropertyName(name);
                    WriteJson(writer, field);
                }
                writer.WriteEndObject();
                break;
            case IList<object?> list:
                writer.WriteStartArray();
                foreach (var item in list)
                    WriteJson(writer, item);
                writer.WriteEndArray();
                break;
        }
    }
}
