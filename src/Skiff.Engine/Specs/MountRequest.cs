namespace Skiff.Engine.Specs;

public enum MountKind
{
    Bind,
    Volume,
    Tmpfs,
}

/// <summary>
/// One `-v`, `--mount` or `--tmpfs` of `skiff run`. <see cref="Source"/> is a host path (bind), a volume name
/// (volume; null for an anonymous volume) or unused (tmpfs). <see cref="Options"/> are OCI mount options
/// (propagation, tmpfs size/mode) beyond read-only.
/// </summary>
public sealed record MountRequest(MountKind Kind, string? Source, string Target, bool ReadOnly, IReadOnlyList<string> Options)
{
    private static readonly HashSet<string> Propagations = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

    /// <summary>
    /// `-v` as docker reads it: "/host:/ctr[:opts]" (bind), "name:/ctr[:opts]" (named volume) or "/ctr" (anonymous
    /// volume). opts is a comma list of ro, rw, a propagation mode, and z/Z/nocopy (accepted; volumes are not relabelled for SELinux yet).
    /// </summary>
    public static MountRequest ParseVolume(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0))
            throw Invalid("volume mount", spec, "expected [SOURCE:]TARGET[:OPTIONS]");
        if (parts.Length == 1)
            return new MountRequest(MountKind.Volume, null, CheckTarget("volume mount", spec, parts[0]), false, []);
        var source = parts[0];
        var target = CheckTarget("volume mount", spec, parts[1]);
        bool readOnly = false;
        var options = new List<string>();
        if (parts.Length == 3)
        {
            foreach (var option in parts[2].Split(','))
            {
                if (option == "ro") readOnly = true;
                else if (option == "rw") readOnly = false;
                else if (Propagations.Contains(option)) options.Add(option);
                else if (option is "z" or "Z" or "nocopy") continue;
                else throw Invalid("volume mount", spec, $"unknown option \"{option}\" (ro, rw, z, Z, nocopy or a propagation mode)");
            }
        }
        if (source.StartsWith('/'))
            return new MountRequest(MountKind.Bind, source, target, readOnly, options);
        if (source.StartsWith('.') || source.Contains('/'))
            throw Invalid("volume mount", spec, $"a host path must be absolute (\"{source}\")");
        ValidateVolumeName("volume mount", spec, source);
        return new MountRequest(MountKind.Volume, source, target, readOnly, options);
    }

    /// <summary>`--mount type=bind|volume|tmpfs,source=...,target=...,readonly,bind-propagation=...,tmpfs-size=...,tmpfs-mode=...`.</summary>
    public static MountRequest ParseMount(string spec)
    {
        string? type = null, source = null, target = null;
        bool readOnly = false;
        var options = new List<string>();
        foreach (var field in spec.Split(','))
        {
            var eq = field.IndexOf('=');
            var key = (eq < 0 ? field : field[..eq]).Trim().ToLowerInvariant();
            var value = eq < 0 ? null : field[(eq + 1)..];
            switch (key)
            {
                case "type": type = value; break;
                case "source" or "src": source = value; break;
                case "target" or "destination" or "dst": target = value; break;
                case "readonly" or "ro":
                    readOnly = value is null || value is "true" or "1";
                    if (value is not (null or "true" or "1" or "false" or "0"))
                        throw Invalid("mount", spec, $"readonly takes true or false, not \"{value}\"");
                    break;
                case "bind-propagation":
                    if (value is null || !Propagations.Contains(value))
                        throw Invalid("mount", spec, $"unknown bind-propagation \"{value}\"");
                    options.Add(value);
                    break;
                case "tmpfs-size":
                    options.Add($"size={ByteSize.Parse(value ?? "", "tmpfs size")}");
                    break;
                case "tmpfs-mode":
                    options.Add($"mode={ParseMode("mount", spec, value)}");
                    break;
                case "consistency" or "volume-nocopy":
                    break;
                default:
                    throw Invalid("mount", spec, $"unknown field \"{key}\"");
            }
        }
        if (target is null)
            throw Invalid("mount", spec, "target is required");
        target = CheckTarget("mount", spec, target);
        switch (type)
        {
            case "bind":
                if (string.IsNullOrEmpty(source) || !source.StartsWith('/'))
                    throw Invalid("mount", spec, "a bind mount needs an absolute source");
                return new MountRequest(MountKind.Bind, source, target, readOnly, options);
            case "volume" or null:
                if (!string.IsNullOrEmpty(source))
                    ValidateVolumeName("mount", spec, source);
                return new MountRequest(MountKind.Volume, string.IsNullOrEmpty(source) ? null : source, target, readOnly, options);
            case "tmpfs":
                if (!string.IsNullOrEmpty(source))
                    throw Invalid("mount", spec, "a tmpfs mount takes no source");
                return new MountRequest(MountKind.Tmpfs, null, target, readOnly, options);
            default:
                throw Invalid("mount", spec, $"unknown type \"{type}\" (bind, volume or tmpfs)");
        }
    }

    /// <summary>`--tmpfs /run[:OPTIONS]` with mount(8) style options (size=64m, mode=1777, ro, noexec...).</summary>
    public static MountRequest ParseTmpfs(string spec)
    {
        var colon = spec.IndexOf(':');
        var target = CheckTarget("tmpfs mount", spec, colon < 0 ? spec : spec[..colon]);
        bool readOnly = false;
        var options = new List<string>();
        if (colon >= 0)
        {
            foreach (var option in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (option == "ro") readOnly = true;
                else if (option == "rw") readOnly = false;
                else if (option.StartsWith("size=", StringComparison.Ordinal))
                    options.Add($"size={ByteSize.Parse(option[5..], "tmpfs size")}");
                else if (option.StartsWith("mode=", StringComparison.Ordinal))
                    options.Add($"mode={ParseMode("tmpfs mount", spec, option[5..])}");
                else if (option is "exec" or "noexec" or "suid" or "nosuid" or "dev" or "nodev" or "atime" or "noatime" or "relatime" or "strictatime")
                    options.Add(option);
                else
                    throw Invalid("tmpfs mount", spec, $"unknown option \"{option}\"");
            }
        }
        return new MountRequest(MountKind.Tmpfs, null, target, readOnly, options);
    }

    private static string CheckTarget(string form, string spec, string target)
    {
        if (!target.StartsWith('/'))
            throw Invalid(form, spec, $"the container path must be absolute (\"{target}\")");
        var components = target.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".").ToList();
        if (components.Contains(".."))
            throw Invalid(form, spec, $"the container path must not contain \"..\" (\"{target}\")");
        // A mount over / would sit under the rootfs the process is pivoted onto, unseen; docker refuses it too.
        if (components.Count == 0)
            throw Invalid(form, spec, "the container path cannot be \"/\": mount at a directory inside the container");
        return "/" + string.Join('/', components);
    }

    private static string ParseMode(string form, string spec, string? value)
    {
        if (value is null || value.Length == 0 || value.Length > 4 || value.Any(c => c is < '0' or > '7'))
            throw Invalid(form, spec, $"mode must be octal such as 1777, not \"{value}\"");
        return value;
    }

    /// <summary>docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*.</summary>
    private const int MaximumVolumeName = 255;

    internal static void ValidateVolumeName(string form, string spec, string name)
    {
        bool valid = name.Length > 0 && char.IsAsciiLetterOrDigit(name[0])
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
        if (!valid)
            throw Invalid(form, spec, $"invalid volume name \"{name}\" (letters, digits, '_', '.', '-'; starting with a letter or digit)");
        // The name is a directory name: longer than NAME_MAX, mkdir would fail with ENAMETOOLONG after the checks.
        if (name.Length > MaximumVolumeName)
            throw Invalid(form, spec, $"the volume name is {name.Length} characters long: at most {MaximumVolumeName} are allowed");
    }

    private static EngineException Invalid(string form, string spec, string why) => new(ErrorKind.InvalidArgument, $"invalid {form} \"{spec}\": {why}");
}
