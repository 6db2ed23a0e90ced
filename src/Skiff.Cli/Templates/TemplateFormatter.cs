using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Skiff.Cli.Templates;

/// <summary>The value of a missing map key or field: Go's invalid reflect.Value, printed "&lt;no value&gt;".</summary>
internal sealed class NoValue
{
    public static readonly NoValue Instance = new();

    private NoValue()
    {
    }
}

/// <summary>
/// Go's fmt over template values: strings, bools, longs, doubles, null (a nil), <see cref="NoValue"/>, lists
/// (JSON arrays, or lists made by functions), JSON objects (maps) and <see cref="TemplateRow"/>s (structs).
/// </summary>
internal static class TemplateFormatter
{
    /// <summary>A JSON scalar as the value Go would hold; objects and arrays stay JSON.</summary>
    public static object? Normalize(object? value) => value is JsonElement json ? json.ValueKind switch
    {
        JsonValueKind.String => json.GetString(),
        JsonValueKind.Number => json.TryGetInt64(out var whole) ? (object)whole : json.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => json,
    } : value;

    public static bool IsList(object? value) => value is IList<object?> || value is JsonElement { ValueKind: JsonValueKind.Array };
    public static bool IsMap(object? value) => value is JsonElement { ValueKind: JsonValueKind.Object };

    public static List<object?> Items(object? value) => value switch
    {
        IList<object?> list => [.. list],
        JsonElement { ValueKind: JsonValueKind.Array } json => [.. json.EnumerateArray().Select(item => Normalize(item))],
        _ => [],
    };

    /// <summary>A map's entries sorted by key, as Go ranges over and prints maps.</summary>
    public static List<KeyValuePair<string, object?>> Entries(JsonElement map)
        => [.. map.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, Normalize(p.Value))).OrderBy(p => p.Key, StringComparer.Ordinal)];

    /// <summary>Go's truth: false, 0, nil, empty strings, lists and maps are false.</summary>
    public static bool Truth(object? value) => Normalize(value) switch
    {
        null or NoValue => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        IList<object?> list => list.Count > 0,
        JsonElement { ValueKind: JsonValueKind.Array } array => array.GetArrayLength() > 0,
        JsonElement { ValueKind: JsonValueKind.Object } map => map.EnumerateObject().Any(),
        _ => true,
    };

    /// <summary>Go's name of a value's type, for error messages.</summary>
    public static string TypeName(object? value) => Normalize(value) switch
    {
        null or NoValue => "<nil>",
        bool => "bool",
        long => "int",
        double => "float64",
        string => "string",
        TemplateRow row => row.TypeName,
        JsonElement { ValueKind: JsonValueKind.Object } => "map[string]interface {}",
        _ => "[]interface {}",
    };

    /// <summary>A value as Go's %v prints it.</summary>
    public static string Print(object? value)
    {
        var text = new StringBuilder();
        Print(text, value, top: true);
        return text.ToString();
    }

    private static void Print(StringBuilder text, object? value, bool top)
    {
        switch (Normalize(value))
        {
            case NoValue:
                text.Append(top ? "<no value>" : "<nil>");
                break;
            case null:
                text.Append("<nil>");
                break;
            case string s:
                text.Append(s);
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case long l:
                text.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                text.Append(Float(d, 'g', -1));
                break;
            case JsonElement { ValueKind: JsonValueKind.Object } map:
                text.Append("map[");
                bool first = true;
                foreach (var (key, item) in Entries(map))
                {
                    if (!first)
                        text.Append(' ');
                    first = false;
                    text.Append(key).Append(':');
                    Print(text, item, false);
                }
                text.Append(']');
                break;
            case TemplateRow row:
                text.Append('{').AppendJoin(' ', row.Fields.Values.Select(Print)).Append('}');
                break;
            case var list:
                text.Append('[');
                bool firstItem = true;
                foreach (var item in Items(list))
                {
                    if (!firstItem)
                        text.Append(' ');
                    firstItem = false;
                    Print(text, item, false);
                }
                text.Append(']');
                break;
        }
    }

    /// <summary>strconv.FormatFloat for the 'e', 'f' and 'g' formats, -1 precision meaning the shortest exact form.</summary>
    public static string Float(double value, char format, int precision)
    {
        if (double.IsNaN(value))
            return "NaN";
        if (double.IsInfinity(value))
            return value > 0 ? "+Inf" : "-Inf";
        switch (format)
        {
            case 'f':
                return value.ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture);
            case 'e':
                return GoExponent(value.ToString((precision < 0 ? "E6" : "E" + precision), CultureInfo.InvariantCulture).Replace('E', 'e'));
        }
        if (value == 0)
            return "0";
        // Go's %g: the exponent form when the exponent is below -4 or reaches the precision (6 for the shortest digits).
        string shortest = precision < 0 ? value.ToString("R", CultureInfo.InvariantCulture) : value.ToString("G" + Math.Max(precision, 1), CultureInfo.InvariantCulture);
        int exponent = (int)Math.Floor(Math.Log10(Math.Abs(double.Parse(shortest, CultureInfo.InvariantCulture))));
        int budget = precision < 0 ? 6 : Math.Max(precision, 1);
        if (exponent < -4 || exponent >= budget)
        {
            var digits = Digits(shortest);
            string mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return (value < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        return decimal.TryParse(shortest, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact)
            ? exact.ToString(CultureInfo.InvariantCulture) : shortest;
    }

    private static string Digits(string number)
    {
        string mantissa = number.Split('E', 'e')[0].TrimStart('-').Replace(".", "").TrimStart('0');
        return mantissa.TrimEnd('0') is { Length: > 0 } trimmed ? trimmed : "0";
    }

    private static string GoExponent(string dotnet)
    {
        // .NET writes e+006; Go writes e+06.
        int e = dotnet.IndexOf('e');
        string exponent = dotnet[(e + 2)..].TrimStart('0');
        return dotnet[..(e + 2)] + exponent.PadLeft(2, '0');
    }

    /// <summary>strconv.Quote: a double-quoted Go string literal.</summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\t': quoted.Append("\\t"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\a': quoted.Append("\\a"); break;
                case '\b': quoted.Append("\\b"); break;
                case '\f': quoted.Append("\\f"); break;
                case '\v': quoted.Append("\\v"); break;
                case < 0x20 or 0x7f: quoted.Append($"\\x{rune.Value:x2}"); break;
                default:
                    if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned)
                        quoted.Append(rune.Value > 0xffff ? $"\\U{rune.Value:x8}" : $"\\u{rune.Value:x4}");
                    else
                        quoted.Append(rune.ToString());
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>fmt.Sprintf for the verbs docker's templates use: %v %s %d %q %t %x %X %o %b %c %e %f %g and %%, with flags, width and precision.</summary>
    public static string Sprintf(string format, IReadOnlyList<object?> args)
    {
        var text = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                text.Append(c);
                continue;
            }
            bool minus = false, plus = false, zero = false, space = false, sharp = false;
            for (i++; i < format.Length && format[i] is '-' or '+' or '0' or ' ' or '#'; i++)
            {
                switch (format[i])
                {
                    case '-': minus = true; break;
                    case '+': plus = true; break;
                    case '0': zero = true; break;
                    case ' ': space = true; break;
                    default: sharp = true; break;
                }
            }
            int width = ReadInt(format, ref i);
            int precision = -1;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = Math.Max(ReadInt(format, ref i), 0);
            }
            if (i >= format.Length)
            {
                text.Append("%!(NOVERB)");
                break;
            }
            char verb = format[i];
            if (verb == '%')
            {
                text.Append('%');
                continue;
            }
            if (next >= args.Count)
            {
                text.Append("%!").Append(verb).Append("(MISSING)");
                continue;
            }
            var arg = Normalize(args[next++]);
            string formatted = Verb(verb, arg, precision, plus, space, sharp);
            bool numeric = arg is long or double && verb is not ('s' or 'q' or 'v' or 't');
            text.Append(Pad(formatted, width, minus, zero && !minus && numeric));
        }
        if (next < args.Count)
        {
            text.Append("%!(EXTRA ");
            text.AppendJoin(", ", args.Skip(next).Select(a => $"{TypeName(a)}={Print(a)}"));
            text.Append(')');
        }
        return text.ToString();
    }

    private static int ReadInt(string format, ref int i)
    {
        int start = i;
        while (i < format.Length && char.IsAsciiDigit(format[i]))
            i++;
        return i > start ? int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture) : 0;
    }

    private static string Pad(string text, int width, bool left, bool zeros)
    {
        int length = text.EnumerateRunes().Count();
        if (length >= width)
            return text;
        if (left)
            return text + new string(' ', width - length);
        if (zeros)
        {
            bool signed = text.StartsWith('-') || text.StartsWith('+');
            return (signed ? text[..1] : "") + new string('0', width - length) + (signed ? text[1..] : text);
        }
        return new string(' ', width - length) + text;
    }

    private static string Verb(char verb, object? arg, int precision, bool plus, bool space, bool sharp)
    {
        string Bad() => $"%!{verb}({TypeName(arg)}={Print(arg)})";
        string Signed(string digits, bool negative) => (negative ? "-" : plus ? "+" : space ? " " : "") + digits;
        switch (verb)
        {
            case 'v':
                return arg is double dv && plus ? Signed(Float(Math.Abs(dv), 'g', -1), dv < 0) : arg is long lv && plus ? Signed(Math.Abs(lv).ToString(CultureInfo.InvariantCulture), lv < 0) : Print(arg);
            case 's':
                if (arg is long or double or bool)
                    return Bad();
                string s = Print(arg);
                return precision >= 0 && s.EnumerateRunes().Count() > precision ? string.Concat(s.EnumerateRunes().Take(precision)) : s;
            case 'q':
                return arg switch
                {
                    string q => Quote(q),
                    long r => "'" + Quote(char.ConvertFromUtf32((int)r))[1..^1].Replace("\\\"", "\"") + "'",
                    _ => Bad(),
                };
            case 't':
                return arg is bool t ? (t ? "true" : "false") : Bad();
            case 'd':
                if (arg is double whole && whole == Math.Floor(whole) && Math.Abs(whole) < 1e18)
                    arg = (long)whole;
                return arg is long d ? Signed(Math.Abs((decimal)d).ToString(CultureInfo.InvariantCulture), d < 0) : Bad();
            case 'x' or 'X' or 'o' or 'b':
                string Based(long value)
                {
                    string digits = verb switch
                    {
                        'o' => Convert.ToString(Math.Abs(value), 8),
                        'b' => Convert.ToString(Math.Abs(value), 2),
                        _ => Math.Abs(value).ToString(verb == 'x' ? "x" : "X", CultureInfo.InvariantCulture),
                    };
                    string prefix = !sharp ? "" : verb switch { 'x' => "0x", 'X' => "0X", 'o' => "0", _ => "" };
                    return Signed(prefix + digits, value < 0);
                }
                return arg switch
                {
                    long x => Based(x),
                    string hex when verb is 'x' or 'X' => string.Concat(Encoding.UTF8.GetBytes(hex).Select(b => b.ToString(verb == 'x' ? "x2" : "X2", CultureInfo.InvariantCulture))),
                    _ => Bad(),
                };
            case 'c':
                return arg is long rune ? char.ConvertFromUtf32((int)rune) : Bad();
            case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
                // JSON does not keep Go's int/float distinction (a float64 5 is written 5): any number takes the float verbs.
                if (arg is not (double or long))
                    return Bad();
                double number = Convert.ToDouble(arg, CultureInfo.InvariantCulture);
                char lower = char.ToLowerInvariant(verb);
                string formatted = Float(Math.Abs(number), lower, lower == 'g' ? precision : precision < 0 ? 6 : precision);
                return Signed(char.IsUpper(verb) ? formatted.ToUpperInvariant() : formatted, number < 0 || (number == 0 && double.IsNegative(number)));
            default:
                return $"%!{verb}({TypeName(arg)}={Print(arg)})";
        }
    }
}
