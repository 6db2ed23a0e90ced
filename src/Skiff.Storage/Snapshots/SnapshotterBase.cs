using System.Security.Cryptography;
using System.Text;
using Skiff.Interop;
using Skiff.Oci.Image;
using static Skiff.Interop.Interop;

namespace Skiff.Storage.Snapshots;

/// <summary>
/// What both snapshotters share: the committed layers and the container snapshot directories, both made crash
/// safe the same way as blobs in the content store: built in <c>tmp/</c>, then renamed into place, so a reader
/// (or a restart after a crash) sees a layer or snapshot either complete or not at all.
/// <code>
/// layers/&lt;alg&gt;/&lt;hex&gt;/fs     committed layer content (overlay whiteouts), never written again
/// layers/&lt;alg&gt;/&lt;hex&gt;/link   its short id
/// l/&lt;short id&gt;             symlink to ../layers/&lt;alg&gt;/&lt;hex&gt;/fs (short lowerdir names)
/// snapshots/&lt;key&gt;/         one container snapshot: "lower" (chain ids, bottom first), "mode" (rw|ro),
///                          "mounts" (targets it was mounted on), and the implementation's dirs
/// tmp/&lt;pid&gt;-…               staging; left-overs of dead processes are removed on open
/// </code>
/// </summary>
public abstract class SnapshotterBase : ISnapshotter
{
    protected SnapshotterBase(string root)
    {
        Root = Path.GetFullPath(root);
        PrivateStore.EnsureDirectory(Root);
        foreach (string directory in new[] { LayersDirectory, LinksDirectory, SnapshotsDirectory, TempDirectory })
            Directory.CreateDirectory(directory);
        RemoveStaleStaging();
    }

    public string Root { get; }

    internal string LayersDirectory => Path.Combine(Root, "layers");
    internal string LinksDirectory => Path.Combine(Root, "l");
    internal string SnapshotsDirectory => Path.Combine(Root, "snapshots");
    internal string TempDirectory => Path.Combine(Root, "tmp");

    private string LayerDirectory(Digest chainId) => Path.Combine(LayersDirectory, chainId.Algorithm, chainId.Encoded);

    public string LayerPath(Digest chainId) => Path.Combine(LayerDirectory(chainId), "fs");

    public bool HasLayer(Digest chainId) => Directory.Exists(LayerDirectory(chainId));

    /// <summary>A short, fixed name for a layer: 16 hex digits of sha256(chain id). Deterministic, so concurrent committers agree.</summary>
    internal static string ShortId(Digest chainId)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(chainId.ToString())))[..16];

    internal string ShortLinkPath(Digest chainId) => Path.Combine(LinksDirectory, ShortId(chainId));

    public string CommitLayer(Digest chainId, Action<string> populate)
    {
        if (Directory.Exists(LayerDirectory(chainId)))
            return LayerPath(chainId);
        return Publish(chainId, fs =>
        {
            Directory.CreateDirectory(fs);
            Errno.Check(Libc.Chmod(fs, 0x1ed), "chmod", fs); // 0755 unless the layer sets its root
            populate(fs);
        });
    }

    public bool TryAdoptLayer(Digest chainId, string key, Action<string> prepare)
    {
        ValidateKey(key);
        if (Directory.Exists(LayerDirectory(chainId)))
            return true;
        if (AdoptableDirectory(SnapshotDirectory(key)) is not { } directory || !Directory.Exists(directory))
            return false;
        Publish(chainId, fs =>
        {
            // A rename within the store's file system: the snapshot's files become the layer's, none copied.
            Directory.Move(directory, fs);
            prepare(fs);
        });
        return true;
    }

    /// <summary>
    /// The directory of snapshot <paramref name="snapshotDirectory"/> that holds exactly its changes in the layers'
    /// own format (an overlay upper dir), which <see cref="TryAdoptLayer"/> can make a layer; null when there is none.
    /// </summary>
    protected virtual string? AdoptableDirectory(string snapshotDirectory) => null;

    /// <summary>
    /// Makes the layer <paramref name="chainId"/> from what <paramref name="fill"/> puts at the path it is given (in
    /// staging), made durable and renamed into place; a concurrent commit of the same layer that renamed first wins.
    /// </summary>
    private string Publish(Digest chainId, Action<string> fill)
    {
        string final = LayerDirectory(chainId);
        string staging = CreateStaging("layer");
        try
        {
            fill(Path.Combine(staging, "fs"));
            File.WriteAllText(Path.Combine(staging, "link"), ShortId(chainId));
            EnsureShortLink(chainId);
            Mounts.SyncFs(staging); // content durable before the rename publishes it
            string parent = Path.GetDirectoryName(final)!;
            Directory.CreateDirectory(parent);
            if (!TryRename(staging, final))
            {
                // Another commit of the same chain id won the rename: its copy is as good as ours.
                DeleteTree(staging);
                return LayerPath(chainId);
            }
            Libc.FsyncDirectory(parent);
            return LayerPath(chainId);
        }
        catch
        {
            DeleteTree(staging);
            throw;
        }
    }

    public IReadOnlyList<Digest> Layers()
    {
        var layers = new List<Digest>();
        foreach (string algorithm in Directory.EnumerateDirectories(LayersDirectory).Select(Path.GetFileName).OfType<string>())
        {
            foreach (string encoded in Directory.EnumerateDirectories(Path.Combine(LayersDirectory, algorithm)).Select(Path.GetFileName).OfType<string>())
            {
                if (Digest.TryParse($"{algorithm}:{encoded}", out var chainId))
                    layers.Add(chainId);
            }
        }
        return layers;
    }

    public bool RemoveLayer(Digest chainId)
    {
        string final = LayerDirectory(chainId);
        if (!Directory.Exists(final))
            return false;
        foreach (string key in Keys())
        {
            if (ReadLower(SnapshotDirectory(key)).Contains(chainId))
                throw new SnapshotException(ErrorKind.FailedPrecondition, $"layer {chainId} is used by snapshot \"{key}\"");
        }
        // Rename out of sight first, so the layer vanishes at once, then delete at leisure.
        string doomed = Path.Combine(TempDirectory, $"{Environment.ProcessId}-removed-{Guid.NewGuid():N}");
        if (!TryRename(final, doomed))
            return false;
        File.Delete(ShortLinkPath(chainId));
        DeleteTree(doomed);
        return true;
    }

    public SnapshotMount Prepare(string key, IReadOnlyList<Digest> chainIds) => Create(key, chainIds, readOnly: false);

    public SnapshotMount View(string key, IReadOnlyList<Digest> chainIds) => Create(key, chainIds, readOnly: true);

    private SnapshotMount Create(string key, IReadOnlyList<Digest> chainIds, bool readOnly)
    {
        ValidateKey(key);
        foreach (var chainId in chainIds)
        {
            if (!HasLayer(chainId))
                throw new SnapshotException(ErrorKind.NotFound, $"snapshot \"{key}\": layer {chainId} is not committed");
        }
        string final = SnapshotDirectory(key);
        if (Directory.Exists(final))
            throw new SnapshotException(ErrorKind.AlreadyExists, $"snapshot \"{key}\" already exists");
        string staging = CreateStaging("snapshot");
        try
        {
            File.WriteAllLines(Path.Combine(staging, "lower"), chainIds.Select(id => id.ToString()));
            File.WriteAllText(Path.Combine(staging, "mode"), readOnly ? "ro" : "rw");
            Populate(staging, chainIds, readOnly);
            if (!TryRename(staging, final))
                throw new SnapshotException(ErrorKind.AlreadyExists, $"snapshot \"{key}\" already exists");
        }
        catch
        {
            DeleteTree(staging);
            throw;
        }
        return GetMount(key);
    }

    public SnapshotMount GetMount(string key)
    {
        ValidateKey(key);
        string directory = SnapshotDirectory(key);
        if (!Directory.Exists(directory))
            throw new SnapshotException(ErrorKind.NotFound, $"snapshot \"{key}\" does not exist");
        bool readOnly = File.ReadAllText(Path.Combine(directory, "mode")).Trim() == "ro";
        return Describe(directory, ReadLower(directory), readOnly);
    }

    public void Mount(string key, string target, OverlayMountMethod method = OverlayMountMethod.Auto)
    {
        var mount = GetMount(key);
        target = Path.GetFullPath(target);
        // Recorded before mounting: a crash between the two leaves a record Remove skips, never an unknown mount.
        File.AppendAllLines(Path.Combine(SnapshotDirectory(key), "mounts"), [target]);
        mount.Mount(target, method);
    }

    public void Unmount(string key, string target)
    {
        ValidateKey(key);
        target = Path.GetFullPath(target);
        SnapshotMount.Unmount(target);
        string record = Path.Combine(SnapshotDirectory(key), "mounts");
        if (File.Exists(record))
            File.WriteAllLines(record, File.ReadAllLines(record).Where(line => line != target));
    }

    public bool Remove(string key)
    {
        ValidateKey(key);
        string directory = SnapshotDirectory(key);
        if (!Directory.Exists(directory))
            return false;
        string record = Path.Combine(directory, "mounts");
        if (File.Exists(record))
        {
            var mounted = MountInfo.Read();
            foreach (string target in File.ReadAllLines(record).Distinct())
            {
                // Targets are recorded by Mount and dropped by Unmount, so one still listed and mounted is ours (it
                // was mounted by a process that did not get to unmount it). It may have been mounted more than once.
                while (mounted.Any(entry => entry.MountPoint == target))
                {
                    SnapshotMount.Unmount(target, detach: true);
                    mounted = MountInfo.Read();
                }
            }
        }
        string doomed = Path.Combine(TempDirectory, $"{Environment.ProcessId}-removed-{Guid.NewGuid():N}");
        if (!TryRename(directory, doomed))
            return false;
        DeleteTree(doomed);
        return true;
    }

    public IReadOnlyList<string> Keys()
        => [.. Directory.EnumerateDirectories(SnapshotsDirectory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    /// <summary>Fills the staging directory of a new snapshot (upper/work dirs, or a copied rootfs).</summary>
    protected abstract void Populate(string directory, IReadOnlyList<Digest> chainIds, bool readOnly);

    /// <summary>The mount of a snapshot whose directory is <paramref name="directory"/> (already in place).</summary>
    protected abstract SnapshotMount Describe(string directory, IReadOnlyList<Digest> chainIds, bool readOnly);

    protected string SnapshotDirectory(string key) => Path.Combine(SnapshotsDirectory, key);

    protected static IReadOnlyList<Digest> ReadLower(string directory)
    {
        string path = Path.Combine(directory, "lower");
        return File.Exists(path) ? [.. File.ReadAllLines(path).Where(line => line.Length > 0).Select(Digest.Parse)] : [];
    }

    /// <summary>Keys name directories: letters, digits, '.', '_' and '-', not starting with '.', at most 128.</summary>
    private static void ValidateKey(string key)
    {
        if (key.Length is 0 or > 128 || key[0] == '.' || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            throw new ArgumentException($"invalid snapshot key \"{key}\": use letters, digits, '.', '_' and '-' (not first), at most 128", nameof(key));
    }

    private void EnsureShortLink(Digest chainId)
    {
        string link = ShortLinkPath(chainId);
        string target = Path.Combine("..", "layers", chainId.Algorithm, chainId.Encoded, "fs");
        try
        {
            File.CreateSymbolicLink(link, target);
        }
        catch (IOException) when (new FileInfo(link).LinkTarget == target)
        {
            // Made by a concurrent commit of the same layer.
        }
    }

    private string CreateStaging(string what)
    {
        string path = Path.Combine(TempDirectory, $"{Environment.ProcessId}-{what}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>rename(2) of a directory; false when the destination already exists (someone else won).</summary>
    private static bool TryRename(string from, string to)
    {
        if (Directory.Exists(to))
            return false;
        try
        {
            Directory.Move(from, to);
            return true;
        }
        catch (IOException) when (Directory.Exists(to))
        {
            return false;
        }
    }

    /// <summary>Removes staging left by processes that no longer run (a crash mid-commit).</summary>
    private void RemoveStaleStaging()
    {
        foreach (string entry in Directory.EnumerateFileSystemEntries(TempDirectory))
        {
            string name = Path.GetFileName(entry);
            int dash = name.IndexOf('-');
            if (dash > 0 && int.TryParse(name[..dash], out int pid) && pid != Environment.ProcessId
                && Libc.Kill(pid, 0) != 0 && Errno.Last == Errno.ESRCH)
                DeleteTree(entry);
        }
    }

    /// <summary>Deletes a tree without following symlinks in it, whatever bytes its names are (a container wrote them).</summary>
    protected static void DeleteTree(string path) => FileTree.Delete(path);

    /// <summary>lstat of an absolute path, null when absent.</summary>
    protected static Libc.Statx? Lstat(string path) => Libc.TryStatAt(FileDescriptor.CurrentDirectory, path);
}
