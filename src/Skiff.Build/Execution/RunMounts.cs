using System.Security.Cryptography;
using System.Text;
using Skiff.Build.Context;
using Skiff.Build.Dockerfile;
using Skiff.Engine;
using Skiff.Engine.Specs;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Build.Execution;

/// <summary>
/// A RUN step's <c>--mount</c>s as mounts of its container: a read-only bind of a context path, a cache directory kept
/// in the store across builds (ROOT/build/cache-mounts, by id), a tmpfs, a secret (a file of the step's own in the run
/// root, bound read-only). A read-write bind, a secret as an environment variable and an ssh socket are refused with
/// what to do.
/// </summary>
internal static class RunMounts
{
    public static IReadOnlyList<MountRequest> For(EngineHost host, BuildContext context, IReadOnlyList<RunMount> mounts,
        IReadOnlyDictionary<string, BuildSecret> secrets, StepResources resources)
    {
        var requests = new List<MountRequest>();
        foreach (var mount in mounts)
        {
            if (mount.Type == RunMountType.Secret)
            {
                if (Secret(mount, secrets, resources) is { } secret)
                    requests.Add(secret);
                continue;
            }
            string target = mount.Target ?? throw new BuildException("RUN --mount needs a target (target=/path in the container).");
            requests.Add(mount.Type switch
            {
                RunMountType.Bind => Bind(context, mount, target),
                RunMountType.Cache => Cache(host, mount, target, resources),
                RunMountType.Tmpfs => new MountRequest(MountKind.Tmpfs, null, target, false, mount.Size is { } size ? [$"size={size}"] : []),
                _ => throw new BuildException("RUN --mount=type=ssh is not supported: skiff's builder has no SSH agent forwarding; fetch private sources before the build."),
            });
        }
        return requests;
    }

    /// <summary>
    /// A secret given with --secret, as a file only this step's container sees; null when it was not given and is not
    /// required (BuildKit skips the mount then).
    /// </summary>
    private static MountRequest? Secret(RunMount mount, IReadOnlyDictionary<string, BuildSecret> secrets, StepResources resources)
    {
        if (mount.Env is not null)
            throw new BuildException($"RUN --mount=type=secret,env={mount.Env}: a secret as an environment variable is not supported yet; mount it as a file (target=/run/secrets/{mount.Id}).");
        if (!secrets.TryGetValue(mount.Id!, out var secret))
            return mount.Required
                ? throw new BuildException($"the secret \"{mount.Id}\" is required but was not given: add --secret id={mount.Id},src=FILE.")
                : null;
        return new MountRequest(MountKind.Bind, resources.Write(mount.Id!, secret.Read(), mount.Mode, mount.Uid, mount.Gid), mount.Target!, true, []);
    }

    private static MountRequest Bind(BuildContext context, RunMount mount, string target)
    {
        if (mount.From is not null)
            throw new BuildException("RUN --mount=type=bind,from=... is not supported yet; COPY --from the files into the stage instead.");
        if (!mount.ReadOnly)
            throw new BuildException("RUN --mount=type=bind,rw is not supported yet: a build must not write into its context; drop rw.");
        string source = mount.Source ?? ".";
        // Through the context's own resolution: a source that climbs out of the context (.., a symlink) is refused there.
        var plan = context.Sources.Plan([source], [], parents: false, "RUN --mount");
        var root = plan.Entries.FirstOrDefault(e => e.IsSource) ?? plan.Entries[0];
        return new MountRequest(MountKind.Bind, Path.Combine(context.Directory, root.Source), target, true, []);
    }

    /// <summary>
    /// A cache mount's directory, held for the step: shared with the other builds using it (BuildKit's sharing=shared,
    /// and private, which would want a fresh copy while another holds it), alone with sharing=locked (waiting for the
    /// others); `builder prune` skips it while held.
    /// </summary>
    private static MountRequest Cache(EngineHost host, RunMount mount, string target, StepResources resources)
    {
        string id = mount.Id ?? target;
        var directory = Path.Combine(new BuildStore(host.Options).CacheMounts, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..32]);
        PrivateStore.EnsureDirectory(Path.GetDirectoryName(directory)!);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var lockPath = Path.Combine(directory, "lock");
        resources.Hold(mount.Sharing == CacheSharing.Locked ? Libc.LockFile(lockPath) : Libc.LockFileShared(lockPath));
        var data = Path.Combine(directory, "data");
        if (!Directory.Exists(data))
        {
            // Made under the lock: a prune that removed the directory meanwhile leaves an empty cache, not a missing one.
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllText(Path.Combine(directory, "id"), id);
            Directory.CreateDirectory(data);
            File.SetUnixFileMode(data, (UnixFileMode)mount.Mode);
            Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, data, (uint)mount.Uid, (uint)mount.Gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", data);
        }
        return new MountRequest(MountKind.Bind, data, target, mount.ReadOnly, []);
    }
}
