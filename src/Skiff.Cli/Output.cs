using System.Globalization;
using System.Text;
using Skiff.Cli.Templates;
using Skiff.Engine;

namespace Skiff.Cli;

/// <summary>docker's ways of showing sizes, ages, names and tables, so scripts and eyes used to docker read skiff alike.</summary>
internal static class Output
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
    /// docker's formatter for lists (ps, images, volume ls, stats, history), parsed before anything is read:
    /// "table" alone is <paramref name="defaultTable"/>, "json" each row as a JSON object; a "table " prefix asks for a header row and aligned
    /// columns. "\t" and "\n" written literally are a tab and a newline, as in docker.
    /// </summary>
    public static ListFormat ParseRows(string format, string defaultTable)
    {
        if (format == "table")
            format = defaultTable;
        else if (format == "json")
            format = "{{json .}}";
        bool table = format.StartsWith("table", StringComparison.Ordinal);
        return new ListFormat(table, ParseTemplate((table ? format["table".Length..] : format).Trim(' ').Replace("\\t", "\t").Replace("\\n", "\n")));
    }

    /// <summary>
    /// Each row's text on a line; a table first has a header row (the template run over <paramref name="header"/>,
    /// the column titles, with docker's header functions) and its tab-separated columns aligned as docker's.
    /// </summary>
    public static void Rows(TextWriter output, ListFormat format, TemplateRow header, IEnumerable<TemplateRow> rows)
    {
        var text = new StringBuilder();
        if (format.Table)
            text.Append(format.Template.ForHeader().Execute(header)).Append('\n');
        foreach (var row in rows)
            text.Append(format.Template.Execute(row)).Append('\n');
        output.Write(format.Table ? TabWriter(text.ToString(), minWidth: 10, padding: 3) : text.ToString());
    }

    /// <summary>
    /// docker inspect's output: the JSON array as is, or with a template (-f) each element's text on a line;
    /// "json" is <c>{{json .}}</c>.
    /// </summary>
    public static void Documents(TextWriter output, GoTemplate? format, string jsonArray)
    {
        if (format is null)
        {
            output.WriteLine(jsonArray);
            return;
        }
        using var documents = System.Text.Json.JsonDocument.Parse(jsonArray);
        var text = new StringBuilder();
        foreach (var document in documents.RootElement.EnumerateArray())
            text.Append(format.Execute(document)).Append('\n');
        // docker prints an empty line when no object was found.
        output.Write(text.Length > 0 ? text.ToString() : "\n");
    }

    /// <summary>The --format of `inspect` and `version`: "json" or a template, one that does not parse failing as docker's (status 64).</summary>
    public static GoTemplate? ParseDocumentFormat(string? format)
    {
        try
        {
            return format is null ? null : ParseTemplate(format == "json" ? "{{json .}}" : format);
        }
        catch (TemplateException error)
        {
            throw new CliFailure(ErrorKind.InvalidArgument, error.Message, error, Program.TemplateParseError);
        }
    }

    /// <summary>A --format template, its errors worded as docker's ("template parsing error: template: :1: ...").</summary>
    public static GoTemplate ParseTemplate(string format)
    {
        try
        {
            return GoTemplate.Parse(format);
        }
        catch (TemplateException error)
        {
            throw new TemplateException("template parsing error: " + error.Message);
        }
    }

    /// <summary>
    /// Go's text/tabwriter (padding with spaces, no flags): a tab ends a cell; consecutive lines that have a cell in
    /// a column form a block whose cells are padded to the widest plus <paramref name="padding"/>, at least
    /// <paramref name="minWidth"/>; a line's last cell (not ended by a tab) is not aligned.
    /// </summary>
    public static string TabWriter(string text, int minWidth, int padding)
    {
        var lines = text.Split('\n').Select(line => line.Split('\t')).ToList();
        var result = new StringBuilder();
        var widths = new List<int>();
        void Write(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                var cells = lines[i];
                for (int j = 0; j < cells.Length; j++)
                {
                    result.Append(cells[j]);
                    if (j < widths.Count && j < cells.Length - 1)
                        result.Append(' ', Math.Max(0, widths[j] - CellWidth(cells[j])));
                }
                if (i + 1 < lines.Count)
                    result.Append('\n');
            }
        }
        void Format(int from, int to)
        {
            int column = widths.Count;
            for (int line = from; line < to; line++)
            {
                if (column >= lines[line].Length - 1)
                    continue;
                Write(from, line);
                from = line;
                int width = minWidth;
                for (; line < to && column < lines[line].Length - 1; line++)
                    width = Math.Max(width, CellWidth(lines[line][column]) + padding);
                widths.Add(width);
                Format(from, line);
                widths.RemoveAt(widths.Count - 1);
                from = line;
                line--;
            }
            Write(from, to);
        }
        Format(0, lines.Count);
        return result.ToString();
    }

    private static int CellWidth(string cell) => cell.EnumerateRunes().Count();

    /// <summary>go-units HumanDuration plus " ago": "Less than a second ago", "About an hour ago", "3 weeks ago".</summary>
    public static string Ago(DateTimeOffset time, DateTimeOffset now) => ContainerDisplay.HumanDuration(now - time) + " ago";

    /// <summary>Go's time.Time String of a unix time, as docker's CreatedAt fields show it: "2024-01-02 15:04:05 +0000 UTC".</summary>
    public static string GoTime(DateTimeOffset time)
    {
        var local = time.ToLocalTime();
        string offset = local.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "");
        string zone = local.Offset == TimeSpan.Zero ? "UTC" : offset;
        return local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + $" {offset} {zone}";
    }

    /// <summary>A table as docker's formatter prints it: columns aligned by <see cref="TabWriter"/> with docker's settings.</summary>
    public static void Table(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
        => output.Write(TabWriter(string.Concat(rows.Prepend(header).Select(row => string.Join('\t', row) + "\n")), minWidth: 10, padding: 3));
}

/// <summary>A parsed list --format: whether it is a table, and the template of one row.</summary>
internal sealed record ListFormat(bool Table, GoTemplate Template);
