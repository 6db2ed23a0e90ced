using System.Diagnostics;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>Runs the published bin/skiff (built by `make build`) against a store root of the test's own.</summary>
internal static class Skiff
{
    public static string Binary { get; } = Path.Combine(FindRepositoryRoot(), "bin", "skiff");

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static Task<Result> RunAsync(string root, params string[] args) => RunAsync(root, null, null, args);

    /// <summary>
    /// The --runroot every command here gets: beside the test's store, so that each test's runtime state is its own
    /// and goes with its temp directory (the derived default is under /run/skiff, shared by every test).
    /// </summary>
    public static string RunRootOf(string root) => Path.TrimEndingDirectorySeparator(root) + ".run";

    /// <summary>Runs skiff without --runroot, so that it derives the run root from the store as a user's skiff does.</summary>
    public static Task<Result> RunWithDerivedRunRootAsync(string root, params string[] args)
        => RunAsync(root, null, null, args, derivedRunRoot: true);

    public static Task<Result> RunWithInputAsync(string root, string input, params string[] args) => RunAsync(root, input, null, args);

    public static Task<Result> RunWithEnvironmentAsync(string root, Dictionary<string, string> environment, params string[] args)
        => RunAsync(root, null, environment, args);

    /// <summary>Runs skiff as the unprivileged user and group <paramref name="id"/> (no supplementary groups, no capabilities).</summary>
    public static Task<Result> RunAsUserAsync(string root, int id, params string[] args)
        => RunAsync(root, null, null, args, wrapper: ["setpriv", $"--reuid={id}", $"--regid={id}", "--clear-groups"]);

    /// <summary>Runs skiff under GNU time: its result and its peak resident set in KiB (wait4's ru_maxrss).</summary>
    public static async Task<(Result Result, long PeakKiB)> RunMeasuredAsync(string root, params string[] args)
    {
        string report = Path.GetTempFileName();
        try
        {
            var result = await RunAsync(root, null, null, args, wrapper: ["/usr/bin/time", "--format", "%M", "--output", report]);
            return (result, long.Parse(File.ReadAllText(report).Trim().Split('\n')[^1]));
        }
        finally
        {
            File.Delete(report);
        }
    }

    private static async Task<Result> RunAsync(string root, string? input, Dictionary<string, string>? environment, string[] args,
        bool derivedRunRoot = false, string[]? wrapper = null)
    {
        using var process = Start(root, environment, args, derivedRunRoot, wrapper);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
            await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var clock = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"skiff {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }

    /// <summary>Starts skiff with its output redirected (so not a terminal: plain progress lines); the caller waits or kills.</summary>
    public static Process Start(string root, params string[] args) => Start(root, null, args);

    private static Process Start(string root, Dictionary<string, string>? environment, string[] args, bool derivedRunRoot = false, string[]? wrapper = null)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: run `make build` first");
        var start = new ProcessStartInfo(wrapper?[0] ?? Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in wrapper?.Skip(1).Append(Binary) ?? [])
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--root");
        start.ArgumentList.Add(root);
        if (!derivedRunRoot)
        {
            start.ArgumentList.Add("--runroot");
            start.ArgumentList.Add(RunRootOf(root));
        }
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        // No registries.conf of the machine, no credentials of the user: only what the test sets up.
        start.Environment["SKIFF_REGISTRIES_CONF"] = "/nonexistent/registries.conf";
        start.Environment["DOCKER_CONFIG"] = "/nonexistent";
        start.Environment["REGISTRY_AUTH_FILE"] = "/nonexistent/auth.json";
        // Nor the engine's configuration, whose CNI directory would offer the machine's CNI networks (podman's) to every test.
        start.Environment["SKIFF_CONFIG"] = EngineConfig.Value;
        foreach (var (key, value) in environment ?? [])
            start.Environment[key] = value;
        return Process.Start(start)!;
    }

    /// <summary>An engine configuration with defaults but for a CNI configuration directory that does not exist.</summary>
    private static readonly Lazy<string> EngineConfig = new(() =>
    {
        var file = Path.Combine(AppContext.BaseDirectory, "skiff-test-engine.json");
        File.WriteAllText(file, """{ "cni-config-dir": "/nonexistent/cni/net.d" }""");
        return file;
    });

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Skiff.slnx")))
                return directory.FullName;
        }
        throw new InvalidOperationException("the repository root (with Skiff.slnx) is not above the test binaries");
    }
}
