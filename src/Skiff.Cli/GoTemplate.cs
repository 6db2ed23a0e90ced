using System.Text;
using System.Text.Json;

namespace Skiff.Cli;

/// <summary>
/// The part of Go's text/template that docker's --format is used with, over the JSON of what is printed:
/// <c>{{.Field.Sub}}</c> (field names matched case-insensitively, as docker's Go names and the JSON names differ in
/// case only), <c>{{json .}}</c> / <c>{{json .Field}}</c>, and literal text; "json" alone means <c>{{json .}}</c>.
/// </summary>
internal sealed class GoTemplate
{
    private readonly List<(string Text, string[]? Path, bool Json)> _parts;

    private GoTemplate(List<(string, string[]?, bool)> parts) => _parts = parts;

    public static GoTemplate Parse(string format, string command)
    {
        if (format == "json")
            format = "{{json .}}";
        var parts = new List<(string, string[]?, bool)>();
        int position = 0;
        while (position < format.Length)
        {
            int open = format.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add((format[position..], null, false));
                break;
            }
            if (open > position)
                parts.Add((format[position..open], null, false));
            int close = format.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
                throw new UsageException($"{command}: --format: \"{{{{\" at offset {open} is not closed by \"}}}}\"");
            var action = format[(open + 2)..close].Trim();
            bool json = action.StartsWith("json ", StringComparison.Ordinal);
            var path = json ? action[5..].Trim() : action;
            if (!path.StartsWith('.'))
                throw new UsageException($"{command}: --format: \"{{{{{action}}}}}\" is not supported: use {{{{.Field}}}} or {{{{json .Field}}}}");
            parts.Add(("", path.Split('.', StringSplitOptions.RemoveEmptyEntries), json));
            position = close + 2;
        }
        return new GoTemplate(parts);
    }

    public string Render(JsonElement value)
    {
        var text = new StringBuilder();
        foreach (var (literal, path, json) in _parts)
        {
            if (path is null)
            {
                text.Append(literal);
                continue;
            }
            var field = Select(value, path);
            text.Append(json ? field?.GetRawText() ?? "null" : field is { } found ? Plain(found) : "<no value>");
        }
        return text.ToString();
    }

    private static JsonElement? Select(JsonElement value, string[] path)
    {
        foreach (var name in path)
        {
            if (value.ValueKind != JsonValueKind.Object)
                return null;
            JsonElement? next = null;
            foreach (var property in value.EnumerateObject())
            {
                if (property.NameEquals(name))
                {
                    next = property.Value;
                    break;
                }
                if (next is null && property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                    next = property.Value;
            }
            if (next is not { } found)
                return null;
            value = found;
        }
        return value;
    }

    /// <summary>A value as Go prints it: strings bare, maps as map[key:value ...], lists as [a b].</summary>
    private static string Plain(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Object => "map[" + string.Join(' ', value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}:{Plain(p.Value)}")) + "]",
        JsonValueKind.Array => "[" + string.Join(' ', value.EnumerateArray().Select(Plain)) + "]",
        JsonValueKind.Null => "<nil>",
        _ => value.GetRawText(),
    };
}
