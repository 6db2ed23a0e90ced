using System.Diagnostics;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// The store is its owner's only (CVE-2021-41091's class: a setuid file a container planted must not be reachable by
/// other host users), bad mount targets and volume names are refused in a sentence before anything is made, and two
/// stores keep their runtime state apart.
/// </summary>
public sealed partial class EngineCliTests
{
    /// <summary>A uid no account on the machine has: an ordinary host user with no business in the store.</summary>
    private const int Stranger = 54321;

    /// <summary>
    /// Runs a shell script as <see cref="Stranger"/>. Through a shell, because setpriv keeps its capabilities until its
    /// own execve: a path it executes directly is looked up with CAP_DAC_OVERRIDE still in effect.
    /// </summary>
    private static async Task<(int ExitCode, string Output)> AsStranger(string script, params string[] args)
    {
        string[] command = ["sh", "-c", script, .. args];
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[$"--reuid={Stranger}", $"--regid={Stranger}", "--clear-groups", "--", .. command])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task NoOtherHostUserCanReachAnythingInTheStore()
    {
        // The temp directory is 0700: open it so that only the store's own modes stand between a user and the store.
        File.SetUnixFileMode(_temp.Path, (UnixFileMode)0x1ed);
        string id = (await Ok("run", "-d", "--name", "planter", "-v", "planted:/vol", Image, "sh", "-c",
            "cp /bin/busybox /suid && chmod 4755 /suid && cp /bin/busybox /vol/suid && chmod 4755 /vol/suid && touch /vol/done; sleep 600")).Stdout.Trim();
        string volume = Path.Combine(Root, "volumes", "planted", "_data");
        for (int attempt = 0; attempt < 100 && !File.Exists(Path.Combine(volume, "done")); attempt++)
            await Task.Delay(50);
        string[] planted = [Path.Combine(Root, "rootfs", id, "suid"), Path.Combine(Root, "overlay", "snapshots", id, "upper", "suid"), Path.Combine(volume, "suid")];
        foreach (var path in planted)
        {
            Assert.True(File.Exists(path), $"{path} was not planted");
            var (code, output) = await AsStranger("exec \"$0\" id -u", path);
            Assert.True(code != 0 && output.Contains("Permission denied"), $"{path} ran for another user: exit {code}: {output}");
        }

        var everything = Directory.EnumerateFileSystemEntries(Root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToList();
        Assert.Contains(Path.Combine(Root, "metadata.db"), everything);
        var list = Path.Combine(_temp.Path, "store-paths");
        File.WriteAllLines(list, everything);
        File.SetUnixFileMode(list, (UnixFileMode)0x1a4);
        var (status, reached) = await AsStranger("while IFS= read -r p; do if [ -e \"$p\" ] || [ -L \"$p\" ]; then echo \"$p\"; fi; done < \"$0\"", list);
        Assert.Equal(0, status);
        Assert.True(reached.Length == 0, $"another user reaches {reached.Split('\n').Length - 1} of {everything.Count} store paths, e.g. {reached.Split('\n')[0]}");
    }

    [Fact]
    public async Task AStoreMadeLooserByAnOlderSkiffIsTightenedWhenNextUsed()
    {
        await Ok("run", "--rm", "-v", "data:/data", Image, "echo");
        string[] directories = [Root, .. new[] { "containers", "content", "events", "overlay", "rootfs", "volumes" }.Select(d => Path.Combine(Root, d))];
        var databases = Directory.GetFiles(Root, "*.db*");
        Assert.Contains(Path.Combine(Root, "engine.db"), databases);
        // What the umask gave every directory and database before.
        foreach (var directory in directories)
            File.SetUnixFileMode(directory, (UnixFileMode)0x1ed);
        foreach (var database in databases)
            File.SetUnixFileMode(database, (UnixFileMode)0x1a4);

        await Ok("run", "--rm", Image, "echo");

        foreach (var directory in directories)
            Assert.True(File.GetUnixFileMode(directory) == (UnixFileMode)0x1c0, $"{directory} is {File.GetUnixFileMode(directory)}, not 0700");
        foreach (var database in databases)
            Assert.True(File.GetUnixFileMode(database) == (UnixFileMode)0x180, $"{database} is {File.GetUnixFileMode(database)}, not 0600");
    }

    [Fact]
    public async Task AMountOnTheContainersRootIsRefused()
    {
        string[][] attempts =
        [
            ["-v", $"{_temp.Path}:/"], ["-v", $"{_temp.Path}://"], ["-v", "rootvol:/."], ["-v", "/"],
            ["--mount", $"type=bind,source={_temp.Path},target=/"], ["--tmpfs", "/"],
        ];
        foreach (var attempt in attempts)
        {
            var result = await Skiff.RunAsync(Root, ["run", "--rm", .. attempt, Image, "echo"]);
            Assert.Equal(125, result.ExitCode);
            Assert.Contains("cannot be \"/\"", result.Stderr);
            Assert.Single(result.Stderr.TrimEnd().Split('\n'));
        }
        Assert.Empty((await Ok("ps", "-aq")).Stdout);
        Assert.Empty((await Ok("volume", "ls", "-q")).Stdout);
    }

    [Fact]
    public async Task AVolumeNameTooLongForADirectoryIsASentence()
    {
        string name = new('v', 300);
        foreach (var args in (string[][])[["volume", "create", name], ["run", "--rm", "-v", $"{name}:/data", Image, "echo"]])
        {
            var result = await Skiff.RunAsync(Root, args);
            Assert.Equal(args[0] == "run" ? 125 : 1, result.ExitCode);
            Assert.DoesNotContain("IO_", result.Stderr);
            Assert.Contains("at most 255", result.Stderr);
        }
        Assert.Empty((await Ok("volume", "ls", "-q")).Stdout);
        Assert.Empty(Directory.Exists(Path.Combine(Root, "volumes")) ? Directory.GetFileSystemEntries(Path.Combine(Root, "volumes")) : []);
    }

    [Fact]
    public async Task FileSystemErrorsAreSentencesNotResourceKeys()
    {
        string missing = Path.Combine(_temp.Path, "no-such-dir");
        foreach (var args in (string[][])[["load", "-i", Path.Combine(missing, "image.tar")], ["save", "-o", Path.Combine(missing, "out.tar"), Image]])
        {
            var result = await Skiff.RunAsync(Root, args);
            Assert.Equal(1, result.ExitCode);
            Assert.DoesNotContain("IO_", result.Stderr);
            Assert.Contains(missing, result.Stderr);
        }
    }

    [Fact]
    public async Task EachStoreKeepsItsRuntimeStateApart()
    {
        // --runroot, as every test here passes it.
        string id = (await Ok("run", "-d", Image, "sleep", "600")).Stdout.Trim();
        Assert.True(Directory.Exists(Path.Combine(Skiff.RunRootOf(Root), "runtime", id)), "the runtime state is not under --runroot");

        // Derived, as a user's skiff does: under /run/skiff, one directory per store, never the default store's.
        string second = Path.Combine(_temp.Path, "second");
        Assert.Equal(0, (await Skiff.RunWithDerivedRunRootAsync(second, "import", "-c", "CMD [\"sh\"]", RootfsTarball, Image)).ExitCode);
        var ids = new List<(string Root, string Id)>();
        try
        {
            foreach (var root in (string[])[Root, second])
            {
                var run = await Skiff.RunWithDerivedRunRootAsync(root, "run", "-d", Image, "sleep", "600");
                Assert.True(run.ExitCode == 0, run.Stderr);
                ids.Add((root, run.Stdout.Trim()));
            }
            var runRoots = ids.Select(c => DerivedRunRootHolding(c.Id)).ToList();
            Assert.All(runRoots, d => Assert.StartsWith("/run/skiff/store-", d));
            Assert.NotEqual(runRoots[0], runRoots[1]);
        }
        finally
        {
            // Found before rm takes the state away, whatever failed above: a run root is left once its state is gone.
            var leftovers = ids.Select(c => DerivedRunRootHolding(c.Id)).OfType<string>().ToList();
            foreach (var (root, container) in ids)
                await Skiff.RunWithDerivedRunRootAsync(root, "rm", "-f", container);
            // The second store's default network keeps its bridge and rules on the host until pruned.
            await Skiff.RunWithDerivedRunRootAsync(second, "network", "prune", "-f");
            foreach (var runRoot in leftovers)
                Directory.Delete(runRoot, recursive: true);
        }
    }

    /// <summary>The /run/skiff/store-HASH whose runtime state holds <paramref name="id"/>; null when none does.</summary>
    private static string? DerivedRunRootHolding(string id)
        => Directory.GetDirectories("/run/skiff").FirstOrDefault(d => Directory.Exists(Path.Combine(d, "runtime", id)));
}
