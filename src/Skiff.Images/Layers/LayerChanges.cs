using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Layers;

/// <summary>docker's change kinds, with the numbers of its API (<c>Kind</c> in <c>GET /containers/ID/changes</c>).</summary>
public enum ChangeKind
{
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

/// <summary>One line of <c>skiff diff</c>: <c>C /etc</c>, <c>A /etc/new</c>, <c>D /etc/gone</c>.</summary>
public sealed record FileChange(ChangeKind Kind, string Path)
{
    public override string ToString() => $"{Kind switch { ChangeKind.Added => 'A', ChangeKind.Deleted => 'D', _ => 'C' }} {Path}";
}

/// <summary>
/// What a container changed, read from its overlay upper dir against the layers below, as docker's overlay2
/// driver reports it: a whiteout is <c>D</c>; an entry the layers below do not show is <c>A</c>; one they show is
/// <c>C</c>, except a directory that was only copied up (same mode, owner and mtime), which is not reported; and
/// the parent of an added or deleted entry is always <c>C</c>. An opaque directory is <c>C</c> and everything in it
/// <c>A</c> (docker reports it as deleted and its content against the hidden layers, which is not what the
/// container sees).
/// </summary>
public static class LayerChanges
{
    /// <summary>
    /// The changes in <paramref name="upperDirectory"/> over <paramref name="lowerDirectories"/> (topmost first, as
    /// an overlay's <c>lowerdir=</c>), sorted by path component by component: a directory comes before its content.
    /// Paths that are only there to be mounted over (<paramref name="mountTargets"/>) are left out, as docker's diff does.
    /// </summary>
    public static IReadOnlyList<FileChange> Read(string upperDirectory, IReadOnlyList<string> lowerDirectories, MountTargets? mountTargets = null)
    {
        var changes = new List<(string[] Path, ChangeKind Kind)>();
        var changedDirectories = new HashSet<string>(StringComparer.Ordinal);
        var lower = new LowerLayersView(lowerDirectories);
        upperDirectory = Path.GetFullPath(upperDirectory);
        var hidden = new MountTargetFilter(mountTargets ?? MountTargets.None, upperDirectory, lower);
        Walk(lower, hidden, upperDirectory, [], underOpaque: false, changes, changedDirectories);
        return Sorted(changes);
    }

    private static void Walk(LowerLayersView lower, MountTargetFilter hidden, string directory, string[] parent, bool underOpaque,
        List<(string[], ChangeKind)> changes, HashSet<string> changedDirectories)
    {
        var names = FileTree.Names(directory);
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string full = Path.Combine(directory, name);
            if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, full) is not { } status)
                continue;
            string[] path = [.. parent, name];
            if (hidden.Hides(string.Join('/', path)))
                continue;
            bool isDirectory = (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
            ChangeKind? kind;
            if (LowerLayersView.IsWhiteout(status))
            {
                kind = ChangeKind.Deleted;
            }
            else
            {
                var below = underOpaque ? null : lower.Find(path);
                kind = below is not { } old ? ChangeKind.Added
                    : isDirectory && (old.Mode & Libc.S_IFMT) == Libc.S_IFDIR && SameDirectory(old, status) ? null
                    : ChangeKind.Modified;
            }
            if (kind is { } recorded)
            {
                changes.Add((path, recorded));
                if (isDirectory)
                    changedDirectories.Add(string.Join('/', path));
                if (recorded != ChangeKind.Modified && parent.Length > 0 && changedDirectories.Add(string.Join('/', parent)))
                    changes.Add((parent, ChangeKind.Modified));
            }
            if (isDirectory)
                Walk(lower, hidden, full, path, underOpaque || LowerLayersView.IsOpaque(full), changes, changedDirectories);
        }
    }

    /// <summary>
    /// The changes in <paramref name="tree"/> (a full copy of the layers, as the copy snapshotter makes a container's
    /// rootfs) over <paramref name="lowerDirectories"/> (topmost first), found by comparing the two trees as docker's
    /// naive diff driver does: a name only the copy has is <c>A</c>, one only the layers have is <c>D</c>, one whose
    /// type, mode, owner, device number or xattrs differ, or (not for a directory) whose size or mtime differ, is
    /// <c>C</c>, and so is a directory with any change inside it. A file rewritten with its old size and mtime put
    /// back is not seen (docker's driver has the same blind spot). Sorted and filtered as <see cref="Read"/>.
    /// </summary>
    public static IReadOnlyList<FileChange> Compare(string tree, IReadOnlyList<string> lowerDirectories, MountTargets? mountTargets = null)
    {
        var changes = new List<(string[] Path, ChangeKind Kind)>();
        tree = Path.GetFullPath(tree);
        var hidden = new MountTargetFilter(mountTargets ?? MountTargets.None, tree, new LowerLayersView(lowerDirectories));
        CompareDirectory(hidden, tree, lowerDirectories, [], changes);
        return Sorted(changes);
    }

    /// <summary>Component by component, so a directory comes before its content.</summary>
    private static List<FileChange> Sorted(List<(string[] Path, ChangeKind Kind)> changes)
    {
        changes.Sort((a, b) => ComparePaths(a.Path, b.Path));
        return [.. changes.Select(change => new FileChange(change.Kind, "/" + string.Join('/', change.Path)))];
    }

    /// <summary>Adds the changes under <paramref name="directory"/>; true when there is any.</summary>
    private static bool CompareDirectory(MountTargetFilter hidden, string directory, IReadOnlyList<string> below, string[] parent,
        List<(string[], ChangeKind)> changes)
    {
        var old = LowerLayersView.List(below);
        bool changed = false;
        foreach (string name in FileTree.Names(directory))
        {
            string entry = Path.Combine(directory, name);
            if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, entry) is not { } status)
                continue;
            old.Remove(name, out var before);
            string[] path = [.. parent, name];
            if (hidden.Hides(string.Join('/', path)))
                continue;
            ChangeKind? kind = before is null ? ChangeKind.Added : Differs(before, status, entry) ? ChangeKind.Modified : null;
            if (kind is { } recorded)
                changes.Add((path, recorded));
            bool changedInside = (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR
                && CompareDirectory(hidden, entry, before is { IsDirectory: true } ? before.Layers : [], path, changes);
            if (changedInside && kind is null)
                changes.Add((path, ChangeKind.Modified));
            changed |= kind is not null || changedInside;
        }
        foreach (string name in old.Keys)
            changes.Add(([.. parent, name], ChangeKind.Deleted));
        return changed || old.Count > 0;
    }

    private static bool Differs(MergedEntry before, Libc.Statx after, string path)
    {
        var old = before.Status;
        if (old.Mode != after.Mode || old.Uid != after.Uid || old.Gid != after.Gid
            || old.RdevMajor != after.RdevMajor || old.RdevMinor != after.RdevMinor)
            return true;
        // A directory's size and mtime follow its entries, whose own changes are what the diff reports.
        if (!before.IsDirectory && (old.Size != after.Size || old.Mtime.Seconds != after.Mtime.Seconds || old.Mtime.Nanoseconds != after.Mtime.Nanoseconds))
            return true;
        var oldXattrs = TreeArchiver.ContentXattrs(before.Path);
        var newXattrs = TreeArchiver.ContentXattrs(path);
        return oldXattrs.Count != newXattrs.Count
            || oldXattrs.Zip(newXattrs).Any(pair => pair.First.Key != pair.Second.Key || !pair.First.Value.AsSpan().SequenceEqual(pair.Second.Value));
    }

    private static bool SameDirectory(Libc.Statx below, Libc.Statx upper)
        => below.Mode == upper.Mode && below.Uid == upper.Uid && below.Gid == upper.Gid
           && below.Mtime.Seconds == upper.Mtime.Seconds && below.Mtime.Nanoseconds == upper.Mtime.Nanoseconds;

    private static int ComparePaths(string[] a, string[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int order = string.CompareOrdinal(a[i], b[i]);
            if (order != 0)
                return order;
        }
        return a.Length.CompareTo(b.Length);
    }
}
