using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Layers;

/// <summary>
/// What an overlay of some layer directories (overlayfs format: 0/0 character devices as whiteouts,
/// <c>trusted.overlay.opaque</c> on directories that hide everything below) shows at a path, without mounting it.
/// </summary>
internal sealed class LowerLayersView(IReadOnlyList<string> layers)
{
    public const string OpaqueXattr = "trusted.overlay.opaque";

    /// <summary>The layer directories, nearest (topmost) first.</summary>
    public IReadOnlyList<string> Layers => layers;

    /// <summary>
    /// The entry of the nearest layer that has <paramref name="path"/>, or null when none has it or a nearer layer
    /// hides it (a whiteout at it, a whiteout or non-directory above it, an opaque directory above it). Each layer is
    /// walked without following symlinks: a symlink above the path is not a directory there, and the overlay does not
    /// look through it either.
    /// </summary>
    public Libc.Statx? Find(string[] path)
    {
        int flags = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
        foreach (string layer in layers)
        {
            var current = FileDescriptor.Wrap(Libc.Open(layer, flags, 0), "open", layer);
            try
            {
                bool belowOpaque = false;
                for (int i = 0; i < path.Length; i++)
                {
                    var status = Libc.TryStatAt(current, path[i]);
                    if (status is null && belowOpaque)
                        return null;
                    if (status is null)
                        break;
                    if (IsWhiteout(status.Value))
                        return null;
                    if (i == path.Length - 1)
                        return status;
                    if ((status.Value.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
                        return null;
                    var next = FileDescriptor.Wrap(Libc.OpenAt(current.Fd, path[i], flags, 0), "openat", path[i]);
                    current.Dispose();
                    current = next;
                    // "/." makes lgetxattr read the directory, not the /proc magic link to it.
                    belowOpaque |= IsOpaque($"/proc/self/fd/{current.Fd}/.");
                }
            }
            finally
            {
                current.Dispose();
            }
        }
        return null;
    }

    /// <summary>
    /// The merged listing of one directory as the overlay of <paramref name="directories"/> (that directory in each
    /// layer that contributes to it, topmost first) shows it: each name from the nearest layer that has it, names a
    /// whiteout hides left out. A name that is a directory lists, as <see cref="MergedEntry.Layers"/>, the layers
    /// that contribute to it in turn: down to the first one where it is opaque, and not past one where it is not a
    /// directory (overlayfs stops its lookup there).
    /// </summary>
    public static Dictionary<string, MergedEntry> List(IReadOnlyList<string> directories)
    {
        var nodes = new Dictionary<string, MergedNode>(StringComparer.Ordinal);
        foreach (string directory in directories)
        {
            foreach (string name in FileTree.Names(directory))
            {
                string entry = Path.Combine(directory, name);
                if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, entry) is not { } status)
                    continue;
                bool isDirectory = (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
                if (!nodes.TryGetValue(name, out var node))
                    nodes[name] = node = new MergedNode(IsWhiteout(status) ? null : new MergedEntry(status, entry, []));
                else if (node.Closed)
                    continue;
                // Open: a directory in every layer that has it so far, none opaque; this layer adds to its listing.
                if (isDirectory && node.Entry is not null)
                    node.Layers.Add(entry);
                node.Closed = !isDirectory || node.Entry is null || IsOpaque(entry);
            }
        }
        return nodes.Where(node => node.Value.Entry is not null)
            .ToDictionary(node => node.Key, node => node.Value.Entry! with { Layers = node.Value.Layers }, StringComparer.Ordinal);
    }

    /// <summary>A name while the layers are merged: null <see cref="Entry"/> for a whiteout.</summary>
    private sealed class MergedNode(MergedEntry? entry)
    {
        public MergedEntry? Entry { get; } = entry;
        public List<string> Layers { get; } = [];
        public bool Closed { get; set; }
    }

    /// <summary>overlayfs reads a 0/0 character device as "deleted in this layer".</summary>
    public static bool IsWhiteout(Libc.Statx status)
        => (status.Mode & Libc.S_IFMT) == Libc.S_IFCHR && status.RdevMajor == 0 && status.RdevMinor == 0;

    /// <summary>Whether the directory at <paramref name="path"/> is marked opaque (hides the same directory below).</summary>
    public static bool IsOpaque(string path) => Libc.GetXattrNoFollow(path, OpaqueXattr) is [(byte)'y'];
}

/// <summary>
/// A name in a merged listing (<see cref="LowerLayersView.List"/>): its entry in the nearest layer that has it
/// (<paramref name="Path"/>), and for a directory the layer directories its own listing merges, topmost first.
/// </summary>
internal sealed record MergedEntry(Libc.Statx Status, string Path, IReadOnlyList<string> Layers)
{
    public bool IsDirectory => (Status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
}
