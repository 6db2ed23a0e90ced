using Skiff.Cgroups;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime.Launch;
using Skiff.Runtime.Plan;
using Skiff.Runtime.State;

namespace Skiff.Runtime;

public sealed record ExecOptions
{
    public required Process Process { get; init; }
    public string? ConsoleSocket { get; init; }
    public string? PidFile { get; init; }
    public int PreserveFds { get; init; }
}

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// exec: starts a process inside a created or running container (its namespaces and cgroups)
    /// and returns its pidfd once execve succeeded; the process is our child.
    /// </summary>
    public FileDescriptor Exec(string id, ExecOptions options)
    {
        var status = StatusOf(id, out var record);
        if (status is not (ContainerStatus.Running or ContainerStatus.Created))
            throw new RuntimeException(ErrorKind.FailedPrecondition, $"cannot exec in container \"{id}\": it is {status.ToSpecString()}");
        var spec = Store.LoadSpec(id);
        var process = options.Process;
        if (process.Args is not { Count: > 0 })
            throw new RuntimeException(ErrorKind.InvalidArgument, "exec: no command given: pass the program after the container id or in --process");
        if (string.IsNullOrEmpty(process.Cwd))
            process.Cwd = "/";
        var cgroups = record.Cgroups is null ? null : CgroupManagers.FromPaths(record.Cgroups);
        FileDescriptor? console = options.ConsoleSocket is null ? null : ConnectConsole(options.ConsoleSocket);
        Stage0? stage0 = null;
        try
        {
            var layout = new FdLayout(options.PreserveFds, null, console);
            var launch = new LaunchOptions
            {
                Bundle = record.Bundle,
                PreserveFds = options.PreserveFds,
                Cgroups = cgroups,
                SeccompCache = new SeccompCache(Store.SeccompCacheDirectory),
            };
            var plan = PlanCompiler.CompileExec(spec, process, record.Pid, launch, new FdLayoutNumbers(layout.Sync, -1, layout.Console));
            stage0 = Stage0.Start(plan, layout);
            stage0.RunProtocol(waitForReady: false, onHooks: null, SeccompListenerForwarder(record, spec, ContainerStatus.Running));
            if (options.PidFile is not null)
                WritePidFile(options.PidFile, stage0.ChildPid);
            return stage0.TakeChildPidfd();
        }
        catch
        {
            stage0?.Abort();
            throw;
        }
        finally
        {
            stage0?.Dispose();
            console?.Dispose();
        }
    }
}
