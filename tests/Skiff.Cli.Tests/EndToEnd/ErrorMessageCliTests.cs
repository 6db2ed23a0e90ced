using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Skiff.Images.Tests.Registry;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// Failures of the system under the engine (a store the user may not write, a missing file, a full disk) reach the
/// user as one lower-case sentence naming what they asked about, never a .NET sentence about a temporary file or a
/// resource key, with docker's exit status for an error of a command other than run (1).
/// </summary>
public sealed class ErrorMessageCliTests : IDisposable
{
    private const int CommandFailure = 1;
    private const int Nobody = 65534;
    private readonly TempDir _temp = new();

    private string Root => Path.Combine(_temp.Path, "root");

    public void Dispose() => _temp.Dispose();

    /// <summary>A root filesystem tarball of <paramref name="bytes"/> random (so incompressible) bytes, readable by anyone.</summary>
    private string Tarball(int bytes)
    {
        string rootfs = Path.Combine(_temp.Path, "rootfs");
        Directory.CreateDirectory(rootfs);
        File.WriteAllBytes(Path.Combine(rootfs, "data"), RandomNumberGenerator.GetBytes(bytes));
        string tarball = Path.Combine(_temp.Path, "rootfs.tar");
        using (var tar = Process.Start("tar", ["-C", rootfs, "-cf", tarball, "."])!)
            tar.WaitForExit();
        File.SetUnixFileMode(tarball, (UnixFileMode)0x1a4 /* 0644 */);
        return tarball;
    }

    private static void AssertOneSentence(Skiff.Result result, params string[] naming)
    {
        Assert.True(result.ExitCode == CommandFailure, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Matches(@"^skiff: [a-z][^\n]*\n$", result.Stderr);
        foreach (var name in naming)
            Assert.Contains(name, result.Stderr);
        // .NET's resource keys, as NativeAOT prints them with UseSystemResourceKeys: IO_FileNotFound_FileName, UnauthorizedAccess_IODenied_Path.
        Assert.DoesNotMatch(new Regex(@"\b[A-Z][A-Za-z]*_[A-Z][A-Za-z]*"), result.Stderr);
    }

    [Fact]
    public async Task A_missing_file_to_load_or_import_is_named()
    {
        AssertOneSentence(await Skiff.RunAsync(Root, "load", "-i", "/nonexistent/images.tar"), "/nonexistent/images.tar", "no such file");
        AssertOneSentence(await Skiff.RunAsync(Root, "import", "/nonexistent/rootfs.tar", "local/x:1"), "/nonexistent/rootfs.tar", "no such file");
    }

    [Fact]
    public async Task A_root_that_is_a_file_is_named()
    {
        string file = Path.Combine(_temp.Path, "file");
        File.WriteAllText(file, "");
        AssertOneSentence(await Skiff.RunAsync(file, "images"), file);
        AssertOneSentence(await Skiff.RunAsync(Path.Combine(file, "below"), "images"), Path.Combine(file, "below"));
    }

    [Fact]
    public async Task A_store_the_user_may_not_write_names_the_archive_and_the_store()
    {
        string tarball = Tarball(4096);
        Assert.Equal(0, (await Skiff.RunAsync(Root, "import", tarball, "local/first:1")).ExitCode);
        string archive = Path.Combine(_temp.Path, "saved.tar");
        Assert.Equal(0, (await Skiff.RunAsync(Root, "save", "-o", archive, "local/first:1")).ExitCode);
        File.SetUnixFileMode(archive, (UnixFileMode)0x1a4 /* 0644 */);
        // The store is the user's, but not where new content is written first.
        File.SetUnixFileMode(_temp.Path, (UnixFileMode)0x1ed /* 0755 */);
        foreach (var path in new[] { Root, Skiff.RunRootOf(Root) }.Where(Path.Exists))
            Assert.Equal(0, Process.Start("chown", ["-R", $"{Nobody}:{Nobody}", path])!.WaitForExitCode());
        File.SetUnixFileMode(Path.Combine(Root, "content", "ingest"), (UnixFileMode)0x140 /* 0500 */);

        AssertOneSentence(await Skiff.RunAsUserAsync(Root, Nobody, "import", tarball, "local/second:1"), tarball, Root, "permission denied");
        AssertOneSentence(await Skiff.RunAsUserAsync(Root, Nobody, "load", "-i", archive), archive, Root, "permission denied");
        using var registry = new FakeRegistry();
        CliTests.Serve(registry, "test/small:1", TestImage.Create(layers: 1, randomBytes: 4096));
        string reference = $"{registry.Host}/test/small:1";
        AssertOneSentence(await Skiff.RunAsUserAsync(Root, Nobody, "pull", "-q", "--tls-verify=false", reference), reference, Root, "permission denied");
    }

    [Fact]
    public async Task A_full_disk_names_the_archive_and_the_store()
    {
        string tarball = Tarball(2 * 1024 * 1024);
        Assert.Equal(0, (await Skiff.RunAsync(Root, "import", tarball, "local/big:1")).ExitCode);
        string archive = Path.Combine(_temp.Path, "saved.tar");
        Assert.Equal(0, (await Skiff.RunAsync(Root, "save", "-o", archive, "local/big:1")).ExitCode);
        // Room for the store's database, not for the layer.
        string small = Path.Combine(_temp.Path, "small");
        Directory.CreateDirectory(small);
        CliTests.Mount("tmpfs", small, "size=512k");
        try
        {
            AssertOneSentence(await Skiff.RunAsync(small, "import", tarball, "local/big:1"), tarball, small, "no space left on device");
            AssertOneSentence(await Skiff.RunAsync(small, "load", "-i", archive), archive, small, "no space left on device");
        }
        finally
        {
            Assert.Equal(0, Process.Start("umount", small)!.WaitForExitCode());
        }
    }
}
