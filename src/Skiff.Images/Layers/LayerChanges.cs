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
    private static readonly FileDescriptor Cwd = new(Libc.AT_FDCWD, ownsHandle: false);

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
        changes.Sort((a, b) => ComparePaths(a.Path, b.Path));
        return [.. changes.Select(change => new FileChange(change.Kind, "/" + string.Join('/', change.Path)))];
    }

    private static void Walk(LowerLayersView lower, MountTargetFilter hidden, string directory, string[] parent, bool underOpaque,
        List<(string[], ChangeKind)> changes, HashSet<string> changedDirectories)
    {
        var names = Directory.EnumerateFileSystemEntries(directory).Select(entry => Path.GetFileName(entry)!).ToList();
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string full = Path.Combine(directory, name);
            if (Libc.TryStatAt(Cwd, full) is not { } status)
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
