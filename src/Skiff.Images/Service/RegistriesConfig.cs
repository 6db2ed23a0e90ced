using Skiff.Images.References;

namespace Skiff.Images.Service;

/// <summary>
/// The registries configuration: where short names are searched and which registries are plain HTTP. The file uses
/// the subset of containers-registries.conf(5) (TOML) that skiff needs, so an existing podman file works as is:
/// <code>
/// unqualified-search-registries = ["docker.io", "quay.io"]
///
/// [[registry]]
/// location = "localhost:5000"
/// insecure = true
/// </code>
/// Other keys and tables are ignored, as podman ignores keys it does not know.
/// </summary>
public sealed class RegistriesConfig
{
    public const string DefaultPath = "/etc/skiff/registries.conf";

    /// <summary>Environment variable naming another file (tests, non-root users).</summary>
    public const string PathVariable = "SKIFF_REGISTRIES_CONF";

    /// <summary>Registries tried, in order, for a name without a registry host; docker.io when the file says nothing.</summary>
    public IReadOnlyList<string> SearchRegistries { get; init; } = [ImageReference.DefaultDomain];

    /// <summary>Registries (host[:port]) reached over plain HTTP.</summary>
    public IReadOnlyList<string> InsecureRegistries { get; init; } = [];

    /// <summary>Reads the file named by <see cref="PathVariable"/>, else <see cref="DefaultPath"/>; defaults when it does not exist.</summary>
    public static RegistriesConfig Load()
    {
        string path = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } overridden ? overridden : DefaultPath;
        return File.Exists(path) ? Parse(File.ReadAllText(path), path) : new RegistriesConfig();
    }

    /// <summary>Parses the text of a registries.conf; a malformed line is an <see cref="ImageException"/> naming the file and line.</summary>
    public static RegistriesConfig Parse(string text, string path)
    {
        List<string>? search = null;
        var insecure = new List<string>();
        string? location = null;
        bool insecureEntry = false;
        string table = "";

        void EndRegistry()
        {
            if (table == "[[registry]]" && location is not null && insecureEntry)
                insecure.Add(location);
            location = null;
            insecureEntry = false;
        }

        string[] lines = text.Split('\n');
        for (int number = 1; number <= lines.Length; number++)
        {
            string line = StripComment(lines[number - 1]).Trim();
            if (line.Length == 0)
                continue;
            ImageException Malformed(string why) => new($"{path}:{number}: {why}");
            if (line.StartsWith('['))
            {
                EndRegistry();
                table = line;
                continue;
            }
            int equals = line.IndexOf('=');
            if (equals <= 0)
                throw Malformed($"expected key = value, got \"{line}\"");
            string key = line[..equals].Trim().Trim('"');
            string value = line[(equals + 1)..].Trim();
            switch (table, key)
            {
                case ("", "unqualified-search-registries"):
                    search = ParseStringArray(value) ?? throw Malformed("unqualified-search-registries must be an array of strings on one line");
                    break;
                case ("[[registry]]", "location"):
                    location = ParseString(value) ?? throw Malformed("location must be a string");
                    break;
                case ("[[registry]]", "insecure"):
                    insecureEntry = value switch
                    {
                        "true" => true,
                        "false" => false,
                        _ => throw Malformed($"insecure must be true or false, not {value}"),
                    };
                    break;
            }
        }
        EndRegistry();
        return new RegistriesConfig
        {
            SearchRegistries = search is { Count: > 0 } ? search : [ImageReference.DefaultDomain],
            InsecureRegistries = insecure,
        };
    }

    /// <summary>
    /// The references a name may mean, in the order to try them: one for a fully qualified name (its first component
    /// is a host: it has a '.' or ':' or is <c>localhost</c>), else one per search registry.
    /// </summary>
    public IReadOnlyList<ImageReference> Candidates(string name)
    {
        if (IsQualified(name))
            return [ImageReference.Parse(name)];
        return [.. SearchRegistries.Select(registry => registry == ImageReference.DefaultDomain
            ? ImageReference.Parse(name)
            : ImageReference.Parse($"{registry}/{name}"))];
    }

    public bool IsInsecure(string registry) => InsecureRegistries.Contains(registry, StringComparer.OrdinalIgnoreCase);

    /// <summary>distribution/reference's rule for whether the first path component names a registry.</summary>
    public static bool IsQualified(string name)
    {
        int slash = name.IndexOf('/');
        if (slash < 0)
            return false;
        string first = name[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsAsciiLetterUpper);
    }

    private static string StripComment(string line)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"')
                quoted = !quoted;
            else if (line[i] == '#' && !quoted)
                return line[..i];
        }
        return line;
    }

    private static string? ParseString(string value)
        => value.Length >= 2 && value[0] == '"' && value[^1] == '"' && value.IndexOf('"', 1) == value.Length - 1 ? value[1..^1] : null;

    private static List<string>? ParseStringArray(string value)
    {
        if (value.Length < 2 || value[0] != '[' || value[^1] != ']')
            return null;
        var items = new List<string>();
        foreach (string part in value[1..^1].Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
                continue; // a trailing comma, which TOML allows
            if (ParseString(part) is not { } item)
                return null;
            items.Add(item);
        }
        return items;
    }
}
