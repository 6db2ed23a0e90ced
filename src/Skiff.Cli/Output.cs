using System.Globalization;
using System.Text;
using Skiff.Images.References;

namespace Skiff.Cli;

/// <summary>docker's ways of showing sizes, ages, names and tables, so scripts and eyes used to docker read skiff alike.</summary>
internal static partial class Output
{
    private static readonly string[] Units = ["B", "kB", "MB", "GB", "TB", "PB"];

    /// <summary>go-units HumanSize: decimal units, 3 significant digits ("4.26MB", "124MB", "0B").</summary>
    public static string Size(double bytes)
    {
        int unit = 0;
        while (bytes >= 1000 && unit < Units.Length - 1)
        {
            bytes /= 1000;
            unit++;
        }
        return bytes.ToString("G3", CultureInfo.InvariantCulture) + Units[unit];
    }

    private static readonly string[] BinaryUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>go-units BytesSize: binary units, 4 significant digits ("1.953MiB", "7.637GiB"), as docker stats shows memory.</summary>
    public static string BinarySize(double bytes)
    {
        int unit = 0;
        while (bytes >= 1024 && unit < BinaryUnits.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return bytes.ToString("G4", CultureInfo.InvariantCulture) + BinaryUnits[unit];
    }

    /// <summary>
    /// docker's --format for the subset skiff takes: "{{.Field}}" placeholders and literal text, "\t" and "\n"
    /// as tab and newline; a "table " prefix prints a header row (each field's title) and aligns the tab-separated
    /// columns. <paramref name="fields"/> maps field names to their titles; an unknown field is a usage error.
    /// </summary>
    public static void Template(TextWriter output, string format, IReadOnlyDictionary<string, string> fields, IEnumerable<Func<string, string>> rows)
    {
        bool table = format.StartsWith("table", StringComparison.Ordinal);
        var template = (table ? format["table".Length..] : format).Trim(' ').Replace("\\t", "\t").Replace("\\n", "\n");
        foreach (System.Text.RegularExpressions.Match match in Placeholder().Matches(template))
        {
            if (!fields.ContainsKey(match.Groups[1].Value))
                throw new UsageException($"--format: unknown field .{match.Groups[1].Value}; known: {string.Join(", ", fields.Keys.Select(k => "." + k))}");
        }
        string Expand(Func<string, string> value) => Placeholder().Replace(template, match => value(match.Groups[1].Value));
        if (!table)
        {
            foreach (var row in rows)
                output.WriteLine(Expand(row));
            return;
        }
        Table(output, Expand(field => fields[field]).Split('\t'), rows.Select(row => (IReadOnlyList<string>)Expand(row).Split('\t')));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{\{\s*\.(\w+)\s*\}\}")]
    private static partial System.Text.RegularExpressions.Regex Placeholder();

    /// <summary>go-units HumanDuration plus " ago": "Less than a second ago", "About an hour ago", "3 weeks ago".</summary>
    public static string Ago(DateTimeOffset time, DateTimeOffset now)
    {
        var age = now - time;
        double seconds = age.TotalSeconds, minutes = age.TotalMinutes, hours = age.TotalHours;
        string text = seconds < 1 ? "Less than a second"
            : (int)seconds == 1 ? "1 second"
            : seconds < 60 ? $"{(int)seconds} seconds"
            : (int)minutes == 1 ? "About a minute"
            : minutes < 60 ? $"{(int)minutes} minutes"
            : (int)Math.Round(hours) == 1 ? "About an hour"
            : hours < 48 ? $"{(int)Math.Round(hours)} hours"
            : hours < 24 * 7 * 2 ? $"{(int)(hours / 24)} days"
            : hours < 24 * 30 * 2 ? $"{(int)(hours / 24 / 7)} weeks"
            : hours < 24 * 365 * 2 ? $"{(int)(hours / 24 / 30)} months"
            : $"{(int)(hours / 24 / 365)} years";
        return text + " ago";
    }

    /// <summary>docker's short form of a stored name: <c>docker.io/library/busybox:latest</c> → <c>busybox:latest</c>.</summary>
    public static string Familiar(string name) => ImageReference.TryParse(name, out var reference) ? reference.FamiliarString : name;

    /// <summary>A name split as the REPOSITORY and TAG (or DIGEST) columns show it.</summary>
    public static (string Repository, string TagOrDigest) Split(string familiarName)
    {
        int at = familiarName.IndexOf('@');
        if (at >= 0)
            return (familiarName[..at], familiarName[(at + 1)..]);
        int colon = familiarName.LastIndexOf(':');
        return colon > familiarName.LastIndexOf('/') ? (familiarName[..colon], familiarName[(colon + 1)..]) : (familiarName, "");
    }

    /// <summary>Columns padded to their widest cell plus 3 spaces, as Go's tabwriter does for docker.</summary>
    public static void Table(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, column) => all.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            for (int column = 0; column < row.Count; column++)
            {
                text.Append(row[column]);
                if (column < row.Count - 1)
                    text.Append(' ', widths[column] - row[column].Length + 3);
            }
            text.Append('\n');
        }
        output.Write(text.ToString());
    }
}
