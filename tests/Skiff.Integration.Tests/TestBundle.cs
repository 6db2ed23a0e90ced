using System.Diagnostics;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>
/// A throw-away OCI bundle with a busybox-static rootfs and its own runtime state root, so tests
/// never see each other's containers. Dispose force-deletes every container the test left
/// (which removes their processes and cgroups) and the directories.
/// </summary>
public sealed class TestBundle : IDisposable
{
    private static readonly Lazy<string[]> Applets = new(ListApplets);

    public TestBundle()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("skiff-it-").FullName;
        Rootfs = Path.Combine(Directory, "rootfs");
        StateRoot = Path.Combine(Directory, "state");
        foreach (var dir in new[] { "bin", "proc", "sys", "dev", "etc", "tmp", "root" })
            System.IO.Directory.CreateDirectory(Path.Combine(Rootfs, dir));
        File.Copy(Repo.Busybox, Path.Combine(Rootfs, "bin", "busybox"));
        foreach (var applet in Applets.Value)
            if (applet != "busybox")
                File.CreateSymbolicLink(Path.Combine(Rootfs, "bin", applet), "busybox");
        File.WriteAllText(Path.Combine(Rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
        File.WriteAllText(Path.Combine(Rootfs, "etc", "group"), "root:x:0:\nnobody:x:65534:\n");
        Spec = DefaultSpec.Default();
        Spec.Process!.Terminal = false;
        Spec.Process.Args = ["true"];
    }

    public string Directory { get; }
    public string Rootfs { get; }
    public string StateRoot { get; }
    public Spec Spec { get; }

    /// <summary>A unique id per call: tests may run in parallel across classes.</summary>
    public string NewId(string prefix = "c") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 40)];

    /// <summary>Writes config.json; the container gets its own cgroup under /skiff-test so leftovers are easy to spot.</summary>
    public void WriteConfig(string id)
    {
        Spec.Linux!.CgroupsPath = $"/skiff-test/{id}";
        OciJson.WriteSpec(Path.Combine(Directory, "config.json"), Spec);
    }

    public RunResult Runtime(params string[] args) => RuntimeWith(null, args);

    public RunResult RuntimeWith(string? stdin, params string[] args)
        => ProcessRunner.Run(Repo.Runtime, ["--root", StateRoot, .. args], stdin, Directory);

    /// <summary>
    /// `create` with its stdio on files, as the runtime-tools suite and podman's conmon do: the
    /// container inherits the runtime's stdio, so a pipe would stay open as long as the container.
    /// Returns the exit code; stdout/stderr of the runtime (and later the container) are in the files.
    /// </summary>
    public RunResult Create(string id, params string[] extraArgs)
    {
        WriteConfig(id);
        return RuntimeOnFiles(["create", "--bundle", Directory, .. extraArgs, id], id);
    }

    /// <summary>The runtime with <paramref name="args"/> (after --root) and its stdio on NAME.out and NAME.err in
    /// the bundle, for commands whose container inherits it (create); <paramref name="environment"/> is added to ours.</summary>
    public RunResult RuntimeOnFiles(string[] args, string name, Dictionary<string, string>? environment = null)
    {
        var output = Path.Combine(Directory, $"{name}.out");
        var errors = Path.Combine(Directory, $"{name}.err");
        var variables = new Dictionary<string, string>(environment ?? []) { ["OUT"] = output, ["ERR"] = errors };
        var result = ProcessRunner.Run("/bin/sh",
            ["-c", "exec \"$0\" \"$@\" >\"$OUT\" 2>\"$ERR\" </dev/null", Repo.Runtime, "--root", StateRoot, .. args],
            null, Directory, environment: variables);
        return result with { Stdout = File.ReadAllText(output), Stderr = File.ReadAllText(errors) };
    }

    /// <summary>run --bundle with the current spec, returning stdout/stderr/exit code.</summary>
    public RunResult Run(params string[] command)
    {
        var id = NewId("run");
        Spec.Process!.Args = [.. command];
        WriteConfig(id);
        return Runtime("run", "--bundle", Directory, id);
    }

    /// <summary>The OCI status from `state`, which must succeed.</summary>
    public string Status(string id)
    {
        var state = Runtime("state", id);
        Assert.True(state.ExitCode == 0, state.ToString());
        return System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("status").GetString()!;
    }

    /// <summary>The container's processes from `ps --format json`.</summary>
    public List<int> Pids(string id)
        => System.Text.Json.JsonDocument.Parse(Runtime("ps", "--format", "json", id).Stdout).RootElement.EnumerateArray().Select(p => p.GetInt32()).ToList();

    /// <summary>True once the process has exited (gone, or a zombie waiting for its parent).</summary>
    public static bool ProcessGone(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat").Contains(") Z");
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(StateRoot))
            foreach (var dir in System.IO.Directory.EnumerateDirectories(StateRoot))
                Runtime("delete", "--force", Path.GetFileName(dir));
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A mount left inside the bundle would make this fail; the assertion that matters is elsewhere.
        }
    }

    private static string[] ListApplets()
    {
        var result = ProcessRunner.Run(Repo.Busybox, ["--list"], null, "/");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}

public sealed record RunResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

public static class ProcessRunner
{
    public static RunResult Run(string program, IEnumerable<string> args, string? stdin, string workingDirectory,
        int timeoutMs = 60_000, Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? [])
            info.Environment[key] = value;
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        process.WaitForExit();
        return new RunResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Runtime => Path.Combine(Root, "bin", "skiff-runtime");

    public static string Busybox { get; } = File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Skiff.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Skiff.slnx) above the test binaries");
    }
}

/// <summary>Integration tests run real containers: they need root and the published binaries (make build).</summary>
public sealed class ContainerFactAttribute : FactAttribute
{
    public ContainerFactAttribute() => Skip = SkipReason;

    // A missing bin/skiff-runtime is a failure, not a skip: `make test` always builds first.
    internal static string? SkipReason => Environment.UserName != "root" ? "needs root" : null;
}

/// <summary>A <see cref="ContainerFactAttribute"/> with data rows.</summary>
public sealed class ContainerTheoryAttribute : TheoryAttribute
{
    public ContainerTheoryAttribute() => Skip = ContainerFactAttribute.SkipReason;
}
