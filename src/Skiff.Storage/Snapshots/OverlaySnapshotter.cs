using Skiff.Interop;
using Skiff.Oci.Image;
using static Skiff.Interop.Interop;

namespace Skiff.Storage.Snapshots;

/// <summary>
/// Container root filesystems as overlayfs mounts: the committed layers are the lower dirs (shared, never
/// written), and each writable snapshot has its own <c>upper</c> and <c>work</c> dirs next to nothing else, so
/// preparing a container costs two mkdirs whatever the image size. How long lower lists are mounted is
/// explained on <see cref="SnapshotMount"/>.
/// </summary>
public sealed class OverlaySnapshotter(string root) : SnapshotterBase(root)
{
    protected override void Populate(string directory, IReadOnlyList<Digest> chainIds, bool readOnly)
    {
        if (readOnly)
            return;
        string upper = Path.Combine(directory, "upper");
        Directory.CreateDirectory(upper);
        Errno.Check(Libc.Chmod(upper, 0x1ed), "chmod", upper); // the merged root takes the upper dir's mode: 0755
        Directory.CreateDirectory(Path.Combine(directory, "work"));
    }

    /// <summary>The upper dir of a writable snapshot over at least one layer (over none it is a bind-mounted rootfs).</summary>
    protected override string? AdoptableDirectory(string snapshotDirectory)
        => ReadLower(snapshotDirectory).Count > 0 ? Path.Combine(snapshotDirectory, "upper") : null;

    protected override SnapshotMount Describe(string directory, IReadOnlyList<Digest> chainIds, bool readOnly)
    {
        // overlayfs wants the topmost lower dir first.
        var lowers = chainIds.Reverse().ToList();
        if (readOnly)
        {
            if (lowers.Count == 0)
                throw new SnapshotException(ErrorKind.InvalidArgument, "a read-only snapshot needs at least one layer");
            // overlayfs refuses a single lower dir without an upper dir; a read-only bind mount is the same view.
            if (lowers.Count == 1)
                return new SnapshotMount { Type = "bind", Source = LayerPath(lowers[0]), ReadOnly = true };
            return new SnapshotMount
            {
                Type = "overlay",
                Source = "overlay",
                ReadOnly = true,
                LowerDirs = [.. lowers.Select(LayerPath)],
                LowerLinks = () => [.. lowers.Select(ShortLinkPath)],
            };
        }
        string upper = Path.Combine(directory, "upper");
        // No layers (an image FROM scratch): the upper dir alone is the rootfs.
        if (lowers.Count == 0)
            return new SnapshotMount { Type = "bind", Source = upper };
        return new SnapshotMount
        {
            Type = "overlay",
            Source = "overlay",
            LowerDirs = [.. lowers.Select(LayerPath)],
            LowerLinks = () => [.. lowers.Select(ShortLinkPath)],
            UpperDir = upper,
            WorkDir = Path.Combine(directory, "work"),
        };
    }
}
