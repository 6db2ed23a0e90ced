using Skiff.Oci.Image;

namespace Skiff.Storage.Snapshots;

/// <summary>
/// Layer snapshots and container root filesystems. Committed layers are read-only directories keyed by chain ID
/// (<see cref="ChainId"/>), unpacked once and shared by every image that has them; a container gets a writable
/// rootfs made from a stack of them (<see cref="Prepare"/>) or a read-only one (<see cref="View"/>).
/// Chain ID lists are always given bottom layer first, as in an image config's <c>rootfs.diff_ids</c>.
/// </summary>
public interface ISnapshotter
{
    /// <summary>The directory holding everything of this snapshotter.</summary>
    string Root { get; }

    /// <summary>Whether the layer <paramref name="chainId"/> is committed.</summary>
    bool HasLayer(Digest chainId);

    /// <summary>The committed layer's content directory (it may not exist).</summary>
    string LayerPath(Digest chainId);

    /// <summary>
    /// Makes sure layer <paramref name="chainId"/> is committed: if not, calls <paramref name="populate"/> with an
    /// empty staging directory to fill (with overlay whiteouts, as LayerUnpacker writes them) and renames it into
    /// place, so the layer is either absent or complete. Concurrent commits of the same chain ID (threads or
    /// processes) are safe: one rename wins, the others discard their copy. Returns the content directory.
    /// </summary>
    string CommitLayer(Digest chainId, Action<string> populate);

    /// <summary>
    /// Makes layer <paramref name="chainId"/> of the writable snapshot <paramref name="key"/>'s own changes, when they
    /// are kept apart in the layers' format (an overlay upper dir): that directory is moved into the layer store,
    /// <paramref name="prepare"/> is called with its new path to make it exactly what unpacking the layer would
    /// give, and it is published as <see cref="CommitLayer"/> publishes. The snapshot is left without its changes:
    /// only for a snapshot that is unmounted and removed next. False, with nothing done, when the snapshotter keeps
    /// no such directory (copy snapshots, a snapshot of no layers); true without moving anything when the layer is
    /// already committed.
    /// </summary>
    bool TryAdoptLayer(Digest chainId, string key, Action<string> prepare);

    /// <summary>Chain IDs of every committed layer.</summary>
    IReadOnlyList<Digest> Layers();

    /// <summary>Removes a committed layer; false when it is not there. Refused while a container uses it.</summary>
    bool RemoveLayer(Digest chainId);

    /// <summary>Creates the writable snapshot <paramref name="key"/> over <paramref name="chainIds"/> (bottom first) and describes its mount.</summary>
    SnapshotMount Prepare(string key, IReadOnlyList<Digest> chainIds);

    /// <summary>Creates a read-only snapshot <paramref name="key"/> of <paramref name="chainIds"/> (bottom first).</summary>
    SnapshotMount View(string key, IReadOnlyList<Digest> chainIds);

    /// <summary>The mount description of an existing snapshot.</summary>
    SnapshotMount GetMount(string key);

    /// <summary>Mounts snapshot <paramref name="key"/> on <paramref name="target"/> and records it, so <see cref="Remove"/> can undo it.</summary>
    void Mount(string key, string target, OverlayMountMethod method = OverlayMountMethod.Auto);

    /// <summary>Unmounts <paramref name="target"/> of snapshot <paramref name="key"/>.</summary>
    void Unmount(string key, string target);

    /// <summary>Unmounts whatever of snapshot <paramref name="key"/> is still mounted and deletes it; false when it did not exist.</summary>
    bool Remove(string key);

    /// <summary>Keys of the existing snapshots.</summary>
    IReadOnlyList<string> Keys();
}
