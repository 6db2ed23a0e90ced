using Skiff.Engine.Containers;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Engine;

/// <summary>
/// A container's file systems opened for copying in and out (<see cref="ContainerQueries.OpenFiles"/>). Every
/// path is resolved by the kernel inside the container's root (openat2 RESOLVE_IN_ROOT, <see cref="Resolve"/>):
/// a symlink in the container to /etc names the container's /etc, never the host's.
/// </summary>
public sealed class ContainerFiles : IDisposable
{
    /// <summary>How container paths are resolved below <see cref="Locate"/>'s root: confined to it, /proc magic links refused.</summary>
    public const ulong Resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;

    /// <summary>
    /// Where the engine mounts its own file systems and files in the container (/proc, /dev, /etc/hosts ...,
    /// from its config.json): not the user's volumes, binds and tmpfs mounts. `diff` and `commit` leave these
    /// paths out while they are empty mount points, as docker's init layer hides them.
    /// </summary>
    internal static IReadOnlyList<string> EngineMountTargets(ContainerContext context, ContainerRecord container)
    {
        var user = container.Config.Mounts.Select(mount => mount.Destination)
            .Concat(container.Config.Options.Mounts.Select(mount => mount.Target))
            .Select(path => path.TrimEnd('/'))
            .ToHashSet(StringComparer.Ordinal);
        var spec = Skiff.Oci.OciJson.ReadSpec(context.DirectoryOf(container.Id).Config);
        return [.. (spec.Mounts ?? []).Select(mount => mount.Destination.TrimEnd('/')).Where(destination => !user.Contains(destination))];
    }

    /// <summary>
    /// A container's files for `skiff cp`, running or not. A running container is reached through
    /// /proc/PID/root: its own mount namespace, so volumes, bind mounts and tmpfs mounts are there as the
    /// container sees them. A stopped one through its rootfs (mounted again for the call if a reboot unmounted it,
    /// with the container locked until <see cref="Dispose"/> so no start races the unmount) and its
    /// volumes' and bind mounts' host directories, matched by path.
    /// </summary>
    internal static ContainerFiles Open(ContainerContext context, ContainerRecord container)
    {
        if (container.State.Pid > 0 && ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime))
        {
            int fd = Libc.Open($"/proc/{container.State.Pid}/root", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            // Checked after the open: had the pid been reused meanwhile, the descriptor could be another process's root.
            if (fd >= 0 && ProcessIdentity.IsAlive(container.State.Pid, container.State.PidStartTime))
                return new ContainerFiles(container, new FileDescriptor(fd), rootWritable: true, [], release: null);
            if (fd >= 0)
                Libc.Close(fd);
            container = context.Reconcile(context.Require(container.Id)); // it exited just now: its rootfs then
        }

        var containerLock = context.DirectoryOf(container.Id).Lock();
        bool mounted = false;
        var volumes = new List<(string, FileDescriptor, bool)>();
        try
        {
            mounted = context.Rootfs.Remount(container.Id);
            var root = FileDescriptor.Wrap(Libc.Open(container.Config.RootfsPath, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", container.Config.RootfsPath);
            foreach (var mount in container.Config.Mounts)
            {
                int fd = Libc.Open(mount.Source, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
                if (fd >= 0)
                    volumes.Add((ContainerFiles.Clean(mount.Destination), new FileDescriptor(fd), mount.RW));
            }
            var id = container.Id;
            return new ContainerFiles(container, root, !container.Config.Options.ReadOnlyRootfs, volumes, () =>
            {
                if (mounted)
                    context.Rootfs.Unmount(id);
                containerLock.Dispose();
            });
        }
        catch
        {
            foreach (var (_, volume, _) in volumes)
                volume.Dispose();
            if (mounted)
                context.Rootfs.Unmount(container.Id);
            containerLock.Dispose();
            throw;
        }
    }

    private readonly FileDescriptor _root;
    private readonly bool _rootWritable;
    private readonly IReadOnlyList<(string Destination, FileDescriptor Root, bool Writable)> _volumes;
    private readonly HashSet<(uint, uint)> _devices = [];
    private readonly Action? _release;

    internal ContainerFiles(ContainerRecord container, FileDescriptor root, bool rootWritable, IReadOnlyList<(string, FileDescriptor, bool)> volumes, Action? release)
    {
        Name = container.Name;
        _root = root;
        _rootWritable = rootWritable;
        _volumes = volumes;
        _release = release;
        AddDevice(root, "");
        foreach (var (_, volume, _) in volumes)
            AddDevice(volume, "");
        // A running container's own mounts are found where it has them.
        foreach (var mount in container.Config.Mounts)
            AddDevice(root, mount.Destination);
    }

    public string Name { get; }

    /// <summary>
    /// The directory a container path is below and the path relative to it ("." for that directory itself): the
    /// container's root, or for a stopped container the host directory of the volume or bind mount holding it.
    /// <c>Writable</c> is false for a stopped container's `:ro` mount or --read-only rootfs, which the kernel does
    /// not guard here (a running container's own mounts refuse writes themselves).
    /// </summary>
    public (FileDescriptor Root, string Path, bool Writable) Locate(string path)
    {
        var clean = Clean(path);
        foreach (var (destination, volume, writable) in _volumes.OrderByDescending(v => v.Destination.Length))
        {
            if (clean == destination)
                return (volume, ".", writable);
            if (destination == "/" || clean.StartsWith(destination + "/", StringComparison.Ordinal))
                return (volume, clean[(destination.Length + 1)..], writable);
        }
        return (_root, clean == "/" ? "." : clean[1..], _rootWritable);
    }

    /// <summary>
    /// Whether archiving may descend into a directory: only on the container's own file systems (rootfs, volumes,
    /// bind mounts), as docker archives them; a running container's /proc, /sys or /dev are written as empty
    /// directories.
    /// </summary>
    public bool MayEnter(Libc.Statx directory) => _devices.Contains((directory.DevMajor, directory.DevMinor));

    public void Dispose()
    {
        _root.Dispose();
        foreach (var (_, volume, _) in _volumes)
            volume.Dispose();
        _release?.Invoke();
    }

    /// <summary>An absolute path with "." and ".." applied lexically, as the container's root would ("/.." is "/").</summary>
    internal static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                    parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }
        return "/" + string.Join('/', parts);
    }

    private void AddDevice(FileDescriptor root, string path)
    {
        int fd = path.Length == 0 ? -1 : Libc.TryOpenAt2(root, path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, Resolve);
        if (path.Length > 0 && fd < 0)
            return; // a file bind mount, or a path the container removed
        using var opened = fd >= 0 ? new FileDescriptor(fd) : null;
        if (Libc.TryStatAt(opened ?? root, "") is { } status)
            _devices.Add((status.DevMajor, status.DevMinor));
    }
}
