using Skiff.Oci;

namespace Skiff.Runtime.Policy;

/// <summary>
/// The device cgroup rules every container gets after linux.resources.devices (runc's
/// specconv.AllowedDevices): mknod of any node, the default devices of a private /dev, the
/// container's own ptys, and tun. Without them the default spec's "deny all" leaves the
/// container unable to open its own /dev/null.
/// </summary>
public static class DefaultDeviceRules
{
    private static readonly (string Type, long? Major, long? Minor, string Access)[] Rules =
    [
        ("c", null, null, "m"), ("b", null, null, "m"),
        ("c", 1, 3, "rwm"), ("c", 1, 8, "rwm"), ("c", 1, 7, "rwm"), ("c", 5, 0, "rwm"), ("c", 1, 5, "rwm"), ("c", 1, 9, "rwm"),
        ("c", 136, null, "rwm"), ("c", 5, 2, "rwm"),
        ("c", 10, 200, "rwm"),
    ];

    /// <summary>The resources to apply at create: the spec's device rules followed by the defaults (the spec itself is not changed).</summary>
    public static LinuxResources? WithDefaults(LinuxResources? resources)
    {
        if (resources?.Devices is not { Count: > 0 } devices)
            return resources; // no device rules: the cgroup keeps allowing everything, as before
        var copy = OciJson.ParseResources(System.Text.Json.JsonSerializer.Serialize(resources, OciJsonContext.Default.LinuxResources));
        copy.Devices = [.. devices, .. Rules.Select(r => new LinuxDeviceCgroup { Allow = true, Type = r.Type, Major = r.Major, Minor = r.Minor, Access = r.Access })];
        return copy;
    }
}
