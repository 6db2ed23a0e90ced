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
        const int flags = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
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

    /// <summary>overlayfs reads a 0/0 character device as "deleted in this layer".</summary>
    public static bool IsWhiteout(Libc.Statx status)
        => (status.Mode & Libc.S_IFMT) == Libc.S_IFCHR && status.RdevMajor == 0 && status.RdevMinor == 0;

    /// <summary>Whether the directory at <paramref name="path"/> is marked opaque (hides the same directory below).</summary>
    public static bool IsOpaque(string path) => Libc.GetXattrNoFollow(path, OpaqueXattr) is [(byte)'y'];
}
