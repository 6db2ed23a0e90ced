using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime.Policy;
using Skiff.Seccomp;
using static Skiff.Oci.LinuxNames;

namespace Skiff.Runtime.Plan;

public static partial class PlanCompiler
{
    private const uint DefaultUmask = 0x12; // 0022, what runc applies when process.user.umask is absent

    private static void AddProcess(PlanWriter plan, Process process, Linux linux, bool isExec, LaunchOptions options)
    {
        if (process.Args is not { Count: > 0 })
            throw new RuntimeException(ErrorKind.InvalidArgument, "config.json: process.args must name the program to run");
        foreach (var limit in process.Rlimits ?? [])
        {
            var resource = HostLimits.CheckRlimit(limit);
            plan.Add(PlanOp.Rlimit, [(ulong)resource, limit.Soft, limit.Hard]);
        }
        if (process.OOMScoreAdj is int oomScoreAdj)
        {
            HostLimits.CheckOomScoreAdj(oomScoreAdj);
            plan.Add(PlanOp.OomScoreAdj, unchecked((ulong)(long)oomScoreAdj));
        }
        if (process.IOPriority is { } ioPriority)
            plan.Add(PlanOp.IoPriority, [IoPriorityClass(ioPriority.Class), (ulong)ioPriority.Priority]);
        if (process.Scheduler is { } scheduler)
            AddScheduler(plan, scheduler);
        if (!isExec && linux.Personality is { } personality)
            plan.Add(PlanOp.Personality, personality.Domain switch
            {
                "LINUX" => 0x0000UL,
                "LINUX32" => 0x0008UL,
                _ => throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: linux.personality.domain: unknown value \"{personality.Domain}\" (expected LINUX or LINUX32)"),
            });
        if (!string.IsNullOrEmpty(process.Cwd))
            plan.Add(PlanOp.Cwd, RequireAbsolute(process.Cwd, "process.cwd"));

        var user = process.User;
        var ids = new List<ulong> { user.UID, user.GID, user.Umask ?? DefaultUmask };
        foreach (var gid in user.AdditionalGids ?? [])
            ids.Add(gid);
        plan.Add(PlanOp.User, ids.ToArray());
        if (process.Capabilities is { } caps)
        {
            ulong permitted = Mask(caps.Permitted, "permitted"), inheritable = Mask(caps.Inheritable, "inheritable");
            // The kernel raises an ambient capability only if it is both permitted and inheritable.
            // runc skips the others silently, and `runc spec` itself lists ambient capabilities
            // without inheritable ones, so asking for more is not an error.
            ulong ambient = Mask(caps.Ambient, "ambient") & permitted & inheritable;
            plan.Add(PlanOp.Capabilities, [Mask(caps.Bounding, "bounding"), Mask(caps.Effective, "effective"),
                permitted, inheritable, ambient]);
        }
        if (process.NoNewPrivileges)
            plan.Add(PlanOp.NoNewPrivileges);
        if (linux.Seccomp is not null)
        {
            SeccompProgram program;
            try
            {
                program = options.SeccompCache?.GetOrCompile(linux.Seccomp) ?? SeccompCompiler.Compile(linux.Seccomp);
            }
            catch (SeccompException e)
            {
                throw new RuntimeException(e.Kind, $"config.json: {e.Message}", e);
            }
            plan.Add(PlanOp.Seccomp, [program.Flags, .. program.Instructions]);
        }
        AddExecLabels(plan, process, options.SecurityModules, isExec ? "exec" : "config.json");
        plan.Add(PlanOp.Env, (process.Env ?? []).ToArray());
        plan.Add(PlanOp.Args, process.Args.ToArray());
    }

    private static ulong Mask(List<string>? names, string set)
    {
        ulong mask = 0;
        foreach (var name in names ?? [])
        {
            if (!Oci.Capabilities.TryGetNumber(name, out var bit))
                throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.capabilities.{set}: unknown capability \"{name}\"");
            // Capabilities newer than the running kernel are dropped silently, as runc does: the
            // kernel cannot grant them anyway and a config written for a newer kernel must still run.
            if (bit <= ProcessCapabilities.LastCapability)
                mask |= 1UL << bit;
        }
        return mask;
    }

    private static void AddContainerHook(PlanWriter plan, Hook hook, byte[] state)
    {
        var args = hook.Args is { Count: > 0 } a ? a : [hook.Path];
        var env = hook.Env ?? [];
        var strings = new List<string> { hook.Path, System.Text.Encoding.UTF8.GetString(state) };
        strings.AddRange(args);
        strings.AddRange(env);
        plan.Add(PlanOp.Hook, [(ulong)(hook.Timeout ?? 0), (ulong)args.Count, (ulong)env.Count], strings.ToArray());
    }

    private static ulong IoPriorityClass(string name) => name switch
    {
        "IOPRIO_CLASS_RT" => 1,
        "IOPRIO_CLASS_BE" => 2,
        "IOPRIO_CLASS_IDLE" => 3,
        _ => throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.ioPriority.class: unknown value \"{name}\""),
    };

    private static void AddScheduler(PlanWriter plan, Scheduler scheduler)
    {
        ulong policy = scheduler.Policy switch
        {
            "SCHED_OTHER" => 0, "SCHED_FIFO" => 1, "SCHED_RR" => 2, "SCHED_BATCH" => 3,
            "SCHED_ISO" => 4, "SCHED_IDLE" => 5, "SCHED_DEADLINE" => 6,
            _ => throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.scheduler.policy: unknown value \"{scheduler.Policy}\""),
        };
        ulong flags = 0;
        foreach (var flag in scheduler.Flags ?? [])
            flags |= flag switch
            {
                "SCHED_FLAG_RESET_ON_FORK" => 0x01UL, "SCHED_FLAG_RECLAIM" => 0x02UL, "SCHED_FLAG_DL_OVERRUN" => 0x04UL,
                "SCHED_FLAG_KEEP_POLICY" => 0x08UL, "SCHED_FLAG_KEEP_PARAMS" => 0x10UL,
                "SCHED_FLAG_UTIL_CLAMP_MIN" => 0x20UL, "SCHED_FLAG_UTIL_CLAMP_MAX" => 0x40UL,
                _ => throw new RuntimeException(ErrorKind.InvalidArgument, $"config.json: process.scheduler.flags: unknown flag \"{flag}\""),
            };
        plan.Add(PlanOp.Scheduler, [policy, (ulong)scheduler.Priority, unchecked((ulong)(long)scheduler.Nice), flags,
            scheduler.Runtime, scheduler.Deadline, scheduler.Period]);
    }
}
