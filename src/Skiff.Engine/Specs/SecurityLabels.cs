using Skiff.Interop;

namespace Skiff.Engine.Specs;

/// <summary>
/// The AppArmor profile and SELinux labels of a container, from docker's and podman's
/// `--security-opt apparmor=...` and `label=...`. Profiles the host cannot apply are passed on
/// anyway: the runtime refuses them with an error naming the field, which is better than a
/// container silently running unconfined.
/// </summary>
public sealed record SecurityLabels(string? ApparmorProfile, string? SelinuxLabel, string? MountLabel)
{
    /// <summary>The profile docker loads and applies by default where AppArmor runs.</summary>
    public const string DockerDefaultProfile = "docker-default";

    // container-selinux's defaults (its lxc_contexts), which label=user:/role:/type:/level: override piecewise.
    private const string DefaultUser = "system_u", DefaultRole = "system_r", DefaultType = "container_t", DefaultLevel = "s0";
    private const string FileContextPrefix = "system_u:object_r:container_file_t:";

    public static bool Handles(string option) => Value(option, "apparmor") is not null || Value(option, "label") is not null;

    public static SecurityLabels FromOptions(IEnumerable<string> options, bool privileged, SecurityModules modules)
    {
        string? apparmor = null;
        string? user = null, role = null, type = null, level = null;
        bool labelsDisabled = false;
        foreach (var option in options)
        {
            if (Value(option, "apparmor") is { } profile)
            {
                if (profile.Length == 0)
                    throw new EngineException(ErrorKind.InvalidArgument, $"security option {option}: give a profile name or unconfined");
                apparmor = profile;
            }
            else if (Value(option, "label") is { } label)
            {
                var (key, value) = label.IndexOf(':') is var colon and > 0 ? (label[..colon], label[(colon + 1)..]) : (label, "");
                switch (key)
                {
                    case "disable" when value.Length == 0: labelsDisabled = true; break;
                    case "user" when value.Length > 0: user = value; break;
                    case "role" when value.Length > 0: role = value; break;
                    case "type" when value.Length > 0: type = value; break;
                    case "level" when value.Length > 0: level = value; break;
                    default:
                        throw new EngineException(ErrorKind.InvalidArgument, $"security option {option}: expected label=user:USER, role:ROLE, type:TYPE, level:LEVEL or disable");
                }
            }
        }
        return new SecurityLabels(AppArmorProfile(apparmor, privileged, modules),
            labelsDisabled || (user ?? role ?? type ?? level) is null ? null
                : $"{user ?? DefaultUser}:{role ?? DefaultRole}:{type ?? DefaultType}:{level ?? DefaultLevel}",
            labelsDisabled || level is null ? null : FileContextPrefix + level);
    }

    /// <summary>
    /// docker: "unconfined" only means something where AppArmor runs (elsewhere there is nothing to
    /// leave); privileged containers are unconfined; others get docker-default when it is loaded.
    /// </summary>
    private static string? AppArmorProfile(string? requested, bool privileged, SecurityModules modules)
    {
        if (requested == "unconfined" || (requested is null && privileged))
            return modules.AppArmorEnabled ? "unconfined" : null;
        if (requested is not null)
            return requested;
        return modules.AppArmorProfileLoaded(DockerDefaultProfile) ? DockerDefaultProfile : null;
    }

    /// <summary>The value of "NAME=VALUE" or docker's older "NAME:VALUE", else null.</summary>
    private static string? Value(string option, string name)
        => option.Length > name.Length && option.StartsWith(name, StringComparison.Ordinal) && option[name.Length] is '=' or ':'
            ? option[(name.Length + 1)..] : null;
}
