using System.Globalization;
using System.Text;

namespace Skiff.Build.Dockerfile;

public enum RunMountType { Bind, Cache, Tmpfs, Secret, Ssh }

public enum CacheSharing { Shared, Private, Locked }

/// <summary>
/// One <c>RUN --mount=</c> value, BuildKit's keys: <c>type</c> (bind, the default, cache, tmpfs, secret, ssh),
/// <c>target</c>/<c>dst</c>/<c>destination</c>, <c>source</c>/<c>src</c>, <c>from</c>, <c>ro</c>/<c>readonly</c>,
/// <c>rw</c>/<c>readwrite</c>, <c>id</c>, <c>sharing</c>, <c>mode</c> (octal), <c>uid</c>, <c>gid</c>, <c>size</c>
/// (tmpfs), <c>required</c> and <c>env</c> (secret). Defaults are filled as BuildKit's: a bind is read-only, a cache
/// 0755 and shared, a secret 0400 at /run/secrets/ID, an ssh socket 0600 with the id "default".
/// </summary>
public sealed record RunMount(RunMountType Type, string? Target, string? Source, string? From, bool ReadOnly, string? Id,
    CacheSharing Sharing, int Mode, int Uid, int Gid, long? Size, bool Required, string? Env)
{
    /// <summary>
    /// Parses <paramref name="value"/> (comma-separated <c>key=value</c> fields, CSV quoting); every value goes through
    /// <paramref name="expand"/> first (docker substitutes build args in mount options). Errors are sentences without the
    /// line, which the caller adds.
    /// </summary>
    public static RunMount Parse(string value, Func<string, string>? expand = null)
    {
        var fields = new List<(string Key, string? Value)>();
        foreach (string field in SplitCsv(value))
        {
            int equals = field.IndexOf('=');
            string key = (equals < 0 ? field : field[..equals]).Trim().ToLowerInvariant();
            string? fieldValue = equals < 0 ? null : field[(equals + 1)..];
            fields.Add((key, fieldValue is null || expand is null ? fieldValue : expand(fieldValue)));
        }
        var type = RunMountType.Bind;
        foreach (var (key, typeValue) in fields.Where(field => field.Key == "type"))
            type = typeValue switch
            {
                "bind" => RunMountType.Bind,
                "cache" => RunMountType.Cache,
                "tmpfs" => RunMountType.Tmpfs,
                "secret" => RunMountType.Secret,
                "ssh" => RunMountType.Ssh,
                _ => throw Bad(value, $"the mount type \"{typeValue}\" is not one of bind, cache, tmpfs, secret, ssh"),
            };
        string? target = null, source = null, from = null, id = null, env = null;
        bool readOnly = type == RunMountType.Bind, required = false;
        var sharing = CacheSharing.Shared;
        int? mode = null;
        int uid = 0, gid = 0;
        long? size = null;
        foreach (var (key, fieldValue) in fields)
        {
            if (fieldValue is null)
            {
                switch (key)
                {
                    case "ro" or "readonly":
                        readOnly = true;
                        continue;
                    case "rw" or "readwrite":
                        readOnly = false;
                        continue;
                    case "required":
                        required = true;
                        continue;
                    default:
                        throw Bad(value, $"\"{key}\" needs a value: write {key}=VALUE");
                }
            }
            switch (key)
            {
                case "type":
                    break;
                case "target" or "dst" or "destination":
                    target = fieldValue;
                    break;
                case "source" or "src":
                    source = fieldValue;
                    break;
                case "from":
                    Only(value, key, type, RunMountType.Bind, RunMountType.Cache);
                    from = fieldValue;
                    break;
                case "ro" or "readonly":
                    readOnly = Boolean(value, key, fieldValue);
                    break;
                case "rw" or "readwrite":
                    readOnly = !Boolean(value, key, fieldValue);
                    break;
                case "required":
                    Only(value, key, type, RunMountType.Secret, RunMountType.Ssh);
                    required = Boolean(value, key, fieldValue);
                    break;
                case "id":
                    Only(value, key, type, RunMountType.Cache, RunMountType.Secret, RunMountType.Ssh);
                    id = fieldValue;
                    break;
                case "sharing":
                    Only(value, key, type, RunMountType.Cache);
                    sharing = fieldValue switch
                    {
                        "shared" => CacheSharing.Shared,
                        "private" => CacheSharing.Private,
                        "locked" => CacheSharing.Locked,
                        _ => throw Bad(value, $"sharing=\"{fieldValue}\" is not one of shared, private, locked"),
                    };
                    break;
                case "mode":
                    Only(value, key, type, RunMountType.Cache, RunMountType.Secret, RunMountType.Ssh);
                    try
                    {
                        mode = Convert.ToInt32(fieldValue, 8);
                    }
                    catch (Exception error) when (error is FormatException or OverflowException or ArgumentException)
                    {
                        throw Bad(value, $"mode=\"{fieldValue}\" is not an octal file mode such as 0755");
                    }
                    if (mode is < 0 or > 0xFFF)
                        throw Bad(value, $"mode=\"{fieldValue}\" is not an octal file mode such as 0755");
                    break;
                case "uid" or "gid":
                    Only(value, key, type, RunMountType.Cache, RunMountType.Secret, RunMountType.Ssh);
                    if (!int.TryParse(fieldValue, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
                        throw Bad(value, $"{key}=\"{fieldValue}\" is not a numeric id");
                    if (key == "uid")
                        uid = number;
                    else
                        gid = number;
                    break;
                case "size":
                    Only(value, key, type, RunMountType.Tmpfs);
                    size = Bytes(fieldValue) ?? throw Bad(value, $"size=\"{fieldValue}\" is not a size such as 64m");
                    break;
                case "env":
                    Only(value, key, type, RunMountType.Secret);
                    env = fieldValue;
                    break;
                default:
                    throw Bad(value, $"\"{key}\" is not a mount option: use type, target, source, from, ro, rw, id, sharing, mode, uid, gid, size, required or env");
            }
        }
        switch (type)
        {
            case RunMountType.Secret:
                if (id is null && target is null && env is null)
                    throw Bad(value, "a secret mount needs an id or a target: write type=secret,id=NAME");
                id ??= target is null ? env : target[(target.LastIndexOf('/') + 1)..];
                if (target is null && env is null)
                    target = "/run/secrets/" + id;
                break;
            case RunMountType.Ssh:
                id ??= "default";
                break;
            default:
                if (string.IsNullOrEmpty(target))
                    throw Bad(value, $"a {type.ToString().ToLowerInvariant()} mount needs a target: add target=PATH");
                break;
        }
        int defaultMode = type switch { RunMountType.Secret => 0x100, RunMountType.Ssh => 0x180, _ => 0x1ED };
        return new RunMount(type, target, source, from, readOnly, id, sharing, mode ?? defaultMode, uid, gid, size, required, env);
    }

    private static void Only(string value, string key, RunMountType type, params RunMountType[] allowed)
    {
        if (!allowed.Contains(type))
            throw Bad(value, $"{key} is not an option of a {type.ToString().ToLowerInvariant()} mount");
    }

    private static bool Boolean(string value, string key, string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw Bad(value, $"{key}=\"{text}\" takes true or false"),
    };

    /// <summary>Docker's RAM sizes: a number with an optional b, k, m, g or t (optionally followed by b or ib), powers of 1024.</summary>
    private static long? Bytes(string text)
    {
        string lower = text.Trim().ToLowerInvariant();
        int end = 0;
        while (end < lower.Length && (char.IsAsciiDigit(lower[end]) || lower[end] == '.'))
            end++;
        if (!double.TryParse(lower.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            return null;
        string unit = lower[end..];
        if (unit.EndsWith("ib", StringComparison.Ordinal))
            unit = unit[..^2];
        else if (unit.Length == 2 && unit[1] == 'b')
            unit = unit[..1];
        int power = unit switch { "" or "b" => 0, "k" => 1, "m" => 2, "g" => 3, "t" => 4, _ => -1 };
        if (power < 0)
            return null;
        double bytes = number * Math.Pow(1024, power);
        return bytes > long.MaxValue ? null : (long)bytes;
    }

    private static BuildException Bad(string value, string message) => new($"RUN --mount={value}: {message}");

    /// <summary>Comma-separated fields where a double-quoted field may hold commas (<c>"quoted,field"</c>, <c>""</c> for a quote).</summary>
    private static List<string> SplitCsv(string text)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    field.Append(text[++i]);
                else if (ch == '"')
                    quoted = false;
                else
                    field.Append(ch);
            }
            else if (ch == '"' && field.Length == 0)
                quoted = true;
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
                field.Append(ch);
        }
        if (quoted)
            throw Bad(text, "a quoted field is not closed: add the closing \"");
        fields.Add(field.ToString());
        return [.. fields.Where(item => item.Length > 0)];
    }
}
