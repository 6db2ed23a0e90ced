using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// A rootfs per container copied from a plain directory per image (IMAGES/IMAGE_ID): what the engine runs on
/// before the image service's overlay snapshots are wired in, and in tests. Symlinks are copied as links,
/// modes and owners are kept.
/// </summary>
public sealed class DirectoryRootfsProvider(string imagesDirectory, string rootfsDirectory) : IRootfsProvider
{
    public string Prepare(string containerId, string imageId)
    {
        var source = Path.Combine(imagesDirectory, imageId);
        if (!Directory.Exists(source))
            throw new EngineException($"no rootfs for image {imageId} in {imagesDirectory}");
        var target = Path.Combine(rootfsDirectory, containerId);
        try
        {
            Copy(new DirectoryInfo(source), target);
            return target;
        }
        catch
        {
            Release(containerId);
            throw;
        }
    }

    public void Release(string containerId)
    {
        var target = Path.Combine(rootfsDirectory, containerId);
        if (Directory.Exists(target))
            Directory.Delete(target, recursive: true);
    }

    private static void Copy(DirectoryInfo source, string target)
    {
        Directory.CreateDirectory(target);
        // /tmp is 1777 and / is 0755: the copy must keep each directory's own mode.
        using (var root = FileDescriptor.Wrap(Libc.Open("/", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/"))
            Errno.Check(Libc.Chmod(target, (uint)(Libc.TryStatAt(root, source.FullName)!.Value.Mode & 0xFFF)), "chmod", target);
        foreach (var entry in source.EnumerateFileSystemInfos())
        {
            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link)
                File.CreateSymbolicLink(destination, link);
            else if (entry is DirectoryInfo directory)
                Copy(directory, destination);
            else
                File.Copy(entry.FullName, destination);
        }
    }
}
