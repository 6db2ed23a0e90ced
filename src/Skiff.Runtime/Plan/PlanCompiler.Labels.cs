using Skiff.Interop;
using Skiff.Oci;

namespace Skiff.Runtime.Plan;

public static partial class PlanCompiler
{
    /// <summary>
    /// The labels the container's program is executed with (OP_EXEC_LABEL), as runc applies them:
    /// AppArmor through change_onexec ("exec PROFILE" to the module's own attr/apparmor/exec, or the
    /// shared attr/exec of kernels before 5.8), SELinux through setexeccon (the label to attr/exec).
    /// A profile asked of a module this host does not run is an error: starting unconfined instead
    /// would silently weaken what the config asked for.
    /// </summary>
    private static void AddExecLabels(PlanWriter plan, Process process, SecurityModules modules, string source)
    {
        if (!string.IsNullOrEmpty(process.ApparmorProfile))
        {
            if (!modules.AppArmorEnabled)
                throw new RuntimeException(ErrorKind.FailedPrecondition, $"{source}: process.apparmorProfile \"{process.ApparmorProfile}\" requested but AppArmor is not enabled on this host");
            plan.Add(PlanOp.ExecLabel, "apparmor/exec", "exec", "exec " + process.ApparmorProfile);
        }
        if (!string.IsNullOrEmpty(process.SelinuxLabel))
        {
            if (!modules.SelinuxEnabled)
                throw new RuntimeException(ErrorKind.FailedPrecondition, $"{source}: process.selinuxLabel \"{process.SelinuxLabel}\" requested but SELinux is not enabled on this host");
            plan.Add(PlanOp.ExecLabel, "exec", "", process.SelinuxLabel);
        }
    }

    /// <summary>linux.mountLabel, or null when there is none; an error when SELinux cannot apply it.</summary>
    private static string? MountLabel(Linux linux, SecurityModules modules)
    {
        if (string.IsNullOrEmpty(linux.MountLabel))
            return null;
        if (!modules.SelinuxEnabled)
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"config.json: linux.mountLabel \"{linux.MountLabel}\" requested but SELinux is not enabled on this host");
        return linux.MountLabel;
    }

    /// <summary>
    /// Filesystem data with the SELinux context option appended (go-selinux label.FormatMountLabel),
    /// for the mounts runc labels this way: every new filesystem except proc and sysfs (which keep
    /// the kernel's labels) and mqueue (labelled after mounting, see <see cref="PlanOp.FileLabel"/>).
    /// </summary>
    internal static string WithMountLabel(string data, string? mountLabel)
    {
        if (mountLabel is null)
            return data;
        var context = $"context=\"{mountLabel}\"";
        return data.Length == 0 ? context : data + "," + context;
    }
}
