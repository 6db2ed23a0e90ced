using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Images.Layers;

/// <summary>
/// Container paths the engine mounts over (/proc, /dev, /etc/hosts ...): when the image lacks them, the runtime
/// creates them in the container's upper dir only to have somewhere to mount. docker keeps such paths in an "init"
/// layer under the container's, so `diff` and `commit` never show them; <see cref="LayerChanges"/> and
/// <see cref="TreeArchiver"/> leave them out the same way (see <see cref="MountTargetFilter"/>).
/// </summary>
public sealed class MountTargets
{
    public static readonly MountTargets None = new([]);

    public MountTargets(IEnumerable<string> containerPaths)
    {
        foreach (string path in containerPaths)
        {
            string relative = path.Trim('/');
            if (relative.Length == 0 || !Targets.Add(relative))
                continue;
            for (int slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
                Ancestors.Add(relative[..slash]);
        }
    }

    internal HashSet<string> Targets { get; } = new(StringComparer.Ordinal);
    internal HashSet<string> Ancestors { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Whether an upper-dir path is only there for a mount: a target, or an ancestor directory of one, that holds
/// nothing else (an empty file; a directory whose entries are all left out too), is not opaque, and is new (a
/// directory may also stand over a lower directory: its own change is then the runtime's).
/// </summary>
internal sealed class MountTargetFilter(MountTargets targets, string upperDirectory, LowerLayersView lower)
{
    private readonly Dictionary<string, bool> _decided = new(StringComparer.Ordinal);

    /// <summary><paramref name="relative"/>: the path in the upper dir without a leading "/", e.g. "etc/hosts".</summary>
    public bool Hides(string relative)
    {
        if (!targets.Targets.Contains(relative) && !targets.Ancestors.Contains(relative))
            return false;
        if (_decided.TryGetValue(relative, out bool known))
            return known;
        bool hidden = Decide(relative);
        _decided[relative] = hidden;
        return hidden;
    }

    private bool Decide(string relative)
    {
        string full = Path.Combine(upperDirectory, relative);
        if (Libc.TryStatAt(FileDescriptor.CurrentDirectory, full) is not { } status || LowerLayersView.IsWhiteout(status))
            return false;
        var below = lower.Find(relative.Split('/'));
        uint type = status.Mode & Libc.S_IFMT;
        if (type == Libc.S_IFREG)
            return targets.Targets.Contains(relative) && status.Size == 0 && below is null;
        if (type != Libc.S_IFDIR || LowerLayersView.IsOpaque(full))
            return false;
        if (below is { } old && (old.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            return false;
        return FileTree.Names(full).All(name => Hides(relative + "/" + name));
    }
}
