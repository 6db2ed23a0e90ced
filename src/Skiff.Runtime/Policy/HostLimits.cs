using Skiff.Interop;
using Skiff.Oci;
using static Skiff.Interop.Interop;

namespace Skiff.Runtime.Policy;

/// <summary>
/// What this host lets the runtime grant. Without CAP_SYS_RESOURCE (as on the machines Skiff is
/// tested on) no hard rlimit can be raised; asking anyway must fail before anything is created, with
/// a message that names the limit and the allowed maximum.
/// </summary>
public static class HostLimits
{
    public static unsafe int CheckRlimit(POSIXRlimit limit)
    {
        if (!Rlimits.TryGetResource(limit.Type, out var resource))
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.rlimits: unknown type \"{limit.Type}\"");
        if (limit.Soft > limit.Hard)
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.rlimits: {limit.Type} soft limit {limit.Soft} is above its hard limit {limit.Hard}");
        if (ProcessCapabilities.Has(LinuxNames.CAP_SYS_RESOURCE))
            return resource;
        Libc.RLimit current;
        if (Libc.GetRlimit(resource, &current) == 0 && limit.Hard > current.Maximum)
            throw new RuntimeException(ErrorKind.PermissionDenied, $"cannot set {limit.Type} to {limit.Soft}:{limit.Hard}: the allowed maximum here is {current.Maximum} (CAP_SYS_RESOURCE is missing); lower process.rlimits");
        return resource;
    }

    /// <summary>
    /// Only the range: without CAP_SYS_RESOURCE the kernel lets a process lower its score down to its
    /// oom_score_adj_min, which /proc does not show, so skiff-init writes the value and reports the
    /// kernel's refusal (containerd asks for its own score from a shim one above it).
    /// </summary>
    public static void CheckOomScoreAdj(int value)
    {
        if (value is < -1000 or > 1000)
            throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.oomScoreAdj {value} is outside -1000..1000");
    }
}
