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
            throw new EngineException(ErrorKind.NotFound, $"no rootfs for image {imageId} in {imagesDirectory}");
        var target = Path.Combine(rootfsDirectory, containerId);
        try
        {
            TreeCopy.Copy(source, target);
            return target;
        }
        catch
        {
            Release(containerId);
            throw;
        }
    }

    /// <summary>A copied directory is never unmounted: there is nothing to mount again.</summary>
    public bool Remount(string containerId) => false;

    public void Unmount(string containerId)
    {
        // Remount never mounts anything here.
    }

    /// <summary>The copy is all the container's own.</summary>
    public long WritableSize(string containerId) => Skiff.Storage.DirectoryUsage.Bytes(Path.Combine(rootfsDirectory, containerId));

    public void Release(string containerId)
    {
        var target = Path.Combine(rootfsDirectory, containerId);
        if (Directory.Exists(target))
            Directory.Delete(target, recursive: true);
    }
}
