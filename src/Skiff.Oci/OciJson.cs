using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Skiff.Oci;

/// <summary>
/// Reading and writing OCI JSON documents through <see cref="OciJsonContext"/>. Every read error becomes an
/// <see cref="OciConfigException"/> whose message is one line naming the source and the JSON path, e.g.
/// <c>config.json: $.process.args: expected an array of strings, got a string</c>.
/// </summary>
public static class OciJson
{
    // ---- config.json ----

    /// <summary>Reads and parses a config.json. Errors name <paramref name="path"/> as given.</summary>
    public static Spec ReadSpec(string path) => ParseSpec(ReadFile(path), path);

    /// <summary>config.json bytes; the generated metadata is only built when the fast reader gives up (see SpecFastReader).</summary>
    public static Spec ParseSpec(byte[] utf8, string source)
        => SpecFastReader.TryRead(utf8) ?? Parse(utf8, OciJsonContext.Default.Spec, source);

    /// <summary>Parses config.json text; <paramref name="source"/> prefixes error messages.</summary>
    public static Spec ParseSpec(string json, string source = "config.json") => ParseSpec(Encoding.UTF8.GetBytes(json), source);

    /// <summary>Serialises a spec; indented (tabs, like `runc spec`) by default.</summary>
    public static string SerializeSpec(Spec spec, bool indented = true)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(8192);
        var options = new JsonWriterOptions { Encoder = JsonSyntaxOnlyEncoder.Instance, Indented = indented, IndentCharacter = '\t', IndentSize = 1 };
        using (var writer = new Utf8JsonWriter(buffer, options))
            SpecWriterContext.Default.Spec.SerializeHandler!(writer, spec);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes an indented config.json (atomically: temp file + rename).</summary>
    public static void WriteSpec(string path, Spec spec) => WriteFileAtomic(path, SerializeSpec(spec, indented: true));

    // ---- process.json (exec --process) and resources (update -r) ----

    public static Process ReadProcess(string path) => Parse(ReadFile(path), OciJsonContext.Default.Process, path);

    public static Process ParseProcess(string json, string source = "process.json") =>
        Parse(Encoding.UTF8.GetBytes(json), OciJsonContext.Default.Process, source);

    public static LinuxResources ReadResources(string path) => Parse(ReadFile(path), OciJsonContext.Default.LinuxResources, path);

    public static LinuxResources ParseResources(string json, string source = "resources") =>
        Parse(Encoding.UTF8.GetBytes(json), OciJsonContext.Default.LinuxResources, source);

    // ---- state ----

    public static State ReadState(string path) => Parse(ReadFile(path), OciJsonContext.Default.State, path);

    public static State ParseState(string json, string source = "state") =>
        Parse(Encoding.UTF8.GetBytes(json), OciJsonContext.Default.State, source);

    /// <summary>Serialises a state (indented by default, like `runc state`).</summary>
    public static string SerializeState(State state, bool indented = true) =>
        JsonSerializer.Serialize(state, indented ? OciJsonContext.Indented.State : OciJsonContext.Default.State);

    /// <summary>Serialises a list of states (`list --format json`); compact by default.</summary>
    public static string SerializeStates(List<State> states, bool indented = false) =>
        JsonSerializer.Serialize(states, indented ? OciJsonContext.Indented.ListState : OciJsonContext.Default.ListState);

    public static void WriteState(string path, State state) => WriteFileAtomic(path, SerializeState(state, indented: false));

    public static string SerializeContainerProcessState(ContainerProcessState state) =>
        JsonSerializer.Serialize(state, OciJsonContext.Default.ContainerProcessState);

    // ---- features ----

    public static string SerializeFeatures(Features features, bool indented = true) =>
        JsonSerializer.Serialize(features, indented ? OciJsonContext.Indented.Features : OciJsonContext.Default.Features);

    public static Features ParseFeatures(string json, string source = "features") =>
        Parse(Encoding.UTF8.GetBytes(json), OciJsonContext.Default.Features, source);

    // ---- plumbing ----

    /// <summary>Parses <paramref name="utf8"/> as <typeparamref name="T"/>, turning every failure into a one-line
    /// <see cref="OciConfigException"/> prefixed with <paramref name="source"/>.</summary>
    public static T Parse<T>(byte[] utf8, JsonTypeInfo<T> typeInfo, string source) where T : class
    {
        var docOptions = new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, docOptions);
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1, col = (e.BytePositionInLine ?? 0) + 1;
            throw new OciConfigException($"{source}: invalid JSON at line {line}, column {col}: {CleanMessage(e.Message)}", e);
        }

        using (doc)
        {
            T? value;
            try
            {
                value = JsonSerializer.Deserialize(utf8, typeInfo);
            }
            catch (JsonException e)
            {
                throw new OciConfigException($"{source}: {DescribeError(e, doc.RootElement, typeInfo)}", e);
            }
            catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
            {
                throw new OciConfigException($"{source}: {CleanMessage(e.Message)}", e);
            }

            return value ?? throw new OciConfigException($"{source}: $: expected {Describe(typeof(T), plural: false)}, got null");
        }
    }

    /// <summary>Writes text to a temp file beside <paramref name="path"/>, fsyncs, then renames it over <paramref name="path"/>.</summary>
    public static void WriteFileAtomic(string path, string contents)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var bytes = Encoding.UTF8.GetBytes(contents);
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new OciConfigException(ErrorKind.NotFound, $"{path}: no such file or directory", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OciConfigException(ErrorKind.PermissionDenied, $"{path}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new OciConfigException(ErrorKinds.Of(e), $"{path}: {e.Message}", e);
        }
    }

    private static string DescribeError(JsonException e, JsonElement root, JsonTypeInfo rootInfo)
    {
        var path = string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
        var segments = ParsePath(path);
        Type? expected = segments is null ? null : ResolveType(rootInfo, segments);
        if (expected is null)
            return $"{path}: {CleanMessage(e.Message)}";
        var found = segments is null ? null : FindElement(root, segments);
        var got = found is { } f ? " got " + DescribeValue(f) : "";
        return $"{path}: expected {Describe(expected, plural: false)}{(got.Length > 0 ? "," + got : "")}";
    }

    // A path segment is either a property/key name (string) or an array index (int).
    private static List<object>? ParsePath(string path)
    {
        if (!path.StartsWith('$')) return null;
        var result = new List<object>();
        int i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int start = ++i;
                while (i < path.Length && path[i] != '.' && path[i] != '[') i++;
                result.Add(path[start..i]);
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                int end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) return null;
                result.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                int end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int idx)) return null;
                result.Add(idx);
                i = end + 1;
            }
            else return null;
        }
        return result;
    }

    private static Type? ResolveType(JsonTypeInfo rootInfo, List<object> segments)
    {
        Type type = rootInfo.Type;
        foreach (var seg in segments)
        {
            JsonTypeInfo? info = rootInfo.Options.TypeInfoResolver?.GetTypeInfo(Nullable.GetUnderlyingType(type) ?? type, rootInfo.Options);
            if (info is null) return null;
            switch (info.Kind)
            {
                case JsonTypeInfoKind.Object when seg is string name:
                    var prop = info.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
                    if (prop is null) return null;
                    type = prop.PropertyType;
                    break;
                case JsonTypeInfoKind.Dictionary when seg is string:
                case JsonTypeInfoKind.Enumerable when seg is int:
                    if (info.ElementType is null) return null;
                    type = info.ElementType;
                    break;
                default:
                    return null;
            }
        }
        return type;
    }

    private static JsonElement? FindElement(JsonElement root, List<object> segments)
    {
        var cur = root;
        foreach (var seg in segments)
        {
            if (seg is string name && cur.ValueKind == JsonValueKind.Object)
            {
                JsonElement? next = null;
                foreach (var p in cur.EnumerateObject())
                    if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) next = p.Value; // last one wins
                if (next is null) return null;
                cur = next.Value;
            }
            else if (seg is int idx && cur.ValueKind == JsonValueKind.Array && idx < cur.GetArrayLength())
                cur = cur[idx];
            else
                return null;
        }
        return cur;
    }

    private static string DescribeValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    internal static string Describe(Type t, bool plural)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        string Noun(string one, string many, string article) => plural ? many : article + " " + one;
        if (t == typeof(string)) return Noun("string", "strings", "a");
        if (t == typeof(bool)) return plural ? "booleans" : "true or false";
        if (t == typeof(int)) return Noun("integer (32-bit)", "integers (32-bit)", "an");
        if (t == typeof(long)) return Noun("integer (64-bit)", "integers (64-bit)", "an");
        if (t == typeof(uint)) return Noun("unsigned integer (32-bit)", "unsigned integers (32-bit)", "an");
        if (t == typeof(ulong)) return Noun("unsigned integer (64-bit)", "unsigned integers (64-bit)", "an");
        if (t == typeof(ushort)) return Noun("unsigned integer (16-bit)", "unsigned integers (16-bit)", "an");
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
            return Noun("array of " + Describe(t.GetGenericArguments()[0], plural: true), "arrays", "an");
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var v = t.GetGenericArguments()[1];
            return v == typeof(string) ? Noun("object with string values", "objects", "an") : Noun("object of objects", "objects", "an");
        }
        return Noun("object", "objects", "an");
    }

    private static string CleanMessage(string message)
    {
        foreach (var marker in new[] { " Path: ", " LineNumber: " })
        {
            int i = message.IndexOf(marker, StringComparison.Ordinal);
            if (i >= 0) message = message[..i];
        }
        message = message.Replace(" Change the reader options.", "", StringComparison.Ordinal);
        return message.Replace('\n', ' ').Replace('\r', ' ').Trim();
    }
}
