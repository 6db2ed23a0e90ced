using System.IO.Compression;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Images.Layers;
using Skiff.Images.Service;
using Skiff.Oci.Image;

namespace Skiff.Build.Execution;

/// <summary>A RUN step: its command in the stage's image and configuration, and what the container around it gets.</summary>
public sealed record RunStep
{
    /// <summary>The image the step runs in: the stage so far.</summary>
    public required string ImageId { get; init; }
    /// <summary>The stage's configuration (Env, User, WorkingDir are the command's; it is also the result's).</summary>
    public required ImageExecutionConfig Config { get; init; }
    /// <summary>The command as run: exec form as written, shell form already wrapped in the stage's SHELL.</summary>
    public required IReadOnlyList<string> Command { get; init; }
    /// <summary>The history entry's created_by.</summary>
    public required string CreatedBy { get; init; }
    /// <summary>KEY=VALUE the command sees besides the image's Env (build args in scope), never kept in the image.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];
    /// <summary>docker's RUN --network: default (the engine's default network), none or host.</summary>
    public string Network { get; init; } = "default";
    /// <summary>Mounts the command sees (RUN --mount); their targets stay out of the layer while they hold nothing else.</summary>
    public IReadOnlyList<MountRequest> Mounts { get; init; } = [];
    /// <summary>--add-host values.</summary>
    public IReadOnlyList<string> ExtraHosts { get; init; } = [];
    public IReadOnlyList<UlimitRequest> Ulimits { get; init; } = [];
    public long? ShmSize { get; init; }
}

/// <summary>
/// The steps a build is made of, each making one image of the store from the one before, as docker's classic
/// builder does: RUN in a container of the engine (docker's default capabilities and seccomp profile, no health check,
/// no volumes of the image, no logs) whose changes become a layer; a change of files (COPY, ADD) in a rootfs snapshot
/// of the image, its upper dir the layer; a metadata instruction, a new configuration and an empty-layer history
/// entry. Every step leaves nothing behind when it fails: no container, snapshot or half image.
/// </summary>
public sealed class BuildSteps(EngineHost host)
{
    /// <summary>Runs <paramref name="step"/>'s command, its output copied to <paramref name="stdout"/> and <paramref name="stderr"/> as it comes, and commits its changes.</summary>
    /// <exception cref="BuildException">The command failed (its exit code in the message and <see cref="StepFailedException.ExitCode"/>).</exception>
    public async Task<ImageInfo> RunAsync(RunStep step, Stream stdout, Stream stderr, CancellationToken cancel = default)
    {
        var request = new CreateContainerRequest
        {
            Image = step.ImageId,
            Pull = PullPolicy.Never,
            Options = new RunOptions
            {
                Entrypoint = "",
                Command = step.Command,
                Env = step.Env,
                WorkingDir = step.Config.WorkingDir,
                User = step.Config.User,
                Networks = step.Network switch
                {
                    "default" => [],
                    "none" or "host" => [step.Network],
                    var other => throw new BuildException($"RUN --network={other} is not a network mode a build step can have: use default, none or host."),
                },
                Mounts = step.Mounts,
                ExtraHosts = step.ExtraHosts,
                Ulimits = step.Ulimits,
                ShmSize = step.ShmSize,
                NoHealthcheck = true,
            },
            Log = new LogOptions(null, 1, LogOptions.None),
        };
        var resolved = await host.RunPolicy.ResolveAsync(request, cancellationToken: cancel);
        // An image's VOLUMEs would become anonymous volumes and swallow what the step writes there; docker's
        // BuildKit keeps those writes in the layer too.
        resolved = resolved with { ImageInfo = resolved.ImageInfo with { Config = resolved.ImageInfo.Config is { } config ? config with { Volumes = null } : null } };
        var container = host.ContainerCreation.Create(resolved);
        try
        {
            int exit;
            using (var session = host.Containers.Start(container.Id, attach: true, cancel: cancel)!)
                exit = session.CopyOutput(stdout, stderr) ?? await host.Containers.WaitAsync(container.Id, cancel);
            cancel.ThrowIfCancellationRequested();
            if (exit != 0)
                throw new StepFailedException(exit, $"The command {Quoted(step.Command)} returned a non-zero code: {exit}.");
            var mountTargets = new MountTargets([.. host.ContainerQueries.EngineMountTargets(container), .. step.Mounts.Select(m => m.Target.TrimEnd('/'))]);
            host.Rootfs.Unmount(container.Id);
            return host.ImageStore.Commit(new CommitRequest
            {
                ContainerId = container.Id,
                ImageId = step.ImageId,
                Config = step.Config,
                CreatedBy = step.CreatedBy,
                // The step's own mounts' targets too: a cache or secret mount point is not the image's.
                MountTargets = mountTargets,
                Compression = StepCompression,
                ConsumeRootfs = true,
            });
        }
        finally
        {
            host.Containers.Remove(container.Id, force: true);
        }
    }

    /// <summary>
    /// Makes an image of <paramref name="imageId"/> plus what <paramref name="change"/> writes into a snapshot of it
    /// (its root directory given, as a container would see it), configured with <paramref name="config"/>. When the
    /// change reports that it wrote nothing, the image gets no layer, only the history entry (as BuildKit's WORKDIR
    /// of a directory that exists).
    /// </summary>
    public ImageInfo ChangeFiles(string imageId, ImageExecutionConfig config, string createdBy, Func<string, bool> change)
    {
        string key = "build-" + Convert.ToHexStringLower(Skiff.Interop.SecureRandom.Bytes(16));
        var rootfs = host.Rootfs;
        try
        {
            if (!change(rootfs.Prepare(key, imageId)))
                return Configure(imageId, config, createdBy);
            rootfs.Unmount(key);
            return host.ImageStore.Commit(new CommitRequest
            {
                ContainerId = key,
                ImageId = imageId,
                Config = config,
                CreatedBy = createdBy,
                Compression = StepCompression,
                ConsumeRootfs = true,
            });
        }
        finally
        {
            rootfs.Release(key);
        }
    }

    /// <summary>
    /// A step's layer is written at every rebuild of what changed, and read by the steps after it on this host; gzip's
    /// fastest level costs about a third of the default's CPU for blobs about 40 % larger (see docs/build.md).
    /// </summary>
    private const CompressionLevel StepCompression = CompressionLevel.Fastest;

    /// <summary>Makes an image of <paramref name="imageId"/>'s layers with <paramref name="config"/> and an empty-layer history entry.</summary>
    public ImageInfo Configure(string imageId, ImageExecutionConfig config, string createdBy)
        => host.ImageStore.Configure(new ConfigureRequest { ImageId = imageId, Config = config, CreatedBy = createdBy });

    private static string Quoted(IReadOnlyList<string> command) => "'" + string.Join(' ', command) + "'";
}

/// <summary>A RUN whose command exited with a status other than 0: docker build fails with it.</summary>
public sealed class StepFailedException(int exitCode, string message) : BuildException(ErrorKind.FailedPrecondition, message)
{
    public int ExitCode { get; } = exitCode;
}
