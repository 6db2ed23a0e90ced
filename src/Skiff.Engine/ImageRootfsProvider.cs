using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Storage.Snapshots;

namespace Skiff.Engine;

/// <summary>
/// A container's rootfs from the image store: the image's snapshot (an overlay of its layers with the container's
/// own upper dir) mounted at ROOT/rootfs/ID in the host's mount namespace, where it stays after the command exits.
/// </summary>
public sealed class ImageRootfsProvider(ImageService images) : IRootfsProvider
{
    private string Target(string containerId) => Path.Combine(images.Root, "rootfs", containerId);

    public string Prepare(string containerId, string imageId)
    {
        var target = Target(containerId);
        var mount = images.PrepareRootfs(imageId, containerId);
        try
        {
            PrivateStore.EnsureDirectory(Path.GetDirectoryName(target)!);
            Directory.CreateDirectory(target);
            mount.Mount(target);
            return target;
        }
        catch
        {
            Release(containerId);
            throw;
        }
    }

    public bool Remount(string containerId)
    {
        var target = Target(containerId);
        if (MountInfo.IsMountPoint(target))
            return false;
        Directory.CreateDirectory(target);
        images.Snapshotter.GetMount(containerId).Mount(target);
        return true;
    }

    public void Unmount(string containerId) => SnapshotMount.Unmount(Target(containerId), detach: true);

    /// <summary>The snapshot's upper dir (overlay), or its private copy (copy snapshotter).</summary>
    public long WritableSize(string containerId)
    {
        try
        {
            var mount = images.Snapshotter.GetMount(containerId);
            return Skiff.Storage.DirectoryUsage.Bytes(mount.UpperDir ?? mount.Source);
        }
        catch (SnapshotException)
        {
            return 0; // never prepared, or released meanwhile
        }
    }

    public void Release(string containerId)
    {
        var target = Target(containerId);
        if (Directory.Exists(target))
        {
            SnapshotMount.Unmount(target, detach: true);
            Directory.Delete(target);
        }
        images.RemoveRootfs(containerId);
    }
}
