using Skiff.Build.Execution;
using Skiff.Build.Tests.Context;

namespace Skiff.Build.Tests.Execution;

/// <summary>RUN --mount=type=bind,rw on the context: writes land in a scratch layer that goes with the step (needs root, for the overlay).</summary>
public class ScratchWritesTests
{
    [Fact]
    public void WritesToADirectoryGoToAnOverlayAndNeverReachTheContext()
    {
        using var s = new Scratch();
        s.Write("ctx/src/kept.txt", "original\n");
        string path, scratch;
        using (var writes = ScratchWrites.Over(s["store"], s["ctx/src"], isDirectory: true))
        {
            path = writes.Path;
            Assert.Equal("original\n", File.ReadAllText(Path.Combine(path, "kept.txt")));
            File.WriteAllText(Path.Combine(path, "kept.txt"), "changed\n");
            File.WriteAllText(Path.Combine(path, "new.txt"), "new\n");
            File.Delete(Path.Combine(path, "kept.txt"));
            scratch = Directory.GetDirectories(s["store/rw-mounts"]).Single();
        }
        Assert.Equal("original\n", File.ReadAllText(s["ctx/src/kept.txt"]));
        Assert.False(File.Exists(s["ctx/src/new.txt"]));
        Assert.False(Directory.Exists(scratch));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(s["store/rw-mounts"]));
    }

    [Fact]
    public void AFileIsAPrivateCopyWithItsMode()
    {
        using var s = new Scratch();
        s.Write("ctx/run.sh", "#!/bin/sh\n", (UnixFileMode)0x1ED);
        using (var writes = ScratchWrites.Over(s["store"], s["ctx/run.sh"], isDirectory: false))
        {
            Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(writes.Path));
            File.AppendAllText(writes.Path, "echo changed\n");
        }
        Assert.Equal("#!/bin/sh\n", File.ReadAllText(s["ctx/run.sh"]));
        Assert.Empty(Directory.GetFileSystemEntries(s["store/rw-mounts"]));
    }
}
