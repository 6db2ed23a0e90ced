using System.Security.Cryptography;
using System.Text;
using Skiff.Build.Context;
using Skiff.Build.Dockerfile;
using Skiff.Engine;
using Skiff.Engine.Specs;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Build.Execution;

/// <summary>What a RUN's <c>--mount</c>s give its container: mounts, and the secrets asked for as environment variables.</summary>
internal sealed record StepMounts(IReadOnlyList<MountRequest> Mounts, IReadOnlyList<string> SecretEnv);

/// <summary>
/// A RUN step's <c>--mount</c>s as mounts of its container: a bind of a context path or of a path of a stage's or
/// image's root filesystem (<c>from=</c>, seen through a snapshot of its own), read-only unless <c>rw</c>, whose writes
/// then go to a scratch layer thrown away after the step (an overlay on a context directory, a copy of a context file,
/// the snapshot's own upper dir for <c>from=</c>), never into the context or the image; a cache directory kept in the
/// store across builds (ROOT/build/cache-mounts, by id); a tmpfs; a secret (a file of the step's own in the run root,
/// bound read-only, and/or an environment variable of this step's process alone). An ssh socket is refused.
/// </summary>
internal static class RunMounts
{
    /// <param name="images">The image ID each <c>from=</c> names (stage or image), resolved by the builder.</param>
    public static StepMounts For(EngineHost host, BuildContext context, IReadOnlyList<RunMount> mounts,
        IReadOnlyDictionary<string, BuildSecret> secrets, IReadOnlyDictionary<string, string> images, StepResources resources)
    {
        var requests = new List<MountRequest>();
        var env = new List<string>();
        foreach (var mount in mounts)
        {
            if (mount.Type == RunMountType.Secret)
            {
                Secret(mount, secrets, resources, requests, env);
                continue;
            }
            string target = mount.Target ?? throw new BuildException("RUN --mount needs a target (target=/path in the container).");
            requests.Add(mount.Type switch
            {
                RunMountType.Bind => Bind(host, context, mount, target, images, resources),
                RunMountType.Cache => Cache(host, mount, target, resources),
                RunMountType.Tmpfs => new MountRequest(MountKind.Tmpfs, null, target, false, mount.Size is { } size ? [$"size={size}"] : []),
                _ => throw new BuildException("RUN --mount=type=ssh is not supported: skiff's builder has no SSH agent forwarding; fetch private sources before the build."),
            });
        }
        return new StepMounts(requests, env);
    }

    /// <summary>
    /// A secret given with --secret: a file only this step's container sees (at its target), and/or with <c>env=</c>
    /// the variable of this step's process (BuildKit's SecretAsEnv; a target too makes both). Nothing when it was not
    /// given and is not required (BuildKit skips the mount then).
    /// </summary>
    private static void Secret(RunMount mount, IReadOnlyDictionary<string, BuildSecret> secrets, StepResources resources,
        List<MountRequest> requests, List<string> env)
    {
        if (!secrets.TryGetValue(mount.Id!, out var secret))
        {
            if (mount.Required)
                throw new BuildException(ErrorKind.NotFound, $"the secret \"{mount.Id}\" is required but was not given: add --secret id={mount.Id},src=FILE (or env=VARIABLE).");
            return;
        }
        var value = secret.Read();
        if (mount.Target is { } target)
            requests.Add(new MountRequest(MountKind.Bind, resources.Write("secret\n" + mount.Id, value, mount.Mode, mount.Uid, mount.Gid), target, true, []));
        if (mount.Env is { } name)
        {
            string text;
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value);
            }
            catch (DecoderFallbackException)
            {
                throw new BuildException($"the secret \"{mount.Id}\" is not UTF-8 text, so it cannot be the environment variable {name}; mount it as a file (target=/run/secrets/{mount.Id}).");
            }
            if (text.Contains('\0'))
                throw new BuildException($"the secret \"{mount.Id}\" holds a NUL byte, which an environment variable cannot; mount it as a file (target=/run/secrets/{mount.Id}).");
            env.Add($"{name}={text}");
        }
    }

    private static MountRequest Bind(EngineHost host, BuildContext context, RunMount mount, string target,
        IReadOnlyDictionary<string, string> images, StepResources resources)
    {
        string source = mount.Source ?? ".";
        // A snapshot of the stage or image of its own: writable (its upper dir), released with the step.
        var tree = mount.From is { } from
            ? new SourceTree(resources.Hold(new SnapshotView(host, images[from])).Path, SourceScope.Rootfs, IgnorePatterns.None)
            : context.Sources;
        // Through the tree's own resolution: a source that climbs out of the context (.., a symlink) is refused there,
        // and a symlink in a root filesystem leads where it would in the container.
        var plan = tree.Plan([source], [], parents: false, "RUN --mount");
        var root = plan.Entries.FirstOrDefault(e => e.IsSource) ?? plan.Entries[0];
        string path = Path.Combine(tree.Root, root.Source);
        if (!mount.ReadOnly && mount.From is null)
            path = resources.Hold(ScratchWrites.Over(new BuildStore(host.Options).Root, path, root.Type == Libc.S_IFDIR)).Path;
        return new MountRequest(MountKind.Bind, path, target, mount.ReadOnly, []);
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
