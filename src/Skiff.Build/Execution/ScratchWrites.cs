using Skiff.Interop;
using Skiff.Storage.Snapshots;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Execution;

/// <summary>
/// A writable stand-in for a context path that a <c>RUN --mount=type=bind,rw</c> step may change, so that its writes
/// never reach the context and are gone when the step ends, as BuildKit's: a directory is an overlay whose lower dir
/// is the context directory (nothing is copied; the writes land in an upper dir of the build store), a file is a
/// private copy. Both live in a 0700 directory of ROOT/build/rw-mounts that disposing unmounts and removes.
/// </summary>
internal sealed class ScratchWrites(string directory, string path, bool mounted) : IDisposable
{
    /// <summary>What the container's mount binds: the overlay's merged directory, or the copy.</summary>
    public string Path => path;

    public static ScratchWrites Over(string buildRoot, string source, bool isDirectory)
    {
        var parent = System.IO.Path.Combine(buildRoot, "rw-mounts");
        PrivateStore.EnsureDirectory(buildRoot);
        PrivateStore.EnsureDirectory(parent);
        var scratch = System.IO.Path.Combine(parent, Convert.ToHexStringLower(SecureRandom.Bytes(16)));
        Errno.Check(Libc.Mkdir(scratch, PrivateStore.DirectoryMode), "mkdir", scratch);
        try
        {
            if (!isDirectory)
            {
                var copy = System.IO.Path.Combine(scratch, "file");
                File.Copy(source, copy);
                File.SetUnixFileMode(copy, File.GetUnixFileMode(source));
                return new ScratchWrites(scratch, copy, mounted: false);
            }
            string upper = System.IO.Path.Combine(scratch, "upper"), work = System.IO.Path.Combine(scratch, "work"), merged = System.IO.Path.Combine(scratch, "merged");
            foreach (var made in new[] { upper, work, merged })
                Errno.Check(Libc.Mkdir(made, PrivateStore.DirectoryMode), "mkdir", made);
            new SnapshotMount { Type = "overlay", Source = "overlay", LowerDirs = [source], UpperDir = upper, WorkDir = work }.Mount(merged);
            return new ScratchWrites(scratch, merged, mounted: true);
        }
        catch
        {
            FileTree.Delete(scratch);
            throw;
        }
    }

    public void Dispose()
    {
        if (mounted)
            SnapshotMount.Unmount(path, detach: true);
        FileTree.Delete(directory);
    }
}
