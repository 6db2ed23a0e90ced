using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Skiff.Network.Cni;

/// <summary>
/// A CNI network configuration (SPEC.md section 1): a named list of plugins run in order, each plugin's own fields kept
/// as they are so that they reach the plugin unchanged. Read from a <c>.conflist</c>, or from a <c>.conf</c>/<c>.json</c>
/// holding one plugin's configuration, which becomes a list of that one plugin as libcni does.
/// </summary>
public sealed partial class CniConfigList
{
    // Configuration files are small; a bigger one is a mistake, and reading it whole would be unbounded memory.
    private const long MaxFileBytes = 1 << 20;

    private readonly JsonObject _document;

    private CniConfigList(JsonObject document, string cniVersion, string name, bool disableCheck, bool disableGC, IReadOnlyList<CniPluginConfig> plugins, string? source)
    {
        _document = document;
        CniVersion = cniVersion;
        Name = name;
        DisableCheck = disableCheck;
        DisableGC = disableGC;
        Plugins = plugins;
        Source = source;
    }

    /// <summary>The specification version the plugins are run with: the highest known one of cniVersion and cniVersions.</summary>
    public string CniVersion { get; }

    /// <summary>The network's name, unique on the host; it names the cached results too.</summary>
    public string Name { get; }

    /// <summary>CHECK must not be run for this network.</summary>
    public bool DisableCheck { get; }

    /// <summary>GC must not be run for this network.</summary>
    public bool DisableGC { get; }

    /// <summary>The plugins in the order ADD runs them.</summary>
    public IReadOnlyList<CniPluginConfig> Plugins { get; }

    /// <summary>The file it was read from; null when parsed from text.</summary>
    public string? Source { get; }

    /// <summary>The configuration as a conflist (a single plugin's .conf comes out as a list of one).</summary>
    public string ToJson() => _document.ToJsonString();

    /// <summary>Parses a conflist, or a single plugin's configuration; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CniException">Of kind InvalidArgument, saying what is wrong.</exception>
    public static CniConfigList Parse(string json, string? source = null)
    {
        JsonNode? root;
        try
        {
            root = CniJson.Parse(json);
        }
        catch (JsonException error)
        {
            throw Invalid(source, $"it is not valid JSON ({error.Message.TrimEnd('.')})", error);
        }
        if (root is not JsonObject document)
            throw Invalid(source, "it is not a JSON object");
        // A conflist has "plugins"; a .conf is one plugin's configuration with the network's name and version in it.
        if (!document.ContainsKey("plugins"))
        {
            if (!document.ContainsKey("type"))
                throw Invalid(source, "it has neither \"plugins\" (a conflist) nor \"type\" (a single plugin's configuration)");
            var list = new JsonObject();
            foreach (string key in new[] { "cniVersion", "cniVersions", "name", "disableCheck", "disableGC" })
                if (document[key] is { } value)
                    list[key] = value.DeepClone();
            list["plugins"] = new JsonArray(document);
            document = list;
        }
        return FromDocument(document, source);
    }

    /// <summary>Reads and parses one configuration file.</summary>
    /// <exception cref="CniException">Of kind NotFound when there is no such file, else InvalidArgument.</exception>
    public static CniConfigList Load(string file)
    {
        string text;
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxFileBytes)
                throw Invalid(file, $"it is larger than {MaxFileBytes / 1024} KiB");
            text = new StreamReader(stream).ReadToEnd();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            var kind = ErrorKinds.Of(error);
            throw new CniException(kind, $"The CNI configuration {file} cannot be read: {error.Message.TrimEnd('.')}.", error);
        }
        return Parse(text, file);
    }

    /// <summary>
    /// Every network configured in <paramref name="directory"/>, as libcni and podman find them: the files ending in
    /// .conf, .conflist or .json in the order of their names, the first file of a name winning. A file that is invalid,
    /// or whose network name an earlier file has taken, is skipped and added to <paramref name="problems"/>, so one bad
    /// file does not hide the other networks. A missing directory has no networks.
    /// </summary>
    public static IReadOnlyList<CniConfigList> LoadDirectory(string directory, ICollection<CniException>? problems = null)
    {
        if (!Directory.Exists(directory))
            return [];
        string[] files = Directory.GetFiles(directory)
            .Where(file => Path.GetExtension(file) is ".conf" or ".conflist" or ".json")
            .Order(StringComparer.Ordinal)
            .ToArray();
        var networks = new List<CniConfigList>();
        foreach (string file in files)
        {
            try
            {
                var network = Load(file);
                if (networks.FirstOrDefault(other => other.Name == network.Name) is { } first)
                    throw new CniException(ErrorKind.AlreadyExists, $"The CNI configuration {file} is ignored: {first.Source} configures network {network.Name} already.");
                networks.Add(network);
            }
            catch (CniException problem)
            {
                problems?.Add(problem);
            }
        }
        return networks;
    }

    private static CniConfigList FromDocument(JsonObject document, string? source)
    {
        string version = SelectVersion(document, source);
        string name = document["name"] is JsonValue nameValue && nameValue.TryGetValue(out string? text) ? text
            : throw Invalid(source, "it has no \"name\" (a string)");
        if (!NamePattern().IsMatch(name))
            throw Invalid(source, $"the name \"{name}\" is not a network name (a letter or digit, then letters, digits, '_', '.' or '-')");
        bool disableCheck = Flag(document, "disableCheck", source);
        bool disableGC = Flag(document, "disableGC", source);
        if (document["plugins"] is not JsonArray array)
            throw Invalid(source, "\"plugins\" is not a list");
        if (array.Count == 0)
            throw Invalid(source, "\"plugins\" is empty; a network needs at least one plugin");
        var plugins = new List<CniPluginConfig>(array.Count);
        for (int index = 0; index < array.Count; index++)
            plugins.Add(CniPluginConfig.From(array[index], index, source));
        return new CniConfigList(document, version, name, disableCheck, disableGC, plugins, source);
    }

    /// <summary>The highest known version of cniVersion and cniVersions, as the spec's "Version considerations" say.</summary>
    private static string SelectVersion(JsonObject document, string? source)
    {
        var offered = new List<string>();
        if (document["cniVersion"] is { } single)
            offered.Add(single is JsonValue value && value.TryGetValue(out string? text) ? text : throw Invalid(source, "\"cniVersion\" is not a string"));
        if (document["cniVersions"] is { } many)
        {
            if (many is not JsonArray versions)
                throw Invalid(source, "\"cniVersions\" is not a list of strings");
            foreach (var item in versions)
                offered.Add(item is JsonValue value && value.TryGetValue(out string? text) ? text : throw Invalid(source, "\"cniVersions\" is not a list of strings"));
        }
        if (offered.Count == 0)
            throw Invalid(source, "it has no \"cniVersion\"");
        var known = offered.Where(CniVersions.IsKnown).ToList();
        if (known.Count == 0)
            throw Invalid(source, $"cniVersion {string.Join(", ", offered)} is not a CNI version Skiff knows ({string.Join(", ", CniVersions.Known)})");
        return known.MaxBy(Version.Parse)!;
    }

    /// <summary>A boolean that libcni also accepts as the strings "true" and "false".</summary>
    private static bool Flag(JsonObject document, string key, string? source)
    {
        if (document[key] is not JsonValue value)
            return document[key] is null ? false : throw Invalid(source, $"\"{key}\" is not true or false");
        if (value.TryGetValue(out bool flag))
            return flag;
        if (value.TryGetValue(out string? text) && bool.TryParse(text, out flag))
            return flag;
        throw Invalid(source, $"\"{key}\" is not true or false");
    }

    internal static CniException Invalid(string? source, string what, Exception? inner = null)
        => new(ErrorKind.InvalidArgument, $"The CNI configuration {source ?? "given"} is invalid: {what}.", inner);

    /// <summary>SPEC.md's network name: it also names files (the result cache, host-local's directory).</summary>
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$")]
    internal static partial Regex NamePattern();
}

/// <summary>One plugin of a network: the program it names and the capabilities it declares; its other fields stay as written.</summary>
public sealed class CniPluginConfig
{
    private readonly JsonObject _config;

    private CniPluginConfig(JsonObject config, string type, IReadOnlySet<string> capabilities)
    {
        _config = config;
        Type = type;
        Capabilities = capabilities;
    }

    /// <summary>The plugin's program, looked up by this name in the plugin directories.</summary>
    public string Type { get; }

    /// <summary>The capabilities the plugin declares (true in its "capabilities"): only those runtimeConfig keys reach it.</summary>
    public IReadOnlySet<string> Capabilities { get; }

    /// <summary>The plugin's configuration as written in the file.</summary>
    public string ToJson() => _config.ToJsonString();

    /// <summary>A copy of the configuration, for the request a run of the plugin gets.</summary>
    internal JsonObject CloneConfig() => (JsonObject)_config.DeepClone();

    internal static CniPluginConfig From(JsonNode? node, int index, string? source)
    {
        if (node is not JsonObject config)
            throw CniConfigList.Invalid(source, $"plugin {index + 1} is not a JSON object");
        if (config["type"] is not JsonValue typeValue || !typeValue.TryGetValue(out string? type) || type.Length == 0)
            throw CniConfigList.Invalid(source, $"plugin {index + 1} has no \"type\" naming its program");
        // The type is joined to a plugin directory: a path in it would run a program from anywhere.
        if (type.Contains('/') || type.Contains('\\') || type is "." or ".." || type.Contains('\0'))
            throw CniConfigList.Invalid(source, $"plugin {index + 1} has the type \"{type}\", which is a path, not a plugin's name");
        var capabilities = new HashSet<string>(StringComparer.Ordinal);
        if (config["capabilities"] is { } declared)
        {
            if (declared is not JsonObject map)
                throw CniConfigList.Invalid(source, $"plugin {index + 1} ({type}) has \"capabilities\" that are not an object of true and false");
            foreach (var (name, value) in map)
            {
                if (value is not JsonValue flag || !flag.TryGetValue(out bool enabled))
                    throw CniConfigList.Invalid(source, $"plugin {index + 1} ({type}) has the capability \"{name}\" set to something other than true or false");
                if (enabled)
                    capabilities.Add(name);
            }
        }
        return new CniPluginConfig(config, type, capabilities);
    }
}
