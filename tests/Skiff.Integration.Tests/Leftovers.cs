using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>Checks that a failed command left nothing behind: state, cgroups, processes, mounts.</summary>
public static class Leftovers
{
    /// <summary>
    /// Processes in the container's cgroup (skiff-init joins it before cloning the container
    /// process, so every process of the container is born there). Host-wide counts would see
    /// containers of tests running elsewhere on the machine.
    /// </summary>
    public static List<int> ProcessesOf(string id)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cgroup")).Contains($"/skiff-test/{id}\n"))
                    found.Add(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>Every cgroup directory named after the container, in every hierarchy.</summary>
    public static List<string> CgroupDirs(string id)
    {
        var found = new List<string>();
        foreach (var hierarchy in Directory.EnumerateDirectories("/sys/fs/cgroup"))
        {
            var candidate = Path.Combine(hierarchy, "skiff-test", id);
            if (Directory.Exists(candidate))
                found.Add(candidate);
        }
        var top = Path.Combine("/sys/fs/cgroup", "skiff-test", id);
        if (Directory.Exists(top))
            found.Add(top);
        return found;
    }

    public static void AssertNone(TestBundle bundle, string id)
    {
        Assert.False(Directory.Exists(Path.Combine(bundle.StateRoot, id)), $"state directory of {id} left behind");
        Assert.Empty(CgroupDirs(id));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(bundle.Directory));
        Assert.Empty(ProcessesOf(id));
    }

    /// <summary>`create` of whatever config.json is in the bundle, stdio on files (see TestBundle.Create).</summary>
    public static RunResult CreateAsIs(this TestBundle bundle, string id, params string[] extraArgs)
        => bundle.RuntimeOnFiles(["create", "--bundle", bundle.Directory, .. extraArgs, id], $"create-{Guid.NewGuid():N}");

    /// <summary><paramref name="result"/> (a create of <paramref name="id"/>) failed with one line containing every <paramref name="expected"/> and left nothing.</summary>
    public static void AssertFailedCleanly(this TestBundle bundle, string id, RunResult result, params string[] expected)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        var line = SingleLine(result.Stderr);
        foreach (var text in expected)
            Assert.Contains(text, line);
        AssertNone(bundle, id);
    }

    public static void Chmod(string mode, string path)
        => Assert.Equal(0, ProcessRunner.Run("/bin/chmod", [mode, path], null, "/").ExitCode);

    /// <summary>The one-line error the runtime printed: exactly one non-empty line.</summary>
    public static string SingleLine(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{stderr}");
        return lines[0];
    }
}
