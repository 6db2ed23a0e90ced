using Skiff.Oci;

namespace Skiff.Runtime.Policy;

/// <summary>
/// The device cgroup rules a container actually gets, as runc computes them: the config's
/// linux.resources.devices in order, then the devices every container may use (runc's
/// AllowedDevices), then one allow rule per linux.devices entry. Without the tail a config that
/// denies everything (runc spec's default, the OCI validation suite's) leaves the container unable
/// to open /dev/null or to mknod the devices its own config lists.
/// </summary>
public static class DeviceRules
{
    private static readonly (string Type, long? Major, long? Minor, string Access)[] Allowed =
    [
        ("c", null, null, "m"),   // mknod of any char device (opening still needs a rule)
        ("b", null, null, "m"),   // mknod of any block device
        ("c", 1, 3, "rwm"),       // /dev/null
        ("c", 1, 8, "rwm"),       // /dev/random
        ("c", 1, 7, "rwm"),       // /dev/full
        ("c", 5, 0, "rwm"),       // /dev/tty
        ("c", 1, 5, "rwm"),       // /dev/zero
        ("c", 1, 9, "rwm"),       // /dev/urandom
        ("c", 136, null, "rwm"),  // /dev/pts/*
        ("c", 5, 2, "rwm"),       // /dev/ptmx
        ("c", 10, 200, "rwm"),    // /dev/net/tun
    ];

    public static List<LinuxDeviceCgroup> Effective(Linux? linux)
    {
        var rules = new List<LinuxDeviceCgroup>(linux?.Resources?.Devices ?? []);
        foreach (var (type, major, minor, access) in Allowed)
            rules.Add(new LinuxDeviceCgroup { Allow = true, Type = type, Major = major, Minor = minor, Access = access });
        foreach (var device in linux?.Devices ?? [])
        {
            var type = device.Type switch { "c" or "u" => "c", "b" => "b", _ => null };
            if (type is not null) // fifos are not device-controlled
                rules.Add(new LinuxDeviceCgroup { Allow = true, Type = type, Major = device.Major, Minor = device.Minor, Access = "rwm" });
        }
        return rules;
    }
}
