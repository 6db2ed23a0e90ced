using System.Text.Json;

namespace Skiff.Integration.Tests;

/// <summary>Shared steps of the namespace, rootfs and mount tests.</summary>
internal static class ContainerHelpers
{
    /// <summary>Runs a shell script in the container and asserts it exited 0; returns its stdout.</summary>
    public static string Sh(this TestBundle bundle, string script)
    {
        var result = bundle.Run("sh", "-c", script);
        Assert.True(result.ExitCode == 0, $"script failed: {script}\n{result}");
        return result.Stdout;
    }

    /// <summary>Creates a container that sleeps (stopped at the exec fifo: every mount is in place) and returns its host pid.</summary>
    public static int CreateSleeping(this TestBundle bundle, string id, params string[] extraArgs)
    {
        bundle.Spec.Process!.Args = ["sleep", "100"];
        var pidFile = Path.Combine(bundle.Directory, $"{id}.pid");
        var create = bundle.Create(id, ["--pid-file", pidFile, .. extraArgs]);
        Assert.True(create.ExitCode == 0, create.ToString());
        return int.Parse(File.ReadAllText(pidFile));
    }

    /// <summary>create + start with the given extra create args; waits for the container to stop and returns its stdout/stderr files.</summary>
    public static (string Stdout, string Stderr) CreateStartWait(this TestBundle bundle, string id, string[] command, params string[] extraArgs)
    {
        bundle.Spec.Process!.Args = [.. command];
        var create = bundle.Create(id, extraArgs);
        Assert.True(create.ExitCode == 0, create.ToString());
        var start = bundle.Runtime("start", id);
        Assert.True(start.ExitCode == 0, start.ToString());
        LifecycleTests.WaitFor(() => bundle.Status(id) == "stopped");
        return (File.ReadAllText(Path.Combine(bundle.Directory, $"{id}.out")), File.ReadAllText(Path.Combine(bundle.Directory, $"{id}.err")));
    }

    /// <summary>Runs a host command and asserts success.</summary>
    public static string Host(string program, params string[] args)
    {
        var result = ProcessRunner.Run(program, args, null, "/");
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: {result}");
        return result.Stdout;
    }

    /// <summary>Host command whose failure is ignored (cleanup).</summary>
    public static void HostQuiet(string program, params string[] args)
    {
        try
        {
            ProcessRunner.Run(program, args, null, "/");
        }
        catch (Exception)
        {
            // cleanup must not hide the real failure
        }
    }

    /// <summary>The mountinfo lines whose mount point (field 5) is exactly <paramref name="mountPoint"/>.</summary>
    public static string[] MountInfoLines(string mountinfo, string mountPoint)
        => mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Split(' ')[4] == mountPoint).ToArray();

    /// <summary>The /proc/mounts line (last one wins: the top mount) for a mount point.</summary>
    public static string ProcMountsLine(string mounts, string mountPoint)
    {
        var line = mounts.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.Split(' ')[1] == mountPoint);
        Assert.True(line is not null, $"no mount on {mountPoint} in:\n{mounts}");
        return line!;
    }

    /// <summary>
    /// Compiles a C program statically into the bundle's rootfs as /bin/NAME, for syscalls busybox has no
    /// applet for (gcc and libc6-dev are build packages, so every machine that builds skiff has them).
    /// </summary>
    public static void CompileIntoRootfs(this TestBundle bundle, string name, string source)
    {
        var sourceFile = Path.Combine(bundle.Directory, name + ".c");
        File.WriteAllText(sourceFile, source);
        Host("/usr/bin/gcc", "-static", "-O1", "-o", Path.Combine(bundle.Rootfs, "bin", name), sourceFile);
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
