using Skiff.Engine.Containers;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Service;
using Skiff.Oci.Image;

namespace Skiff.Engine;

/// <summary>docker commit's parameters: which container, the new image's names and how it describes itself.</summary>
public sealed record ContainerCommitRequest
{
    /// <summary>The container, by ID or name.</summary>
    public required string Container { get; init; }
    /// <summary>Names for the new image (REPOSITORY[:TAG]); none makes an untagged image.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];
    /// <summary>Dockerfile instructions applied to the run configuration (CMD, ENV, ...), in order.</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];
    public string? Author { get; init; }
    /// <summary>The comment of the image's new history entry.</summary>
    public string? Comment { get; init; }
    /// <summary>Freeze a running container while its changes are read, so the layer is consistent (docker's default).</summary>
    public bool Pause { get; init; } = true;
}

/// <summary>
/// Images made from containers (<c>host.Commits</c>): commit, with a running container paused around it, and the
/// changes a container made to its image. Safe for concurrent calls: the image store and the container's lock
/// order them.
/// </summary>
public sealed class ContainerCommit(ContainerQueries containers, ContainerLifecycle lifecycle, ImageService images, EventService events)
{
    /// <summary>
    /// Makes an image of the container's image plus its changes, configured to run as the container does (docker
    /// commits its command, environment, user ...), and records the container's commit event.
    /// </summary>
    public ImageInfo Commit(ContainerCommitRequest request)
    {
        var container = containers.Get(request.Container);
        var parent = images.Resolve(container.ImageId);
        var commit = new CommitRequest
        {
            ContainerId = container.Id,
            ImageId = parent.Id,
            Config = RunConfig(container, images.Config(parent).Config),
            Changes = request.Changes,
            Author = request.Author,
            Comment = request.Comment,
            CreatedBy = string.Join(' ', container.Config.Entrypoint.Concat(container.Config.Cmd)),
            Names = request.Names,
            MountTargets = new MountTargets(containers.EngineMountTargets(container)),
        };
        bool pause = request.Pause && container.State.Status == ContainerStatus.Running;
        if (pause)
            lifecycle.Pause(container.Id);
        ImageInfo image;
        try
        {
            image = images.Commit(commit);
        }
        finally
        {
            if (pause)
                lifecycle.Unpause(container.Id);
        }
        events.RecordContainer(container, "commit", ("comment", request.Comment ?? ""), ("imageID", image.Id),
            ("imageRef", request.Names.FirstOrDefault() ?? ""));
        return image;
    }

    /// <summary>
    /// What the container added (A), changed (C) and deleted (D) in its rootfs, as docker diff lists it, without the
    /// engine's own mount points (/proc, /etc/hosts ...) while they are empty.
    /// </summary>
    public IReadOnlyList<FileChange> Changes(string container)
    {
        var record = containers.Get(container);
        return images.ContainerChanges(record.Id, new MountTargets(containers.EngineMountTargets(record)));
    }

    /// <summary>
    /// The run configuration the container was created with, in image terms, as docker commits it: its command,
    /// the image's environment with the container's values, its user, working dir and labels; ports and volumes of
    /// the image, and the stop signal and health check in effect.
    /// </summary>
    internal static ImageExecutionConfig RunConfig(ContainerRecord container, ImageExecutionConfig? image)
    {
        var config = container.Config;
        return (image ?? new ImageExecutionConfig()) with
        {
            Entrypoint = config.Entrypoint.Count > 0 ? [.. config.Entrypoint] : null,
            Cmd = config.Cmd.Count > 0 ? [.. config.Cmd] : null,
            Env = ImageChanges.MergeEnv(image?.Env, config.Options.Env),
            User = config.User.Length > 0 ? config.User : null,
            WorkingDir = config.Options.WorkingDir ?? image?.WorkingDir,
            Labels = config.Labels.Count > 0 ? new Dictionary<string, string>(config.Labels) : null,
            StopSignal = config.StopSignal == "SIGTERM" && image?.StopSignal is null ? null : config.StopSignal,
            Healthcheck = config.Healthcheck,
        };
    }
}
