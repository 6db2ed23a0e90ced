using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Storage.Snapshots;

/// <summary>How an overlay mount hands its lower dirs to the kernel (see <see cref="SnapshotMount"/>).</summary>
public enum OverlayMountMethod
{
    /// <summary>Options string with full paths when it fits in a page, else fsconfig "lowerdir+", else short links.</summary>
    Auto,
    /// <summary>mount(2) with <c>lowerdir=</c> full paths.</summary>
    MountOptions,
    /// <summary>fsopen/fsconfig("lowerdir+")/fsmount/move_mount: one parameter per lower dir, no length limit.</summary>
    FsConfig,
    /// <summary>mount(2) with <c>lowerdir=</c> absolute paths through the short <c>l/&lt;id&gt;</c> symlinks.</summary>
    ShortLinks,
}

/// <summary>
/// What to mount for a snapshot: an overlay of committed layers (plus the container's upper and work dirs) or a
/// bind mount of a directory, in the shape containerd's mount descriptions have (type, source, options), with the
/// parts spelled out so a runtime spec or a caller can use them directly.
///
/// <para>Long lower lists. mount(2) copies its options string into one page, so a <c>lowerdir=</c> list over
/// 4095 bytes is refused; with ~100-byte layer paths that is about 40 layers. docker's overlay2 shortens every
/// layer to a symlink <c>l/&lt;26 chars&gt;</c> and mounts with relative names after chdir into its root, but
/// chdir is process-wide and the .NET runtime runs other threads (thread pool, GC, finalizer) that resolve
/// relative paths too, so we cannot borrow the cwd. Instead, when the plain options do not fit we use the
/// new mount API: fsopen("overlay") and one <c>fsconfig(FSCONFIG_SET_STRING, "lowerdir+", dir)</c> per layer
/// (Linux 6.8+), which appends a lower dir at a time and has no overall limit (each value is under 256 bytes),
/// and needs no escaping of ':' or ','. On kernels without it (fsopen ENOSYS, or "lowerdir+" unknown) the
/// options string is built from absolute short-link paths (<c>&lt;root&gt;/l/&lt;16 hex&gt;</c>, ~40% of a full
/// path), which is the docker scheme without the chdir; only when even that is over a page is it an error.</para>
/// </summary>
public sealed record SnapshotMount
{
    private const int MountOptionsLimit = 4095; // one page including the terminating NUL

    /// <summary><c>overlay</c> or <c>bind</c>.</summary>
    public required string Type { get; init; }

    /// <summary><c>overlay</c>, or the directory bind-mounted.</summary>
    public required string Source { get; init; }

    /// <summary>Whether the mount is read-only (a view).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Overlay lower dirs, topmost first (the order of <c>lowerdir=</c>). For a copy snapshot's bind mount, the layers
    /// the copy was made from (what a diff compares it with), not mounted.
    /// </summary>
    public IReadOnlyList<string> LowerDirs { get; init; } = [];

    /// <summary>
    /// Short-link paths for <see cref="LowerDirs"/>, same order (absolute, through <c>l/</c>). Computed only when a
    /// mount needs them: naming a link hashes its chain id, and the first hash loads OpenSSL (milliseconds a
    /// container start does not need to pay).
    /// </summary>
    public Func<IReadOnlyList<string>> LowerLinks { get; init; } = () => [];

    public string? UpperDir { get; init; }
    public string? WorkDir { get; init; }

    /// <summary>The options as mount(8) <c>-o</c> takes them (full paths; informational for long overlay lists).</summary>
    public IReadOnlyList<string> Options => Type == "overlay"
        ? [.. OverlayOptions(LowerDirs)]
        : ["rbind", ReadOnly ? "ro" : "rw"];

    /// <summary>Mounts this snapshot on the existing directory <paramref name="target"/>.</summary>
    public void Mount(string target, OverlayMountMethod method = OverlayMountMethod.Auto)
    {
        target = Path.GetFullPath(target);
        if (Type == "bind")
        {
            Mounts.Mount(Source, target, null, Mounts.MS_BIND | Mounts.MS_REC, null);
            if (ReadOnly)
            {
                try
                {
                    Mounts.Mount("none", target, null, Mounts.MS_BIND | Mounts.MS_REMOUNT | Mounts.MS_RDONLY, null);
                }
                catch
                {
                    Mounts.Unmount(target, Mounts.MNT_DETACH);
                    throw;
                }
            }
            return;
        }
        MountOverlay(target, method);
    }

    /// <summary>Unmounts <paramref name="target"/>; false when nothing was mounted there.</summary>
    public static bool Unmount(string target, bool detach = false)
        => Mounts.Unmount(Path.GetFullPath(target), detach ? Mounts.MNT_DETACH : 0);

    private void MountOverlay(string target, OverlayMountMethod method)
    {
        string fullData = string.Join(',', OverlayOptions(LowerDirs));
        bool plainPaths = LowerDirs.Concat([UpperDir, WorkDir]).All(dir => dir is null || dir.IndexOfAny([',', ':']) < 0);
        switch (method)
        {
            case OverlayMountMethod.MountOptions:
                MountClassic(target, fullData);
                return;
            case OverlayMountMethod.FsConfig:
                if (!TryMountWithFsConfig(target))
                    throw new SnapshotException(ErrorKind.FailedPrecondition, $"overlay mount on {target}: this kernel has no fsopen or no \"lowerdir+\" (Linux 6.8+)");
                return;
            case OverlayMountMethod.ShortLinks:
                MountClassic(target, ShortLinkData());
                return;
        }
        if (plainPaths && fullData.Length <= MountOptionsLimit)
            MountClassic(target, fullData);
        else if (!TryMountWithFsConfig(target))
            MountClassic(target, ShortLinkData());
    }

    private string ShortLinkData()
    {
        var links = LowerLinks();
        if (links.Count != LowerDirs.Count)
            throw new SnapshotException(ErrorKind.Internal, "overlay mount: no short links for the lower dirs");
        return string.Join(',', OverlayOptions(links));
    }

    private IEnumerable<string> OverlayOptions(IReadOnlyList<string> lowers)
    {
        yield return "lowerdir=" + string.Join(':', lowers);
        if (UpperDir is not null)
            yield return "upperdir=" + UpperDir;
        if (WorkDir is not null)
            yield return "workdir=" + WorkDir;
    }

    private void MountClassic(string target, string data)
    {
        if (data.Length > MountOptionsLimit)
            throw new SnapshotException(ErrorKind.ResourceExhausted,
                $"overlay mount on {target}: the options for {LowerDirs.Count} lower dirs are {data.Length} bytes, over the " +
                $"{MountOptionsLimit}-byte mount(2) limit, and this kernel cannot take them one by one (fsconfig \"lowerdir+\", Linux 6.8+)");
        Mounts.Mount("overlay", target, "overlay", ReadOnly ? Mounts.MS_RDONLY : 0, data);
    }

    /// <summary>The new mount API; false when the kernel lacks it or its "lowerdir+" key, so the caller falls back.</summary>
    private bool TryMountWithFsConfig(string target)
    {
        using var context = Mounts.TryFsOpen("overlay");
        if (context is null)
            return false;
        for (int i = 0; i < LowerDirs.Count; i++)
        {
            try
            {
                Mounts.FsConfigSetString(context, "lowerdir+", LowerDirs[i]);
            }
            catch (SyscallException error) when (i == 0 && error.Errno == Mounts.EINVAL)
            {
                return false; // before 6.8: "overlay: Unknown parameter 'lowerdir+'"
            }
        }
        if (UpperDir is not null)
            Mounts.FsConfigSetString(context, "upperdir", UpperDir);
        if (WorkDir is not null)
            Mounts.FsConfigSetString(context, "workdir", WorkDir);
        if (ReadOnly)
            Mounts.FsConfigSetFlag(context, "ro");
        Mounts.FsConfigCreate(context);
        using var mount = Mounts.FsMount(context, ReadOnly ? Mounts.MOUNT_ATTR_RDONLY : 0);
        Mounts.MoveMount(mount, target);
        return true;
    }
}
